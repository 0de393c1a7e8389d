// The canvas-stream camera and the prompt auto-responder of the liveness tests.
//
// installFeed(ctx, edge)   before openFio(): the page's getUserMedia returns a canvas stream on
//                          which camera.js draws JPEG frames of the real clips at 10 fps
//                          (fixtures/data/frames10/<clip>/<n>.jpg, served from disk through
//                          page.route under <edge>/__feed/). With `{camera: false}` only the
//                          debug-state timeline is recorded (y4m attack feeds).
// loadSegments()           fixtures/segments.json ({segments: [{clip, action, start_s, end_s,
//                          evidence}]}, action = fio-core camelCase or "neutral");
// clipPlan(segs, clip)     what a ceremony resting on `clip` plays: a resting stretch (with a
//                          recognisable blink if the clip has one) and, per action, the segments
//                          that clear the shipped threshold (fio-core's Thresholds::DEFAULT, from
//                          js/generated/core-tables.js) by MARGIN, measured from that resting pose.
// Responder                polls window.__openfioDebug (the widget's debug state, faceIO option
//                          {debug: true}); when it becomes `action:X` (a new actionStep), plays a
//                          real segment of the clip showing X and then the resting neutral again.
//                          mode "follow" answers prompts, "ignore" keeps resting and blinking
//                          (eyes kept open for a blink prompt): a live user who does not do what
//                          is asked; "watch" only records (fake-camera feeds).
// openLive / runLive      a page with the camera (and optional challenge filter) / one ceremony on
//                          it with a responder: the harness result plus prompts, timings,
//                          window.__openfioDebug.liveness and <phase>-trace.json (every analysed
//                          frame's cues as the widget saw them) in artifacts/browser/<test>/.
// liveCeremony()           openLive + runLive + close.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LIVENESS_THRESHOLDS } from "../../../js/generated/core-tables.js";
import { FRAMES10_DIR, ROOT, ceremony, launch, openFio } from "../harness.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
export const CAMERA_JS = join(HERE, "camera.js");
export const SEGMENTS_FILE = process.env.OPENFIO_SEGMENTS || join(ROOT, "fixtures/segments.json");
export const ACTIONS = Object.freeze(["turnLeft", "turnRight", "blink", "lookUp", "comeCloser"]);
const FPS = 10;

const traceCount = new Map();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Makes sure fixtures/data/frames10/<clip>/ exists (make-videos.sh extracts them). */
export function requireFrames(clips = ["cap12", "cap13"]) {
  const missing = () => clips.filter((c) => !existsSync(join(FRAMES10_DIR, c, ".complete")));
  if (missing().length) {
    const r = spawnSync("bash", [join(ROOT, "tests/browser/make-videos.sh")], { stdio: "inherit" });
    if (r.status !== 0 || missing().length) throw new Error(`frames missing for ${missing().join(", ")} (bash tests/browser/make-videos.sh)`);
  }
  return Object.fromEntries(clips.map((c) => [c, readdirSync(join(FRAMES10_DIR, c)).filter((f) => f.endsWith(".jpg")).length]));
}

/**
 * Installs the canvas camera (or, with `camera: false`, only the debug timeline) in `ctx.page`.
 * Must run before openFio() so the page's getUserMedia is the canvas one from the start.
 */
export async function installFeed(ctx, edge, { camera = true, width = 400, height = 300 } = {}) {
  const { page } = ctx;
  if (camera) {
    requireFrames();
    await page.route(`${edge.url}/__feed/**`, async (route) => {
      const m = new URL(route.request().url()).pathname.match(/^\/__feed\/(cap1[23])\/(\d{5})\.jpg$/);
      const file = m && join(FRAMES10_DIR, m[1], `${m[2]}.jpg`);
      if (!file || !existsSync(file)) return route.fulfill({ status: 404, body: "no such frame" });
      return route.fulfill({ status: 200, contentType: "image/jpeg", body: readFileSync(file), headers: { "cache-control": "no-store" } });
    });
  }
  await page.addInitScript((cfg) => { window.__feedConfig = cfg; }, { width, height, fps: FPS, base: "/__feed/" });
  if (camera) {
    await page.addInitScript({ path: CAMERA_JS });
  } else {
    // Timeline only: the same script without touching getUserMedia.
    const src = readFileSync(CAMERA_JS, "utf8").replace("const md = navigator.mediaDevices;", "const md = null;");
    await page.addInitScript({ content: src });
  }
}

