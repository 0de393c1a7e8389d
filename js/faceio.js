// fio.js-compatible entry point: `new faceIO(publicId, options?)`.
//
//   import faceIO from "@openfio/fiojs";
//   const faceio = new faceIO("app-public-id");              // edge = origin serving this script
//   const faceio = new faceIO("app-public-id", "https://edge.example.com");
//   const faceio = new faceIO("app-public-id", { edgeUrl, assetsUrl, modelsUrl, debug });
//
// enroll() (aliases enrol, register, record) and authenticate() (aliases auth, recognize,
// identify) return Promises rejected with FACEIO's NUMERIC error codes.

import { ERROR_CODES as E, FioError, allErrorCodes, toCode } from "./errors.js";
import { enrollParams, authenticateParams } from "./params.js";
import { EdgeClient } from "./edge-client.js";
import { Engine } from "./engine.js";
import { Ceremony } from "./ceremony.js";

export const VERSION = "0.1.0";

// The URL of this script, captured at evaluation time: document.currentScript for the IIFE
// build (<script src=".../fio.js">), import.meta.url for the ES module.
const SCRIPT_URL = (() => {
  try {
    if (typeof document !== "undefined" && document.currentScript && document.currentScript.src) {
      return document.currentScript.src;
    }
  } catch { /* ignore */ }
  try {
    // eslint-disable-next-line no-undef
    const u = import.meta.url;
    if (u) return u;
  } catch { /* ignore */ }
  return typeof location !== "undefined" ? location.href : "http://localhost/";
})();

function dirOf(url) {
  return new URL(".", url).href;
}

export default class faceIO {
  /**
   * @param {string} publicId the application's public ID
   * @param {string|{edgeUrl?: string, assetsUrl?: string, modelsUrl?: string, debug?: boolean}} [options]
   */
  constructor(publicId, options) {
    const o = typeof options === "string" ? { edgeUrl: options } : { ...(options || {}) };
    this.publicId = String(publicId ?? "");
    const scriptOrigin = new URL(SCRIPT_URL).origin;
    this.edgeUrl = String(o.edgeUrl || scriptOrigin).replace(/\/+$/, "");
    // Where engine-worker.js and wasm/ live: next to this script unless told otherwise.
    const assets = o.assetsUrl ? new URL(String(o.assetsUrl).replace(/\/*$/, "/"), SCRIPT_URL).href : dirOf(SCRIPT_URL);
    this._engineCfg = {
      workerUrl: new URL("engine-worker.js", assets).href,
      wasmBase: new URL("wasm/", assets).href,
      modelsBase: o.modelsUrl ? new URL(String(o.modelsUrl).replace(/\/*$/, "/"), SCRIPT_URL).href : `${this.edgeUrl}/models/`,
      detectorSize: o.detectorSize || 320,
    };
    this._client = new EdgeClient(this.edgeUrl, this.publicId);
    this._ceremony = null;
    this._debug = null;
    if (o.debug === true && typeof window !== "undefined") {
      this._debug = { state: "idle", lastAnalysis: null, history: [] };
      window.__openfioDebug = this._debug;
    }
  }

  _start(kind, normalise, params) {
    if (this._ceremony) return Promise.reject(E.SESSION_IN_PROGRESS);
    let p;
    try {
      p = normalise(params);
    } catch (e) {
      if (typeof console !== "undefined") console.error("[fio.js]", e.message);
      return Promise.reject(toCode(e));
    }
    if (typeof document === "undefined" || !document.body) return Promise.reject(E.UI_NOT_READY);
    if (this._debug) {
      this._debug.history = [];
      this._debug.lastAnalysis = null;
      this._debug.lastError = null;
    }
    const c = new Ceremony(kind, p, { client: this._client, engine: Engine.shared(this._engineCfg), debug: this._debug });
    this._ceremony = c;
    const done = () => {
      if (this._ceremony === c) this._ceremony = null;
      if (this._debug && this._debug.state !== "error") this._debug.state = "idle";
    };
    return c.run().then(
      (r) => { done(); return r; },
      (code) => { done(); throw code; },
    );
  }

  /** Enrolls a new user → {facialId, timestamp, details: {gender, age}}. */
  enroll(params) {
    return this._start("enroll", enrollParams, params);
  }

  enrol(params) {
    return this.enroll(params);
  }

  register(params) {
    return this.enroll(params);
  }

  record(params) {
    return this.enroll(params);
  }

  /** Identifies an enrolled user → {payload, facialId}. */
  authenticate(params) {
    return this._start("authenticate", authenticateParams, params);
  }

  auth(params) {
    return this.authenticate(params);
  }

  recognize(params) {
    return this.authenticate(params);
  }

  identify(params) {
    return this.authenticate(params);
  }

  /**
   * Grants a new session for another round of enroll()/authenticate(): aborts the running
   * ceremony (its promise rejects with SESSION_EXPIRED) and removes the widget. Returns true
   * when the new session is granted, false when the page has no DOM to run a widget in.
   */
  restartSession(_params) {
    const c = this._ceremony;
    if (c) {
      c.restarted = true;
      c.abort(E.SESSION_EXPIRED, "session restarted by the host");
      c.cleanup();
      this._ceremony = null;
    }
    if (this._debug) this._debug.state = "idle";
    return typeof document !== "undefined";
  }

  /** All 22 FACEIO error codes → numbers (fioErrCode). */
  fetchAllErrorCodes() {
    return allErrorCodes();
  }
}

export { faceIO, E as fioErrCode, FioError };
