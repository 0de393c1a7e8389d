// Web Worker: the face pipeline (fio-wasm) off the main thread.
// Loads fio-wasm's fio_wasm.js (wasm-bindgen --target web) from `wasmBase`, fetches the models
// listed by manifest().stages from `<modelsBase><file>` (a stalled download is retried:
// model-fetch.js), caches them with the Cache API and
// verifies their sha256 with SubtleCrypto before use (a wrong hash is a hard error →
// PROCESSING_ERR, never a silent fallback), then builds FaceEngine(models, detectorSize) from the
// tracker stage and analyses frames posted as ImageBitmap (transferred) or ImageData; the match
// stage loads after the first analysed frame, the attribute stage when a ceremony sends "prepare".
//
// Protocol (all messages carry the request `id`):
//   → {type:"init", id, wasmBase, modelsBase, detectorSize, tracking}
//                                                              ← {type:"ready", id, manifest, errorCodes, timings}
//   → {type:"prepare", id, stage}                              ← {type:"result", id}
//       loads a model stage ("match", "attributes") if it is not loaded yet
//   → {type:"analyze", id, frame, full, t}                     ← {type:"result", id, analysis}
//       without `full`, the ceremony's capture schedule (fio_core::capture_schedule) decides,
//       once the match stage is loaded; `full: true` waits for the match stage
//   → {type:"checkEnrollment", id, templates}                  ← {type:"result", id, template}
//   → {type:"livenessBegin", id, mode, actions, evidence, ceremony, ignoreObscured}
//                                                              ← {type:"result", id, blinkWaitMs}
//       from then on every analyze result also carries `liveness: {blinks, ready, progress}` and
//       `capture`: the schedule's step ({full, guidance, obscured, sample, samples, needed,
//       enough, done}); with `evidence` (the app re-verifies liveness at the edge) the worker
//       also keeps, during the prompts, the 160×160 crop of each frame the session marks as the
//       clearest of a step
//   → {type:"livenessChallenge", id}                           ← {type:"result", id, progress}
//       (the schedule switches to the prompts' cadence)
//   → {type:"livenessOutcome", id}                             ← {type:"result", id, outcome, bundle}
//       bundle: the crop bundle's ArrayBuffer (transferred), null without evidence or while a
//       step has no crop
//   ← {type:"progress", stage, loaded, total}   ← {type:"error", id, code, message}

import { HttpError, fetchModelFile } from "./model-fetch.js";

const PROCESSING_ERR = 9;
const FACE_MISMATCH = 6;
const CACHE_NAME = "openfio-models-v1";

let wasm = null;
let engine = null;
let liveness = null; // the ceremony's LivenessSession
let schedule = null; // the ceremony's CaptureSchedule
let keepEvidence = false; // the ceremony collects evidence crops (edge re-verification)
let canvas = null;
let ctx2d = null;