// ---------------------------------------------------------------------------------------------
// Segments

/**
 * The shipped liveness thresholds (fio-core's Thresholds::DEFAULT, generated into
 * js/generated/core-tables.js, which `cargo test -p fio-core` keeps current), so segment
 * filtering follows them; browser-tests.sh builds the wasm from the same source.
 */
export function livenessThresholds() {
  const t = LIVENESS_THRESHOLDS;
  const th = {
    turn_yaw_deg: t.turnYawDeg,
    look_up_pitch_deg: t.lookUpPitchDeg,
    closer_scale: t.closerScale,
    blink_closed_ratio: t.blinkClosedRatio,
    action_timeout_ms: t.actionTimeoutMs,
  };
  // A renamed Rust field must fail here, not turn into NaN strengths that filter every segment.
  for (const [k, v] of Object.entries(th)) {
    if (!Number.isFinite(v)) throw new Error(`js/generated/core-tables.js: LIVENESS_THRESHOLDS has no ${k}`);
  }
  return { ...th, source: "js/generated/core-tables.js" };
}

// A segment must clear the threshold by this margin, measured from the resting pose the test
// plays before the prompts (the widget's baseline): the browser measures JPEG frames at its own
// analysis times and needs the pose on 2 consecutive analysed frames, so a segment at 1.05× the
// threshold failed 4 tries in a row (cap13 turnLeft against cap13's rest).
export const MARGIN = 1.15;

/**
 * How clearly a segment shows its action, in units of the shipped threshold (≥ 1 = recognisable),
 * measured from `base` ({yaw, pitch, width}: the resting pose before the prompts; fio-vision's
 * convention, pitch positive downwards) from the evidence `fio-eval segments` wrote, else from the
 * segment's own rest; null when there is no evidence to judge by.
 */
export function segmentStrength(seg, th, base = null) {
  const e = seg.evidence || {};
  const fin = Number.isFinite;
  switch (seg.action) {
    case "turnLeft":
    case "turnRight": {
      const sign = seg.action === "turnLeft" ? 1 : -1; // turnLeft = positive yaw
      if (base && fin(e.peak_yaw_deg)) return (sign * (e.peak_yaw_deg - base.yaw)) / th.turn_yaw_deg;
      return fin(e.delta_deg) ? Math.abs(e.delta_deg) / th.turn_yaw_deg : null;
    }
    case "lookUp":
      if (base && fin(e.peak_pitch_deg)) return (base.pitch - e.peak_pitch_deg) / th.look_up_pitch_deg;
      return fin(e.up_deg) ? e.up_deg / th.look_up_pitch_deg : null;
    case "comeCloser":
      if (base && fin(e.peak_width_px) && base.width > 0) return (e.peak_width_px / base.width - 1) / (th.closer_scale - 1);
      return fin(e.scale) ? (e.scale - 1) / (th.closer_scale - 1) : null;
    case "blink":
      // closed/open eye ratio against the detector's ratio
      return fin(e.ratio) && e.ratio > 0 ? th.blink_closed_ratio / e.ratio : null;
    default:
      return null;
  }
}

/**
 * fixtures/segments.json as `{file, th, all, neutral, blinks, clips: {clip: {rest}}}`; the actions
 * a ceremony can answer depend on the clip played before the prompts: clipPlan(). Throws a clear
 * message when the file is absent.
 */
export function loadSegments(file = SEGMENTS_FILE) {
  if (!existsSync(file)) {
    throw new Error(`${file} is missing (cargo run --release -p fio-cli -- mesh fixtures/data/video/<clip>.y4m --segments --json)`);
  }
  const text = readFileSync(file, "utf8");
  if (!text.trim()) throw new Error(`${file} is empty (being written?)`);
  const raw = JSON.parse(text);
  const th = livenessThresholds();
  const all = (Array.isArray(raw) ? raw : raw.segments || []).filter(
    (s) => s && typeof s.clip === "string" && typeof s.action === "string" && Number.isFinite(s.start_s) && Number.isFinite(s.end_s) && s.end_s > s.start_s,
  );
  const clips = {};
  for (const c of raw.clips || []) if (c && c.clip) clips[c.clip] = { rest: c.rest || null };
  const blinks = all.filter((x) => x.action === "blink");
  for (const b of blinks) b.strength = segmentStrength(b, th);
  return { file, th, all, clips, neutral: all.filter((x) => x.action === "neutral"), blinks };
}

