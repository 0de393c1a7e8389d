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
import { validateOverrides } from "./locales/index.js";

export const VERSION = "0.1.0";

/** `u` when it is an absolute http(s) URL, else null. */
function webUrl(u) {
  try {
    const x = new URL(u);
    return x.protocol === "http:" || x.protocol === "https:" ? x.href : null;
  } catch {
    return null;
  }
}

// Where this script was served from: import.meta.url for the ES module loaded from the edge (or
// a CDN), document.currentScript for the classic script (iife.js sets it). Null when that is not
// an http(s) URL: bundled into a site's own script (webpack makes import.meta.url a file:// path,
// esbuild an empty object, and currentScript would be the SITE's bundle), imported in Node, or
// inlined. Then the edge's address is unknown and `edgeUrl` must be given.
let SCRIPT_URL = (() => {
  try {
    // eslint-disable-next-line no-undef
    return webUrl(import.meta.url);
  } catch {
    return null;
  }
})();

/** For the classic-script entry only: the URL document.currentScript had while it ran. */
export function setScriptUrl(url) {
  SCRIPT_URL = webUrl(url) ?? SCRIPT_URL;
}

function dirOf(url) {
  return new URL(".", url).href;
}

const NO_EDGE =
  "new faceIO(): this copy of fio.js was not loaded from an OpenFIO edge (it was bundled, or runs " +
  "server-side), so the edge's address is unknown; pass it: new faceIO(publicId, { edgeUrl: " +
  "\"https://your-edge.example.com\" }) (assetsUrl, the folder holding engine-worker.js and wasm/, " +
  "defaults to ${edgeUrl}/fiojs/)";

/** An absolute http(s) URL without trailing slashes, or throws with a message naming `name`. */
function absoluteUrl(value, name, base) {
  let u;
  try {
    u = new URL(String(value), base || undefined);
  } catch {
    throw new Error(`new faceIO(): ${name} ${JSON.stringify(String(value))} is not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new Error(`new faceIO(): ${name} must be an http(s) URL, got ${JSON.stringify(u.href)}`);
  }
  return u.href.replace(/\/+$/, "");
}

export default class faceIO {
  /**
   * @param {string} publicId the application's public ID
   * @param {string|{edgeUrl?: string, assetsUrl?: string, modelsUrl?: string, debug?: boolean}} [options]
   */
  constructor(publicId, options) {
    const o = typeof options === "string" ? { edgeUrl: options } : { ...(options || {}) };
    this.publicId = String(publicId ?? "");
    // A configuration that cannot work is reported at once (console) and by every ceremony
    // (PROCESSING_ERR with the message), never turned into requests to a wrong address.
    this._configError = null;
    const page = typeof location !== "undefined" && location.href ? location.href : null;
    const base = SCRIPT_URL || page;
    let assets = null;
    try {
      // The edge: as given, else the origin that served this script.
      if (o.edgeUrl) this.edgeUrl = absoluteUrl(o.edgeUrl, "edgeUrl", base);
      else if (SCRIPT_URL) this.edgeUrl = new URL(SCRIPT_URL).origin;
      else throw new Error(NO_EDGE);
      // engine-worker.js and wasm/: as given, else next to this script, else the edge's /fiojs/.
      if (o.assetsUrl) assets = `${absoluteUrl(o.assetsUrl, "assetsUrl", base)}/`;
      else assets = SCRIPT_URL ? dirOf(SCRIPT_URL) : `${this.edgeUrl}/fiojs/`;
      // The page's own wording, per locale (OpenFIO extension), checked now so a typo is loud.
      this._strings = validateOverrides(o.strings);
      if (o.styleNonce !== undefined && typeof o.styleNonce !== "string") {
        throw new Error("new faceIO(): styleNonce must be a string");
      }
      this._styleNonce = o.styleNonce;
    } catch (e) {
      this._configError = e.message;
      this.edgeUrl = this.edgeUrl || "";
      if (typeof console !== "undefined") console.error("[fio.js]", e.message);
    }
    const models = o.modelsUrl ? `${absoluteUrl(o.modelsUrl, "modelsUrl", base)}/` : `${this.edgeUrl}/models/`;
    this._engineCfg = assets && {
      workerUrl: new URL("engine-worker.js", assets).href,
      wasmBase: new URL("wasm/", assets).href,
      modelsBase: models,
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
    if (this._configError) {
      if (typeof console !== "undefined") console.error("[fio.js]", this._configError);
      return Promise.reject(E.PROCESSING_ERR);
    }
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
    p = { ...p, strings: this._strings, styleNonce: this._styleNonce };
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
