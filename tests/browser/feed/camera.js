// Canvas-stream camera for the browser tests (injected with page.addInitScript before the page's
// own scripts; see feed.mjs). navigator.mediaDevices.getUserMedia returns canvas.captureStream()
// of a canvas on which a timer draws JPEG frames of the real webcam clips (10 fps, frame n of a
// clip = time n/10 s, served under <origin>/__feed/<clip>/<n>.jpg by the test's page.route).
//
// The test switches what the "camera" shows with window.__feed:
//   play(item | [item, ...])   item = {clip, start_s, end_s, loop?: false|true|"bounce", label?}
//                              items play one after the other in real time; an item with `loop`
//                              repeats forever (true: from its start again, "bounce": forwards
//                              then backwards, so there is no jump at the seam); after a
//                              non-looping last item the last frame stays (a frozen camera).
//   preload(items)             fetches the JPEGs of items (resolves with the number of frames)
//   status()                   {playing, frame, drawn, stalls, getUserMedia, timeline, debug}
// It also records a timeline of window.__openfioDebug.state changes (page clock, ms), so the
// test can measure prompt → next state times without its polling delay.
(() => {
  if (window.__feed) return;
  const cfg = Object.assign({ width: 400, height: 300, fps: 10, base: "/__feed/" }, window.__feedConfig || {});
  const period = 1000 / cfg.fps;
  const blobs = new Map(); // "clip/n" → Promise<Blob|null>
  let canvas = null;
  let ctx = null;
  let items = []; // [{clip, first, last, loop, label}]
  let itemIdx = 0;
  let itemT0 = 0;
  let playing = null;
  let frameShown = null; // "clip/n" on the canvas
  let drawn = 0;
  let stalls = 0;
  let busy = false;
  let gumCalls = 0;
  const played = []; // {at, label, clip, start_s, end_s, loop}
  const timeline = []; // {at, state, actionStep}
  const cues = []; // one per analysed frame the widget saw: {at, faces, yaw, pitch, ear, fw, passive, sim, full, progress}
  let lastState;
  let lastAnalysis = null;

  const key = (clip, n) => `${clip}/${n}`;
  const url = (clip, n) => `${cfg.base}${encodeURIComponent(clip)}/${String(n).padStart(5, "0")}.jpg`;

  function load(clip, n) {
    const k = key(clip, n);
    if (!blobs.has(k)) {
      blobs.set(k, fetch(url(clip, n)).then((r) => (r.ok ? r.blob() : null), () => null));
    }
    return blobs.get(k);
  }

  function norm(it) {
    const first = Math.max(0, Math.round(it.start_s * cfg.fps));
    const last = Math.max(first, Math.round(it.end_s * cfg.fps) - 1);
    return { clip: it.clip, first, last, loop: it.loop || false, label: it.label || "", start_s: it.start_s, end_s: it.end_s };
  }

  function framesOf(it) {
    const out = [];
    for (let n = it.first; n <= it.last; n++) out.push(n);
    return out;
  }

  function ensureCanvas() {
    if (canvas) return;
    canvas = document.createElement("canvas");
    canvas.width = cfg.width;
    canvas.height = cfg.height;
    canvas.setAttribute("data-test-feed", "");
    canvas.style.cssText = "position:fixed;left:-10000px;top:0;width:" + cfg.width + "px;height:" + cfg.height + "px;pointer-events:none";
    ctx = canvas.getContext("2d");
    ctx.fillStyle = "#808080";
    ctx.fillRect(0, 0, cfg.width, cfg.height);
    const attach = () => { if (document.body && !canvas.isConnected) document.body.appendChild(canvas); };
    if (document.body) attach();
    else document.addEventListener("DOMContentLoaded", attach, { once: true });
  }

  /** The clip frame number `item` shows `ms` after it started; null once a non-looping item ended. */
  function frameAt(it, ms) {
    const k = Math.floor(ms / period);
    const len = it.last - it.first + 1;
    if (it.loop === "bounce" && len > 1) {
      const cyc = 2 * (len - 1);
      const p = k % cyc;
      return it.first + (p < len ? p : cyc - p);
    }
    if (it.loop) return it.first + (k % len);
    return k < len ? it.first + k : null;
  }

  async function tick() {
    watchDebug();
    if (busy || !items.length) return;
    busy = true;
    try {
      const now = performance.now();
      let n = frameAt(items[itemIdx], now - itemT0);
      while (n === null && itemIdx < items.length - 1) {
        itemT0 += (items[itemIdx].last - items[itemIdx].first + 1) * period;
        itemIdx++;
        played.push({ at: itemT0, label: items[itemIdx].label, clip: items[itemIdx].clip, start_s: items[itemIdx].start_s, end_s: items[itemIdx].end_s, loop: items[itemIdx].loop });
        n = frameAt(items[itemIdx], now - itemT0);
      }
      const it = items[itemIdx];
      if (n === null) n = it.last; // a non-looping last item ended: the camera freezes
      playing = { clip: it.clip, frame: n, label: it.label, item: itemIdx };
      const k = key(it.clip, n);
      if (k === frameShown) return;
      // Look ahead so the next frames are there in time.
      for (let a = 1; a <= 8; a++) {
        const m = frameAt(it, now - itemT0 + a * period);
        if (m !== null) load(it.clip, m);
      }
      const blob = await load(it.clip, n);
      if (!blob) {
        stalls++;
        return;
      }
      const bmp = await createImageBitmap(blob);
      ensureCanvas();
      ctx.drawImage(bmp, 0, 0, cfg.width, cfg.height);
      bmp.close();
      frameShown = k;
      drawn++;
    } catch (e) {
      stalls++;
    } finally {
      busy = false;
    }
  }

  function watchDebug() {
    const d = window.__openfioDebug;
    if (!d) return;
    const st = d.state;
    if (st !== lastState) {
      lastState = st;
      timeline.push({ at: performance.now(), state: st, actionStep: d.actionStep ?? null });
    }
    const a = d.lastAnalysis;
    if (a && a !== lastAnalysis && cues.length < 4000) {
      lastAnalysis = a;
      const c = a.cues || {};
      const p = a.liveness && a.liveness.progress;
      const r = (x, k = 100) => (typeof x === "number" ? Math.round(x * k) / k : null);
      cues.push({
        at: Math.round(performance.now()),
        t: r(c.tMs, 1), // the cue's own time (what blink detection uses)
        state: st,
        faces: c.faces ?? (a.faces ? a.faces.length : null),
        yaw: r(c.yawDeg, 10),
        pitch: r(c.pitchDeg, 10),
        ear: r(c.ear, 1000),
        fw: r(c.faceWidth, 1000),
        passive: r(c.passive, 1000),
        sim: r(c.similarity, 1000),
        blinks: a.liveness ? a.liveness.blinks : null,
        progress: p ? (p.state === "prompt" ? `${p.step}:${p.action}${p.armed ? ":armed" : ""}` : p.state === "failed" ? `failed:${JSON.stringify(p.failure)}` : p.state) : null,
        workerMs: r(a.workerMs, 1),
      });
    }
  }

  function fakeGetUserMedia(constraints) {
    gumCalls++;
    if (constraints && constraints.video === false) return Promise.reject(new DOMException("no video requested", "NotSupportedError"));
    ensureCanvas();
    return Promise.resolve(canvas.captureStream(cfg.fps));
  }

  window.__feed = {
    config: cfg,
    play(what) {
      const list = (Array.isArray(what) ? what : [what]).map(norm);
      if (!list.length) throw new Error("__feed.play: nothing to play");
      items = list;
      itemIdx = 0;
      itemT0 = performance.now();
      played.push({ at: itemT0, label: list[0].label, clip: list[0].clip, start_s: list[0].start_s, end_s: list[0].end_s, loop: list[0].loop });
      for (const it of list) for (const n of framesOf(it).slice(0, 10)) load(it.clip, n);
      tick();
      return itemT0;
    },
    async preload(what) {
      const list = (Array.isArray(what) ? what : [what]).map(norm);
      const got = await Promise.all(list.flatMap((it) => framesOf(it).map((n) => load(it.clip, n))));
      const missing = got.filter((b) => !b).length;
      if (missing) throw new Error(`__feed.preload: ${missing} of ${got.length} frames missing`);
      return got.length;
    },
    now: () => performance.now(),
    cues: (from = 0) => cues.slice(from),
    status() {
      watchDebug();
      const d = window.__openfioDebug || null;
      return {
        now: performance.now(),
        playing,
        drawn,
        stalls,
        getUserMedia: gumCalls,
        played: played.slice(),
        timeline: timeline.slice(),
        cues: cues.length,
        debug: d && { state: d.state, actionStep: d.actionStep ?? null, history: (d.history || []).slice() },
      };
    },
  };

  const md = navigator.mediaDevices;
  if (md) {
    try {
      md.getUserMedia = fakeGetUserMedia;
    } catch {
      Object.defineProperty(md, "getUserMedia", { value: fakeGetUserMedia, configurable: true, writable: true });
    }
  }
  setInterval(tick, period);
  // The debug state is sampled more often than frames are drawn, for timings.
  setInterval(watchDebug, 20);
})();