const overlaps = (a, b) => a.clip === b.clip && a.start_s < b.end_s && b.start_s < a.end_s;
const round1 = (x) => Math.round(x * 10) / 10;
const recognisable = (x) => x.strength === null || x.strength === undefined || x.strength >= MARGIN;

/**
 * The resting stretches of `clip` to play: `capture` (around a blink the detector recognises,
 * played back and forth, so the user blinks every ~2 s while holding still; a calm neutral
 * segment when the clip has no such blink) and `quiet` (a neutral segment with no blink at all),
 * plus `near`, the neutral segment whose pose the capture shows (the prompts' baseline).
 */
export function restPlan(segs, clip) {
  const blinks = segs.blinks.filter((b) => b.clip === clip && recognisable(b)).sort((a, b) => (b.strength ?? 1) - (a.strength ?? 1));
  const allBlinks = segs.blinks.filter((b) => b.clip === clip);
  const calm = (n) => (n.evidence?.yaw_range_deg ?? 0) + (n.evidence?.pitch_range_deg ?? 0);
  const neutrals = segs.neutral.filter((n) => n.clip === clip && n.end_s - n.start_s >= 2).sort((a, b) => calm(a) - calm(b));
  const free = (n) => !allBlinks.some((b) => overlaps(b, n));
  const quietSeg = neutrals.find(free) || neutrals[0] || null;
  const quiet = quietSeg && { clip, start_s: quietSeg.start_s, end_s: round1(Math.min(quietSeg.end_s, quietSeg.start_s + 6)), loop: "bounce", label: `rest, no blink ${clip} ${quietSeg.start_s}–${round1(Math.min(quietSeg.end_s, quietSeg.start_s + 6))} s` };
  let capture = null;
  let near = quietSeg;
  // The strongest recognisable blink whose surroundings are a resting pose: next to (≤ 1.5 s
  // from) a neutral segment and away from every listed head action (also those below threshold).
  const moves = segs.all.filter((x) => x.clip === clip && x.action !== "neutral" && x.action !== "blink");
  const nearOf = (w) => segs.neutral.find((n) => n.clip === clip && w.start_s <= n.end_s + 1.5 && w.end_s >= n.start_s - 1.5);
  const windowOf = (b) => ({ clip, start_s: Math.max(0, b.start_s - 1.2), end_s: b.end_s + 0.5 });
  const b = blinks.find((x) => nearOf(windowOf(x)) && !moves.some((m) => overlaps(m, windowOf(x))));
  if (b) {
    // ~1.2 s of open eyes before the blink, the blink, and its reopening; not across another blink.
    let start = Math.max(0, b.start_s - 1.2);
    let end = b.end_s + 0.5;
    for (const o of allBlinks) {
      if (o === b) continue;
      if (o.end_s <= b.start_s && o.end_s + 0.3 > start) start = o.end_s + 0.3;
      if (o.start_s >= b.end_s && o.start_s - 0.3 < end) end = o.start_s - 0.3;
    }
    capture = { clip, start_s: round1(start), end_s: round1(end), loop: "bounce", label: `rest+blink ${clip} ${round1(start)}–${round1(end)} s (blink ${b.start_s}–${b.end_s})` };
    near = nearOf(windowOf(b));
  } else if (quiet) {
    capture = { ...quiet, label: `rest ${clip} ${quiet.start_s}–${quiet.end_s} s (the clip has no recognisable blink)` };
  }
  return { capture, quiet: quiet || capture, near };
}

/**
 * What a ceremony whose camera rests on `clip` can answer: `{rest, base, options: {action:
 * [segment, strongest first, the clip's own first]}, answerable, missing, rejected}`. Segments
 * of either clip count, measured from this clip's resting pose (`base`); those under
 * MARGIN × the threshold are in `rejected`.
 */
