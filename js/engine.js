// Main-thread side of the face engine Web Worker (js/engine-worker.js). One worker per assets
// location and page, shared by every ceremony so the models are fetched and compiled once.

import { ERROR_CODES, FioError, sameAsCore } from "./errors.js";

const engines = new Map();

// (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt): valid only where WebAssembly SIMD is.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

/** Whether this browser can run the engine's wasm (built with SIMD: Chrome/Edge 91+, Firefox
 * 89+, Safari 16.4+). Checked before the camera is asked for. */
export function wasmSimdSupported() {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

function sameOrigin(url) {
  try {
    return typeof location !== "undefined" && new URL(url).origin === location.origin;
  } catch {
    return false;
  }
}

function spawnWorker(workerUrl) {
  if (sameOrigin(workerUrl)) return new Worker(workerUrl, { type: "module" });
  // Module workers must be same-origin: bootstrap through a blob that imports the real script
  // (the assets host must then send CORS headers; www/_headers does for the demo edge).
  const src = `import ${JSON.stringify(workerUrl)};`;
  const blob = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
  return new Worker(blob, { type: "module" });
}

export class Engine {
  /**
   * @param {{workerUrl: string, wasmBase: string, modelsBase: string, detectorSize?: number, tracking?: boolean}} cfg
   *   `tracking`: the live view follows the face between detector frames (off in the widget: see
   *   fio_vision::frame_engine::Engine::set_tracking; the bench measures it)
   */
  static shared(cfg) {
    const key = `${cfg.workerUrl}|${cfg.wasmBase}|${cfg.modelsBase}`;
    let e = engines.get(key);
    if (!e || e.dead) {
      e = new Engine(cfg);
      engines.set(key, e);
    }
    return e;
  }

  constructor(cfg) {
    this.cfg = cfg;
    this.worker = null;
    this.pending = new Map();
    this.nextId = 1;
    this.readyPromise = null;
    this.progress = { loaded: 0, total: 0 };
    this.listeners = new Set();
    this.dead = false;
    this.info = null;
  }

  onProgress(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  start() {
    if (this.worker) return;
    try {
      this.worker = spawnWorker(this.cfg.workerUrl);
    } catch (e) {
      this.fail(`cannot start the engine worker: ${e.message}`);
      return;
    }
    this.worker.onmessage = (ev) => this.onMessage(ev.data);
    this.worker.onerror = (ev) => this.fail(`engine worker error: ${ev.message || "failed to load"}`);
    this.worker.onmessageerror = () => this.fail("engine worker message error");
  }

  fail(message) {
    this.dead = true;
    const err = new FioError(ERROR_CODES.PROCESSING_ERR, message);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (this.worker) this.worker.terminate();
  }

  onMessage(msg) {
    if (!msg) return;
    if (msg.type === "progress") {
      this.progress = { loaded: msg.loaded, total: msg.total };
      for (const fn of this.listeners) fn(this.progress);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.type === "error") p.reject(new FioError(msg.code || ERROR_CODES.PROCESSING_ERR, msg.message));
    else p.resolve(msg);
  }

  call(msg, transfer = []) {
    this.start();
    if (this.dead) return Promise.reject(new FioError(ERROR_CODES.PROCESSING_ERR, "engine unavailable"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ ...msg, id }, transfer);
      } catch (e) {
        this.pending.delete(id);
        reject(new FioError(ERROR_CODES.PROCESSING_ERR, e.message));
      }
    });
  }

  /** Loads wasm and the verified tracker models once; resolves {manifest, errorCodes}. */
  ready() {
    if (!this.readyPromise) {
      this.readyPromise = this.call({
        type: "init",
        wasmBase: this.cfg.wasmBase,
        modelsBase: this.cfg.modelsBase,
        detectorSize: this.cfg.detectorSize || 320,
        tracking: !!this.cfg.tracking,
      }).then((r) => {
        this.info = { manifest: r.manifest, errorCodes: r.errorCodes, timings: r.timings };
        if (!sameAsCore(r.errorCodes) && typeof console !== "undefined") {
          console.warn("[fio.js] fio-wasm's errorCodes() differ from the JS table");
        }
        return this.info;
      });
      // A failed load is final for this engine (a later ceremony gets a fresh one).
      this.readyPromise.catch(() => { this.dead = true; if (this.worker) this.worker.terminate(); });
    }
    return this.readyPromise;
  }

  /** Loads a model stage ("match" | "attributes") unless loaded; resolves once it is in the
   * engine. `ready()` loads only the tracker (the live view); the match stage follows by itself. */
  async prepare(stage) {
    await this.ready();
    await this.call({ type: "prepare", stage });
  }

  /** frame: ImageBitmap (transferred) or ImageData; full: run every per-face stage, or
   * `undefined` to let the ceremony's capture schedule decide; t: its capture time (ms, page
   * clock), the liveness cues' timestamp. → {analysis} (analysis.liveness and analysis.capture
   * once a liveness session runs). */
  async analyze(frame, full, t) {
    const transfer = typeof ImageBitmap !== "undefined" && frame instanceof ImageBitmap ? [frame] : [];
    const r = await this.call({ type: "analyze", frame, full: full === undefined ? undefined : !!full, t }, transfer);
    return { analysis: r.analysis };
  }

  /** Starts the ceremony's liveness session (mode "off" | "passive" | "active") and capture
   * schedule (`ceremony` "enroll" | "authenticate"; `ignoreObscured`: the app's
   * ignoreObscuredFaces); with `evidence`, the worker keeps the evidence crops of the prompts
   * (edge re-verification). → {blinkWaitMs}: how long passive mode waits for a blink. */
  async livenessBegin(mode, actions, evidence = false, ceremony = "authenticate", ignoreObscured = false) {
    const r = await this.call({
      type: "livenessBegin", mode, actions: actions || [], evidence: !!evidence, ceremony, ignoreObscured: !!ignoreObscured,
    });
    return { blinkWaitMs: r.blinkWaitMs };
  }

  /** Starts the prompted actions; → the first progress, or null when nothing can be prompted. */
  async livenessChallenge() {
    return (await this.call({ type: "livenessChallenge" })).progress;
  }

  /** Ends the session; → {outcome: {report, verdict, error}, bundle: Uint8Array | null} (the
   * evidence crop bundle, when the session kept evidence and every step has a crop). */
  async livenessOutcome() {
    const r = await this.call({ type: "livenessOutcome" });
    return { outcome: r.outcome, bundle: r.bundle ? new Uint8Array(r.bundle) : null };
  }

  /** Mean template of an enrollment's frames, or rejects FioError(FACE_MISMATCH). */
  async checkEnrollment(templates) {
    const r = await this.call({ type: "checkEnrollment", templates });
    return r.template;
  }
}