function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256(bytes) {
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

class HashError extends Error {}

async function openCache() {
  try {
    return typeof caches !== "undefined" ? await caches.open(CACHE_NAME) : null;
  } catch {
    return null; // opaque origins, private modes: no cache, still verified
  }
}

/** Fetches one model (Cache API first) and verifies its sha256; throws on any mismatch. */
async function loadModel(cache, url, model, onBytes) {
  const key = `${url}?sha256=${model.sha256}`;
  if (cache) {
    const hit = await cache.match(key);
    if (hit) {
      const bytes = new Uint8Array(await hit.arrayBuffer());
      if ((await sha256(bytes)) === model.sha256) {
        onBytes(bytes.length);
        return bytes;
      }
      await cache.delete(key); // corrupted cache entry: drop it and fetch again
    }
  }
  let bytes;
  try {
    bytes = await fetchModelFile(url);
  } catch (e) {
    if (e instanceof HttpError) throw new Error(`model ${model.file}: ${e.message}`);
    throw new Error(`model ${model.file}: network error (${e.message})`);
  }
  const got = await sha256(bytes);
  if (got !== model.sha256) {
    throw new HashError(`model ${model.file}: sha256 mismatch (expected ${model.sha256}, got ${got}); refusing to use it`);
  }
  onBytes(bytes.length);
  if (cache) {
    try {
      await cache.put(key, new Response(bytes, { headers: { "Content-Type": "application/octet-stream" } }));
    } catch { /* quota: fine, verified anyway */ }
  }
  return bytes;
}

// Model stages (fio_vision::models::ModelStage, listed by manifest().stages): the tracker before
// the first frame, the match models right after it in the background, the attribute model only
// when a ceremony asks for it (enrollment).
const stageLoads = new Map(); // stage name → Promise (settled once the stage is in the engine)
const stageFailures = new Map(); // stage name → the Error of its last failed load
let modelsBaseUrl = null;
let manifest = null; // wasm.manifest(), read once at init
let progress = { loaded: 0, total: 0 };

async function fetchStage(stage) {
  const byName = new Map(manifest.models.map((m) => [m.name, m]));
  const wanted = (manifest.stages[stage] || []).map((p) => {
    const m = byName.get(p);
    if (!m) throw new Error(`manifest: model ${p} of stage ${stage} is not listed`);
    return m;
  });
  progress.total += wanted.reduce((s, m) => s + (m.bytes || 0), 0);
  const cache = await openCache();
  const models = {};
  await Promise.all(wanted.map(async (m) => {
    const url = new URL(m.file, modelsBaseUrl).href;
    models[m.name] = await loadModel(cache, url, m, (n) => {
      progress.loaded += n;
      self.postMessage({ type: "progress", stage, loaded: progress.loaded, total: progress.total });
    });
  }));
  return models;
}

/** Loads a later stage once (concurrent callers share the load); rejects like init would. */
function loadStage(stage) {
  let p = stageLoads.get(stage);
  if (!p) {
    stageFailures.delete(stage);
    p = (async () => {
      const models = await fetchStage(stage);
      engine.loadStage(stage, models);
    })();
    stageLoads.set(stage, p);
    // A failed load is reported by the next frame that needs it and retried on the next ask.
    p.catch((e) => {
      stageLoads.delete(stage);
      stageFailures.set(stage, e);
    });
  }
  return p;
}

let startTimings = null; // where the engine's start went (ms), for the debug object and the bench

async function init({ wasmBase, modelsBase, detectorSize, tracking }) {
  if (engine) return { manifest, errorCodes: wasm.errorCodes(), timings: startTimings };
  const t0 = performance.now();
  wasm = await import(new URL("fio_wasm.js", wasmBase).href);
  await wasm.default({ module_or_path: new URL("fio_wasm_bg.wasm", wasmBase).href });
  const t1 = performance.now();
  modelsBaseUrl = modelsBase;
  manifest = wasm.manifest();
  const models = await fetchStage("tracker");
  const t2 = performance.now();
  engine = new wasm.FaceEngine(models, detectorSize || 320);
  if (tracking) engine.setTracking(true);
  const t3 = performance.now();
  // wasm: fetch + compile + instantiate; models: the tracker's download (or Cache API) and sha256;
  // load: fio-wasm's own sha256 check, tract's parse and optimisation of the tracker models.
  startTimings = { wasmMs: t1 - t0, modelsMs: t2 - t1, loadMs: t3 - t2 };
  return { manifest, errorCodes: wasm.errorCodes(), timings: startTimings };
}

function pixels(frame) {
  if (typeof ImageData !== "undefined" && frame instanceof ImageData) {
    return { rgba: new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength), width: frame.width, height: frame.height };
  }
  if (frame && frame.data && frame.width && frame.height && !(typeof ImageBitmap !== "undefined" && frame instanceof ImageBitmap)) {
    const d = frame.data;
    return { rgba: d instanceof Uint8Array ? d : new Uint8Array(d.buffer || d), width: frame.width, height: frame.height };
  }
  const { width, height } = frame;
  if (!canvas || canvas.width !== width || canvas.height !== height) {
    canvas = new OffscreenCanvas(width, height);
    ctx2d = canvas.getContext("2d", { willReadFrequently: true });
  }
  ctx2d.drawImage(frame, 0, 0);
  if (typeof frame.close === "function") frame.close();
  const img = ctx2d.getImageData(0, 0, width, height);
  return { rgba: new Uint8Array(img.data.buffer), width, height };
}

function plain(v) {
  // serde-wasm-bindgen may hand back Maps; the ceremony wants plain objects.
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object" && !ArrayBuffer.isView(v)) {
    const o = {};
    for (const k of Object.keys(v)) o[k] = plain(v[k]);
    return o;
  }
  return v;
}