export function clipPlan(segs, clip) {
  const rest = restPlan(segs, clip);
  const r = segs.clips[clip]?.rest || {};
  const e = rest.near?.evidence || {};
  const base = { yaw: e.yaw_deg ?? r.yaw_deg, pitch: e.pitch_deg ?? r.pitch_deg, width: r.face_width_px };
  const ok = Number.isFinite(base.yaw) && Number.isFinite(base.pitch) && Number.isFinite(base.width);
  const options = {};
  const rejected = [];
  for (const a of ACTIONS) {
    const list = segs.all
      .filter((x) => x.action === a)
      .map((x) => ({ ...x, strength: segmentStrength(x, segs.th, ok ? base : null) }));
    for (const x of list) if (!recognisable(x)) rejected.push(`${a} ${x.clip} ${x.start_s}–${x.end_s} (${x.strength.toFixed(2)})`);
    options[a] = list
      .filter(recognisable)
      .sort((x, y) => (x.clip === clip ? 0 : 1) - (y.clip === clip ? 0 : 1) || (y.strength ?? 1) - (x.strength ?? 1));
  }
  const answerable = ACTIONS.filter((a) => options[a].length);
  return { clip, rest, base: ok ? base : null, options, answerable, missing: ACTIONS.filter((a) => !options[a].length), rejected };
}

/** One line about what a clip's ceremony can answer, for the test log. */
export function planSummary(segs, plan) {
  const th = segs.th;
  const b = plan.base;
  return `${plan.clip}: thresholds (${th.source}) turn ${th.turn_yaw_deg}°, look up ${th.look_up_pitch_deg}°, closer ×${th.closer_scale}, blink ratio ${th.blink_closed_ratio}; ` +
    `rest ${plan.rest.capture?.label}${b ? ` (yaw ${b.yaw}°, pitch ${b.pitch}°, width ${b.width} px)` : ""}; ` +
    `answerable ${plan.answerable.map((a) => `${a}×${plan.options[a].length}`).join(", ") || "none"}; not answerable: ${plan.missing.join(", ") || "none"}; ` +
    `segments under ${MARGIN}× the threshold from this rest: ${plan.rejected.join(", ") || "none"}`;
}

/** What is played for a prompt: the segment with a short lead-in and tail (more around blinks). */
function responseItem(seg, action) {
  const pre = action === "blink" ? 0.6 : 0.2;
  const post = action === "blink" ? 0.6 : 0.3;
  return { clip: seg.clip, start_s: round1(Math.max(0, seg.start_s - pre)), end_s: round1(seg.end_s + post), loop: false, label: `${action} ${seg.clip} ${seg.start_s}–${seg.end_s} s` };
}

// ---------------------------------------------------------------------------------------------
// Challenge restriction (only while segments.json lacks an action)

/**
 * Makes the page's POST /v1/<app>/session return a challenge the test can use: the request is
 * re-sent to the real edge (route.fetch) until `accept(policy.actions)` holds (at most
 * `maxTries`), and that real answer is handed to the page. `accept` may be an array of allowed
 * actions. Each discarded challenge is a real, unused one that simply expires. Returns
 * `{sessions: [{actions, used, status}]}`.
 */
export async function restrictChallengeActions(page, edge, accept, { maxTries = 25, log = () => {} } = {}) {
  const ok = Array.isArray(accept) ? (actions) => actions.every((a) => accept.includes(a)) : accept;
  const sessions = [];
  await page.route(`${edge.url}/v1/*/session`, async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    let last = null;
    for (let i = 0; i < maxTries; i++) {
      const response = await route.fetch();
      let body = null;
      try {
        body = await response.json();
      } catch { /* not JSON: hand it over as is */ }
      const actions = body?.policy?.actions;
      const use = response.status() !== 200 || !Array.isArray(actions) || ok(actions);
      sessions.push({ actions: actions || null, used: use, status: response.status() });
      last = response;
      if (use) {
        log(`session: challenge ${JSON.stringify(actions)}${i ? ` (after ${i} re-issued session${i > 1 ? "s" : ""} whose challenge the test could not use)` : ""}`);
        return route.fulfill({ response });
      }
    }
    log(`session: no usable challenge in ${maxTries} tries; using the last`);
    return route.fulfill({ response: last });
  });
  return { sessions };
}

