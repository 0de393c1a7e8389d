// Calls to the OpenFIO edge (docs/edge-api.md): session / enroll / authenticate.
// No reply within replyTimeout → TIMEOUT (AbortController); fetch failure → NETWORK_IO; JSON
// error bodies `{error, code, message, retry?}` → their FACEIO `code`.

import { ERROR_CODES, FioError, isErrorCode } from "./errors.js";

const STATUS_CODES = { 401: ERROR_CODES.UNAUTHORIZED, 403: ERROR_CODES.UNAUTHORIZED, 410: ERROR_CODES.SESSION_EXPIRED, 429: ERROR_CODES.TOO_MANY_REQUESTS };

export class EdgeClient {
  /**
   * @param {string} edgeUrl base URL of the edge, e.g. "https://edge.example.com"
   * @param {string} publicId the application's public ID
   */
  constructor(edgeUrl, publicId) {
    this.base = String(edgeUrl).replace(/\/+$/, "");
    this.publicId = publicId;
  }

  url(route) {
    return `${this.base}/v1/${encodeURIComponent(this.publicId)}/${route}`;
  }

  /**
   * POSTs JSON; resolves the parsed answer, rejects FioError.
   * @param {string} route
   * @param {object} body
   * @param {{replyMs: number, signal?: AbortSignal}} opts
   */
  async post(route, body, { replyMs, signal } = {}) {
    const ctrl = new AbortController();
    let timedOut = false;
    const timer = replyMs > 0 ? setTimeout(() => { timedOut = true; ctrl.abort(); }, replyMs) : null;
    const onAbort = () => ctrl.abort();
    if (signal) {
      if (signal.aborted) ctrl.abort();
      else signal.addEventListener("abort", onAbort, { once: true });
    }
    try {
      let res;
      try {
        res = await fetch(this.url(route), {
          method: "POST",
          mode: "cors",
          credentials: "omit",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
          signal: ctrl.signal,
        });
      } catch (e) {
        throw this.failure(e, timedOut, signal);
      }
      let data = null;
      let text = "";
      try {
        text = await res.text();
        data = text ? JSON.parse(text) : null;
      } catch (e) {
        if (timedOut || (signal && signal.aborted)) throw this.failure(e, timedOut, signal);
        data = null;
      }
      if (!res.ok) {
        const code = data && isErrorCode(Number(data.code)) ? Number(data.code)
          : STATUS_CODES[res.status] ?? ERROR_CODES.PROCESSING_ERR;
        const err = new FioError(code, (data && (data.message || data.error)) || `HTTP ${res.status}`);
        err.status = res.status;
        err.body = data;
        throw err;
      }
      if (data === null || typeof data !== "object") {
        throw new FioError(ERROR_CODES.PROCESSING_ERR, "malformed edge reply");
      }
      return data;
    } finally {
      if (timer) clearTimeout(timer);
      if (signal) signal.removeEventListener("abort", onAbort);
    }
  }

  failure(e, timedOut, signal) {
    if (timedOut) return new FioError(ERROR_CODES.TIMEOUT, "the edge did not answer within replyTimeout");
    if (signal && signal.aborted) return signal.reason instanceof FioError ? signal.reason : new FioError(ERROR_CODES.PROCESSING_ERR, "aborted");
    if (e instanceof FioError) return e;
    return new FioError(ERROR_CODES.NETWORK_IO, `network error: ${e && e.message}`);
  }

  /** → {challengeId, nonce, expiresAt, policy}; `siteNonce` (optional) goes into the login token. */
  session(ceremony, opts, siteNonce) {
    return this.post("session", siteNonce === undefined ? { ceremony } : { ceremony, nonce: siteNonce }, opts);
  }

  /** body: {challengeId, templates, liveness, details, payload, pin} → {facialId, timestamp, details} */
  enroll(body, opts) {
    return this.post("enroll", body, opts);
  }

  /** body: {challengeId, template, liveness, pin?} → {facialId, payload} | {pinRequired, …} */
  authenticate(body, opts) {
    return this.post("authenticate", body, opts);
  }
}