self.onmessage = async (ev) => {
  const msg = ev.data || {};
  const { id } = msg;
  try {
    if (msg.type === "init") {
      const r = await init(msg);
      self.postMessage({ type: "ready", id, ...r });
    } else if (msg.type === "analyze") {
      if (!engine) throw new Error("engine not initialised");
      const { rgba, width, height } = pixels(msg.frame);
      const t0 = performance.now();
      // The capture time, not the end of analysis: blinks are judged on frame spacing.
      const t = typeof msg.t === "number" && Number.isFinite(msg.t) ? msg.t : t0;
      // The schedule is asked only once the match models are in: until then every frame is a
      // live-view frame, and the schedule's cadence starts with the first frame it can have.
      let full;
      if (typeof msg.full === "boolean") {
        full = msg.full;
        if (full && !engine.hasStage("match")) await loadStage("match");
      } else {
        if (stageFailures.has("match")) throw stageFailures.get("match");
        full = !!(schedule && engine.hasStage("match") && schedule.full(t));
      }
      const analysis = plain(engine.analyze(rgba, width, height, full));
      analysis.workerMs = performance.now() - t0;
      analysis.width = width;
      analysis.height = height;
      if (typeof msg.t === "number" && Number.isFinite(msg.t)) analysis.cues.tMs = msg.t;
      if (liveness) {
        const step = plain(liveness.push(analysis.cues, analysis.main ? analysis.main.template : undefined));
        const keep = step.keep;
        delete step.keep;
        // The frame is the clearest so far of a step: keep its crop (it never leaves as pixels).
        if (keepEvidence && keep && keep.length && analysis.faces.length) {
          liveness.keepEvidence(rgba, width, height, analysis.faces[0].bbox, keep);
        }
        analysis.liveness = step;
        if (schedule) {
          const frame = {
            tMs: t, full, faces: analysis.faces.length, guidance: analysis.guidance,
            obscured: analysis.obscured === true, main: !!analysis.main, blinks: step.blinks, ready: step.ready,
          };
          analysis.capture = { full, ...plain(schedule.record(frame)) };
        }
      }
      self.postMessage({ type: "result", id, analysis });
      // The match models load once the live view shows its first frame, so they do not compete
      // with it for the network or this thread; a failure is thrown by the next frame.
      if (!engine.hasStage("match") && !stageLoads.has("match") && !stageFailures.has("match")) {
        loadStage("match").catch(() => {});
      }
    } else if (msg.type === "prepare") {
      if (!engine) throw new Error("engine not initialised");
      if (!engine.hasStage(msg.stage)) await loadStage(msg.stage);
      self.postMessage({ type: "result", id });
    } else if (msg.type === "livenessBegin") {
      if (!wasm || !engine) throw new Error("engine not initialised");
      // A new ceremony retries a match stage whose load failed (network); not awaited. A first
      // load starts after the first analysed frame (below), not here.
      if (stageFailures.has("match")) loadStage("match").catch(() => {});
      if (liveness) liveness.free();
      if (schedule) schedule.free();
      schedule = null;
      liveness = new wasm.LivenessSession(msg.mode, msg.actions || []);
      schedule = new wasm.CaptureSchedule(msg.ceremony || "authenticate", msg.mode, liveness.blinkWaitMs(), !!msg.ignoreObscured);
      keepEvidence = !!msg.evidence;
      self.postMessage({ type: "result", id, blinkWaitMs: liveness.blinkWaitMs() });
    } else if (msg.type === "livenessChallenge") {
      if (!liveness) throw new Error("no liveness session");
      if (schedule) schedule.startPrompts();
      self.postMessage({ type: "result", id, progress: plain(liveness.startChallenge()) });
    } else if (msg.type === "livenessOutcome") {
      if (!liveness) throw new Error("no liveness session");
      const outcome = plain(liveness.outcome());
      const bytes = keepEvidence ? liveness.evidenceBundle() : null;
      liveness.free();
      liveness = null;
      if (schedule) schedule.free();
      schedule = null;
      keepEvidence = false;
      const bundle = bytes ? bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) : null;
      self.postMessage({ type: "result", id, outcome, bundle }, bundle ? [bundle] : []);
    } else if (msg.type === "checkEnrollment") {
      if (!wasm) throw new Error("engine not initialised");
      try {
        const template = wasm.checkEnrollment(msg.templates);
        self.postMessage({ type: "result", id, template });
      } catch (e) {
        const m = String((e && e.message) || e);
        self.postMessage({ type: "error", id, code: m.includes("FACE_MISMATCH") ? FACE_MISMATCH : PROCESSING_ERR, message: m });
      }
    }
  } catch (e) {
    if (msg.frame && typeof msg.frame.close === "function") msg.frame.close();
    self.postMessage({ type: "error", id, code: PROCESSING_ERR, message: String((e && e.message) || e) });
  }
};