// ---------------------------------------------------------------------------------------------
// The responder

export class Responder {
  /**
   * @param ctx   harness launch() context
   * @param opts  {segs, clip, mode: "follow"|"ignore"|"watch", shoot: true, prefix}
   */
  constructor(ctx, { segs = null, clip = "cap13", mode = "follow", shoot = true, prefix = ctx.prefix || "" } = {}) {
    this.ctx = ctx;
    this.prefix = prefix;
    this.segs = segs;
    this.clip = clip;
    this.mode = mode;
    this.shoot = shoot;
    this.plan = segs && mode !== "watch" ? clipPlan(segs, clip) : null;
    this.rest = this.plan ? this.plan.rest : { capture: null, quiet: null };
    this.prompts = []; // {step, action, promptAt, seenAt, responses: [{label, at}], endAt, next, ms}
    this.errors = [];
    this.stopped = false;
    this.tries = new Map();
    this.lastStatus = null;
    this.shots = Promise.resolve();
  }

  log(s) {
    this.ctx.log(`responder: ${s}`);
  }

  /** Fetches every frame the responder may play, then plays the resting stretch. */
  async start() {
    const { page } = this.ctx;
    if (this.mode !== "watch") {
      if (!this.rest.capture) throw new Error(`segments.json has no neutral segment of ${this.clip}`);
      const items = [this.rest.capture, this.rest.quiet];
      if (this.mode === "follow") {
        for (const a of this.plan.answerable) for (const x of this.plan.options[a]) items.push(responseItem(x, a));
      }
      const t0 = Date.now();
      const n = await page.evaluate((items) => window.__feed.preload(items), items);
      this.log(`preloaded ${n} frames in ${Date.now() - t0} ms; rest ${this.rest.capture.label}; quiet ${this.rest.quiet.label}`);
      await page.evaluate((it) => window.__feed.play(it), this.rest.capture);
    }
    this.loop = this.run();
    return this;
  }

  async stop() {
    this.stopped = true;
    await this.loop;
    await this.shots;
    return this.report();
  }

  async run() {
    const { page } = this.ctx;
    let cur = null; // the prompt being answered
    while (!this.stopped) {
      let st;
      try {
        st = await page.evaluate(() => window.__feed.status());
      } catch (e) {
        if (this.stopped || page.isClosed()) break;
        this.errors.push(e.message);
        await sleep(100);
        continue;
      }
      this.lastStatus = st;
      const state = st.debug?.state;
      const m = typeof state === "string" && state.match(/^action:(\w+)$/);
      const key = m ? `${st.debug.actionStep}:${m[1]}` : null;
      if (cur && key !== cur.key) {
        // The prompt is over (next step, or the ceremony moved on / failed).
        this.closePrompt(cur, st);
        cur = null;
        if (!m && this.mode !== "watch") await this.play(this.rest.capture);
      }
      if (m && !cur) {
        const action = m[1];
        const tl = [...st.timeline].reverse().find((x) => x.state === state);
        cur = { key, step: st.debug.actionStep, action, promptAt: tl ? tl.at : st.now, seenAt: st.now, responses: [], endAt: null, next: null, ms: null };
        this.prompts.push(cur);
        this.log(`prompt step ${cur.step} ${action} (seen ${Math.round(st.now - cur.promptAt)} ms after it appeared)`);
        await this.respond(cur);
        this.screenshot(cur);
      } else if (cur && this.mode === "follow") {
        // Not recognised yet: once the segment and 1.5 s of rest are over, try another one.
        const last = cur.responses[cur.responses.length - 1];
        if (last && st.now > last.at + last.durMs + 1500) await this.respond(cur);
      }
      await sleep(60);
    }
  }

  async play(items) {
    const list = Array.isArray(items) ? items : [items];
    return this.ctx.page.evaluate((l) => window.__feed.play(l), list);
  }

  async respond(cur) {
    if (this.mode === "watch") return;
    if (this.mode === "ignore") {
      // A live user who does not do what is asked: keeps resting and blinking naturally; for a
      // blink prompt, keeps the eyes open (a blink would answer it).
      if (!cur.responses.length) {
        const item = cur.action === "blink" ? this.rest.quiet : this.rest.capture;
        const at = await this.play(item);
        cur.responses.push({ label: item.label, at, durMs: Infinity });
        this.log(`ignores the ${cur.action} prompt: ${item.label}`);
      }
      return;
    }
    const options = this.plan.options[cur.action];
    if (!options.length) {
      this.log(`no segment shows ${cur.action}: keeps resting`);
      cur.responses.push({ label: "none", at: Infinity, durMs: 0 });
      return;
    }
    const n = this.tries.get(cur.action) ?? 0;
    this.tries.set(cur.action, n + 1);
    const item = responseItem(options[n % options.length], cur.action);
    const at = await this.play([item, this.rest.capture]);
    cur.responses.push({ label: item.label, at, durMs: (item.end_s - item.start_s) * 1000 });
    this.log(`plays ${item.label} (${Math.round(at - cur.promptAt)} ms after the prompt), then ${this.rest.capture.label}`);
  }

  closePrompt(cur, st) {
    const i = st.timeline.findIndex((x) => x.at > cur.promptAt && x.state !== `action:${cur.action}`);
    const end = i >= 0 ? st.timeline[i] : { at: st.now, state: st.debug?.state };
    cur.endAt = end.at;
    cur.next = end.state;
    cur.ms = Math.round(end.at - cur.promptAt);
    const r = cur.responses[0];
    cur.fromResponseMs = r && Number.isFinite(r.at) ? Math.round(end.at - r.at) : null;
    this.log(`prompt step ${cur.step} ${cur.action} ended after ${cur.ms} ms → ${end.state}${st.debug?.actionStep !== undefined ? ` (actionStep ${st.debug.actionStep})` : ""}`);
  }

  screenshot(cur) {
    if (!this.shoot) return;
    const { page, dir } = this.ctx;
    const file = join(dir, `${this.prefix}prompt-${cur.step}-${cur.action}.png`);
    this.shots = this.shots.then(async () => {
      await sleep(350);
      await page.screenshot({ path: file }).catch((e) => this.log(`screenshot ${file} failed: ${e.message}`));
    });
  }

  report() {
    return {
      mode: this.mode,
      clip: this.clip,
      rest: this.rest,
      prompts: this.prompts.map((p) => ({
        step: p.step,
        action: p.action,
        promptAt: p.promptAt,
        ms: p.ms,
        fromResponseMs: p.fromResponseMs ?? null,
        next: p.next,
        responses: p.responses.map((r) => ({ label: r.label, afterPromptMs: Number.isFinite(r.at) ? Math.round(r.at - p.promptAt) : null })),
      })),
      feed: this.lastStatus && { drawn: this.lastStatus.drawn, stalls: this.lastStatus.stalls, getUserMedia: this.lastStatus.getUserMedia },
      timeline: this.lastStatus?.timeline || [],
      errors: this.errors,
    };
  }
}

/** window.__openfioDebug's liveness evidence after a ceremony. */
export async function debugLiveness(page) {
  return page.evaluate(() => {
    const d = window.__openfioDebug || {};
    return {
      state: d.state,
      history: (d.history || []).slice(),
      policy: d.policy ? { livenessMode: d.policy.livenessMode, actions: d.policy.actions } : null,
      liveness: d.liveness ?? null,
      lastError: d.lastError ?? null,
    };
  });
}

/** "turnLeft 2.3 s, blink 1.1 s" */
export function promptSummary(report) {
  return report.prompts.map((p) => `${p.action} ${p.ms === null ? "?" : (p.ms / 1000).toFixed(1)} s → ${p.next}`).join(", ") || "no prompts";
}

/**
 * A fresh browser on the demo page with faceIO({debug: true}) for `app`: the canvas camera when
 * `feed` is set (else Chromium's fake camera plays `videoFile`), and, with `restrict`, sessions
 * limited to those actions (restrictChallengeActions). Returns the launch() context plus
 * `sessions`.
 */
export async function openLive(t, edge, app, { phase = "", feed = true, videoFile = null, restrict = null, debug = true } = {}) {
  const ctx = await launch(t, { videoFile: feed ? undefined : videoFile, phase });
  await installFeed(ctx, edge, { camera: !!feed });
  if (restrict) ctx.sessions = await restrictChallengeActions(ctx.page, edge, restrict, { log: (s) => ctx.log(s) });
  await openFio(ctx.page, edge, app.publicId, { options: { debug } });
  return ctx;
}

/**
 * Runs one ceremony on an openLive() page with a responder (`feed` = {clip, mode}, or null to
 * only watch a fake-camera feed). Returns {res, report, debug}.
 */
export async function runLive(ctx, { method = "enroll", params = {}, pins = [], feed = null, segs = null, shotPrefix } = {}) {
  // A stale outcome of an earlier ceremony on this page must not be taken for this one's.
  await ctx.page.evaluate(() => { if (window.__openfioDebug) window.__openfioDebug.liveness = null; });
  const prefix = shotPrefix ?? ctx.prefix ?? "";
  const responder = new Responder(ctx, { segs, clip: feed?.clip ?? "cap13", mode: feed ? feed.mode ?? "follow" : "watch", prefix });
  await responder.start();
  let res;
  let report;
  try {
    res = await ceremony(ctx, { method, params, pins, ...(shotPrefix !== undefined ? { shotPrefix } : {}) });
  } finally {
    report = await responder.stop();
  }
  const dbg = await debugLiveness(ctx.page);
  report.cues = await ctx.page.evaluate(() => window.__feed.cues()).catch(() => []);
  // When the promise settled, on the page clock of the prompt timeline.
  const settledAt = await ctx.page.evaluate(() => window.__runs[window.__runs.length - 1].t1);
  ctx.log(`liveness: ${JSON.stringify(dbg.liveness)}; history ${dbg.history.join(" → ")}; prompts ${promptSummary(report)}`);
  // Everything the responder and the widget saw, frame by frame: artifacts/browser/<test>/<phase>-trace.json.
  const tkey = join(ctx.dir, prefix);
  const n = (traceCount.get(tkey) ?? 0) + 1;
  traceCount.set(tkey, n);
  writeFileSync(join(ctx.dir, `${prefix}trace${n > 1 ? `-${n}` : ""}.json`), JSON.stringify({ result: res, settledAt, debug: dbg, responder: report }, null, 1));
  return { res, report, debug: dbg, settledAt };
}

/** openLive + runLive + close: one ceremony in a fresh browser. */
export async function liveCeremony(t, edge, app, { method = "enroll", phase = method, params = {}, pins = [], feed = null, videoFile = null, segs = null, restrict = null } = {}) {
  const ctx = await openLive(t, edge, app, { phase, feed: !!feed, videoFile, restrict });
  try {
    const out = await runLive(ctx, { method, params, pins, feed, segs });
    return { ...out, sessions: ctx.sessions?.sessions ?? null };
  } finally {
    await ctx.close();
  }
}

/** One line of evidence for assertion messages: result, verdict, report, prompts, states. */
export function evidence(out) {
  const l = out.debug?.liveness;
  const r = out.res;
  const res = r.ok ? `resolved ${JSON.stringify(r.value)}` : `rejected ${r.code} (${r.rejection?.text ?? ""})`;
  return `${res} after ${Math.round(r.elapsedMs)} ms; verdict ${JSON.stringify(l?.verdict ?? null)} error ${JSON.stringify(l?.error ?? null)}; ` +
    `report ${JSON.stringify(l?.report ?? null)}; challenge ${JSON.stringify(out.debug?.policy?.actions ?? null)}; prompts: ${promptSummary(out.report)}; ` +
    `history ${(out.debug?.history || []).join(" → ")}; lastError ${JSON.stringify(out.debug?.lastError ?? null)}`;
}

/** The `action:X` states of the debug history, in order, deduplicated. */
export function promptedStates(history) {
  const out = [];
  for (const h of history || []) if (/^action:/.test(h) && out[out.length - 1] !== h) out.push(h);
  return out;
}
