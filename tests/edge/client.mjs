// A thin HTTP client for the edge API (docs/edge-api.md) plus assertion helpers shared by the specs.

import assert from "node:assert/strict";
import { randomBytes, randomInt } from "node:crypto";
import { ERROR_CODES } from "../../js/errors.js";
import { EVIDENCE_INFO, evidenceAesKey, fromBase64, sealEvidence as shippedSeal, toBase64 } from "../../js/evidence-seal.js";
import { isWeakPin } from "../../js/params.js";

/** FACEIO codes, name → number: the shipped table (js/errors.js, generated from fio_core). */
export const CODES = ERROR_CODES;
export const CODE_NAMES = Object.fromEntries(Object.entries(CODES).map(([k, v]) => [v, k]));
export const STATUS = {
  UNRECOGNIZED_FACE: 401, WRONG_PIN_CODE: 401, UNAUTHORIZED: 401,
  PAD_ATTACK: 403, EMPTY_ORIGIN: 403, FORBIDDDEN_ORIGIN: 403, FORBIDDDEN_COUNTRY: 403,
  MINORS_NOT_ALLOWED: 403, UNIQUE_PIN_REQUIRED: 409, FACE_DUPLICATION: 409,
  SESSION_EXPIRED: 410, FACE_MISMATCH: 422, TOO_MANY_REQUESTS: 429,
};

/** Gallery shards of the apps specs create (unset: the edge's default, 1). */
const TEST_SHARDS = process.env.OPENFIO_TEST_SHARDS ? Number(process.env.OPENFIO_TEST_SHARDS) : undefined;

export const DEFAULT_ORIGIN = "https://app.example.test";
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const CHALLENGE_RE = /^[0-9a-f]{32}$/;
export const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A random client IP in 10/8 so specs never share per-IP quota buckets. */
export function randomIp() {
  return `10.${randomInt(256)}.${randomInt(256)}.${1 + randomInt(254)}`;
}

/** A random 4–6 digit PIN that the shipped weak-PIN rule (js/params.js) accepts. */
export function strongPin(len = 6) {
  for (;;) {
    const pin = Array.from({ length: len }, () => String(randomInt(10))).join("");
    if (!isWeakPin(pin)) return pin;
  }
}

/**
 * Raw response: status, headers, text and parsed JSON (or undefined). `retries` re-sends on a
 * network error or timeout only (never on an HTTP answer): once in CI a state check got no answer
 * for 300 s while the next requests to the same wrangler dev were served at once, and once a
 * first POST /admin/apps never reached the worker — stalled sockets, not the worker. Only for
 * calls whose repeat is harmless.
 */
export async function request(url, { method = "GET", headers = {}, body, json, timeoutMs = 60_000, retries = 0 } = {}) {
  const h = { ...headers };
  let b = body;
  if (json !== undefined) {
    b = JSON.stringify(json);
    if (!Object.keys(h).some((k) => k.toLowerCase() === "content-type")) h["content-type"] = "application/json";
  }
  let res;
  for (let attempt = 0; ; attempt++) {
    try {
      res = await fetch(url, { method, headers: h, body: b, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
      break;
    } catch (e) {
      if (attempt >= retries) throw e;
    }
  }
  const text = await res.text();
  let parsed;
  try {
    parsed = text.length ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed, url, method };
}

/** Options of an operator-API or state-check call: 30 s limit, two retries (see `request`). */
export const STATE_CALL = Object.freeze({ timeoutMs: 30_000, retries: 2 });

/** Human-readable summary of a response for assertion messages. */
export function show(res) {
  return `${res.method} ${res.url.replace(/key=[^&]+/, "key=…")} → ${res.status} ${res.text.slice(0, 600)}`;
}

/** Asserts a FACEIO error: exact code and name, the contract's HTTP status (or a 4xx when unset). */
export function assertError(res, name, status = STATUS[name]) {
  const code = CODES[name];
  assert.ok(code, `unknown code name ${name}`);
  assert.ok(res.body && typeof res.body === "object", `expected a JSON error body: ${show(res)}`);
  assert.equal(res.body.code, code, `expected code ${code} (${name}): ${show(res)}`);
  assert.equal(res.body.error, name, `expected error ${name}: ${show(res)}`);
  if (status) assert.equal(res.status, status, `expected HTTP ${status}: ${show(res)}`);
  else assertClientError(res);
}

/** Asserts a 4xx JSON error with a numeric FACEIO `code` and matching `error` name; never 5xx. */
export function assertClientError(res, { status } = {}) {
  assert.ok(res.status >= 400 && res.status < 500, `expected 4xx: ${show(res)}`);
  if (status !== undefined) {
    const ok = Array.isArray(status) ? status.includes(res.status) : res.status === status;
    assert.ok(ok, `expected HTTP ${status}: ${show(res)}`);
  }
  assert.ok(res.body && typeof res.body === "object" && !Array.isArray(res.body), `expected a JSON object body: ${show(res)}`);
  assert.equal(typeof res.body.code, "number", `expected a numeric code: ${show(res)}`);
  assert.equal(typeof res.body.error, "string", `expected an error name: ${show(res)}`);
  if (CODE_NAMES[res.body.code]) {
    assert.equal(res.body.error, CODE_NAMES[res.body.code], `error name does not match code: ${show(res)}`);
  }
}

export function assertOk(res, what = "request") {
  assert.equal(res.status, 200, `${what} failed: ${show(res)}`);
  assert.ok(res.body && typeof res.body === "object", `${what}: expected JSON: ${show(res)}`);
  return res.body;
}

/** Fails when a response (any depth) carries a score, template or embedding. */
export function assertNoBiometricLeak(body, templates = []) {
  const bad = /score|similar|distance|template|embedding|vector|hash|salt|pinCode|^pin$/i;
  const walk = (v, path) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        assert.ok(!bad.test(k), `response leaks ${path}.${k}: ${JSON.stringify(body).slice(0, 400)}`);
        walk(x, `${path}.${k}`);
      }
    } else if (typeof v === "string") {
      for (const t of templates) assert.ok(!v.includes(t.slice(8, 60)), `response leaks a template at ${path}`);
    }
  };
  walk(body, "$");
}

/** The widget's liveness summary (fio_core::liveness::LivenessReport) of a live session. */
export function liveReport(actions = []) {
  return {
    frames: 24,
    durationMs: 5200,
    passive: 0.93,
    blinks: 2,
    yawSpreadDeg: 21.5,
    pitchSpreadDeg: 9.1,
    minSimilarity: 0.82,
    actions: [...actions],
  };
}

/** Live evidence for a ceremony that prompted `actions` (active mode). */
export function liveFor(actions = []) {
  return { score: 0.97, passed: true, actions: [...actions], report: liveReport(actions) };
}

/** Default liveness evidence that passes passive mode (no active actions). */
export const LIVE = Object.freeze(liveFor([]));
export const SPOOF = Object.freeze({ score: 0.08, passed: false, actions: [] });

/**
 * Options that keep quotas out of the way of functional specs. New apps default to active
 * liveness; specs about other features use passive mode so evidence need not echo prompts.
 */
export const RELAXED = Object.freeze({ quotaPerMinute: 100000, ipQuotaPerMinute: 100000, livenessMode: "passive" });

export class Edge {
  constructor({ url, adminToken }) {
    this.url = url;
    this.adminToken = adminToken;
  }

  // --- operator API ----------------------------------------------------------------------
  /** The one operator-API client of the test suites (edge and browser specs). */
  admin(method, path, json, token = this.adminToken) {
    const headers = token === null ? {} : { authorization: `Bearer ${token}` };
    return request(`${this.url}${path}`, { method, headers, json, ...STATE_CALL });
  }

  /** Creates an app (quotas relaxed unless overridden) and returns a bound App. */
  /**
   * `galleryShards` defaults to OPENFIO_TEST_SHARDS when set: tests/edge/run.mjs runs the
   * consistency specs a second time with every app they create sharded.
   */
  async createApp(options = {}, name = `spec-${randomBytes(4).toString("hex")}`, { galleryShards = TEST_SHARDS } = {}) {
    const create = { name, options: { ...RELAXED, ...options } };
    if (galleryShards !== undefined) create.galleryShards = galleryShards;
    const res = await this.admin("POST", "/admin/apps", create);
    const body = assertOk(res, "POST /admin/apps");
    assert.ok(typeof body.publicId === "string" && body.publicId.length > 0, `no publicId: ${show(res)}`);
    assert.ok(typeof body.apiKey === "string" && body.apiKey.length >= 16, `no apiKey: ${show(res)}`);
    return new App(this, body);
  }

  getApp(publicId) {
    return this.admin("GET", `/admin/apps/${encodeURIComponent(publicId)}`);
  }

  patchApp(publicId, json) {
    return this.admin("PATCH", `/admin/apps/${encodeURIComponent(publicId)}`, json);
  }
}

/** An application plus the client identity (origin, IP) its widget requests use. */
export class App {
  constructor(edge, created) {
    this.edge = edge;
    this.created = created;
    this.publicId = created.publicId;
    this.apiKey = created.apiKey;
    this.webhookSecret = created.webhookSecret;
    this.ip = randomIp();
    this.origin = DEFAULT_ORIGIN;
  }

  widgetHeaders(extra = {}) {
    const h = { "cf-connecting-ip": this.ip };
    if (this.origin) h.origin = this.origin;
    return { ...h, ...extra };
  }

  widget(route, json, { headers, raw, method = "POST" } = {}) {
    const url = `${this.edge.url}/v1/${encodeURIComponent(this.publicId)}/${route}`;
    if (raw !== undefined) return request(url, { method, headers: this.widgetHeaders(headers), body: raw });
    return request(url, { method, headers: this.widgetHeaders(headers), json });
  }

  session(ceremony, opts) {
    return this.widget("session", { ceremony }, opts);
  }

  /** A fresh challenge id for the ceremony (asserts success). */
  async challenge(ceremony, opts) {
    const res = await this.session(ceremony, opts);
    const body = assertOk(res, `session(${ceremony})`);
    assert.match(body.challengeId, CHALLENGE_RE, show(res));
    return body;
  }

  /** session + enroll; `faces` are fixture rows or base64 strings. Returns the enroll response. */
  async enroll(faces, { payload = {}, pin = strongPin(), details, liveness = LIVE, headers, challengeId } = {}) {
    const templates = faces.map((f) => (typeof f === "string" ? f : f.template));
    const first = faces.find((f) => typeof f !== "string");
    const det = details ?? { age: first ? Math.round(first.age) : 30, gender: first?.gender ?? "male" };
    const cid = challengeId ?? (await this.challenge("enroll", { headers })).challengeId;
    const res = await this.widget("enroll", { challengeId: cid, templates, liveness, details: det, payload, pin }, { headers });
    res.pin = pin;
    res.challengeId = cid;
    return res;
  }

  /** session + authenticate (no PIN); returns the authenticate response. */
  async authenticate(face, { liveness = LIVE, headers, pin, challengeId } = {}) {
    const template = typeof face === "string" ? face : face.template;
    const cid = challengeId ?? (await this.challenge("authenticate", { headers })).challengeId;
    const json = { challengeId: cid, template, liveness };
    if (pin !== undefined) json.pin = pin;
    const res = await this.widget("authenticate", json, { headers });
    res.challengeId = cid;
    return res;
  }

  /** Full widget flow: authenticate, and if the edge asks for the PIN, resend with `pin`. */
  async login(face, pin, opts = {}) {
    let res = await this.authenticate(face, opts);
    for (let i = 0; i < 4 && res.status === 200 && res.body?.pinRequired; i++) {
      if (pin === undefined) return res;
      res = await this.authenticate(face, { ...opts, pin, challengeId: res.body.challengeId });
    }
    return res;
  }

  // --- REST API ----------------------------------------------------------------------------
  /** FACEIO REST call: GET with query string (default), POST form, or POST JSON; `key: null` omits the key. */
  rest(path, params = {}, { via = "get", key = this.apiKey } = {}) {
    const all = key === null ? { ...params } : { key, ...params };
    const url = `${this.edge.url}/${path}`;
    if (via === "get") {
      const qs = new URLSearchParams(Object.entries(all).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
      return request(`${url}?${qs}`);
    }
    if (via === "form") {
      const body = new URLSearchParams(Object.entries(all).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
      return request(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString() });
    }
    return request(url, { method: "POST", json: all });
  }

  async stats() {
    return assertOk(await this.rest("appstats"), "appstats");
  }

  /** All facial IDs (paging through /listfacialids). */
  async listAll(limit = 1000) {
    const out = [];
    for (let offset = 0; ; offset += limit) {
      const body = assertOk(await this.rest("listfacialids", { offset: String(offset), limit: String(limit) }), "listfacialids");
      const items = listItems(body);
      out.push(...items);
      if (items.length < limit) return out;
    }
  }
}

/** The array of facial-ID entries in a /listfacialids reply (its key name is not fixed by the contract). */
export function listItems(body) {
  for (const k of ["facialIds", "facialIDs", "items", "faces", "results", "data"]) {
    if (Array.isArray(body[k])) return body[k];
  }
  const arrays = Object.values(body).filter(Array.isArray);
  assert.equal(arrays.length, 1, `cannot find the list in ${JSON.stringify(body).slice(0, 300)}`);
  return arrays[0];
}

/** The facial ID of a listing entry (an object with facialId/fid/id, or a bare string). */
export function itemId(item) {
  if (typeof item === "string") return item;
  return item.facialId ?? item.fid ?? item.id;
}

/** Reads appstats counters whatever their exact nesting: {enrolled, enrollments, authOk, authFailed, deletions}. */
export function statCounters(body) {
  const flat = {};
  const walk = (v, p) => {
    if (v && typeof v === "object" && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(x, p ? `${p}.${k}` : k);
    else if (typeof v === "number") flat[p.toLowerCase()] = v;
  };
  walk(body, "");
  const pick = (...res) => {
    for (const re of res) {
      const k = Object.keys(flat).find((key) => re.test(key));
      if (k !== undefined) return flat[k];
    }
    return undefined;
  };
  return {
    enrolled: pick(/(^|\.)enrolled$/, /(^|\.)(facialids|total|count)$/),
    enrollments: pick(/(^|\.)enrollments?$/, /enrollments?\.(total|count)$/),
    authOk: pick(/auth\w*\.(ok|success\w*|succeeded)$/, /auth\w*(ok|success\w*|succeeded)$/, /(^|\.)(successful)?authentications?$/),
    authFailed: pick(/auth\w*\.(failed|fail\w*|errors?)$/, /auth\w*(failed|failures?)$/, /(^|\.)(failed|unsuccessful)authentications?$/),
    deletions: pick(/(^|\.)deletions?$/, /(^|\.)deleted$/),
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- edge re-verification (reverifyLiveness) ---------------------------------------------------

/** Side of an evidence crop (fio_core::liveness::EVIDENCE_SIDE); a crop is side² RGB bytes. */
export const EVIDENCE_SIDE = 160;
/** HKDF info of the evidence key (the shipped js/evidence-seal.js). */
export { EVIDENCE_INFO };

/** `fio_core::liveness::CropBundle::to_bytes`: "FIE1", side u16 LE, count u8, then the crops. */
export function cropBundle(crops, { side = EVIDENCE_SIDE, count = crops.length } = {}) {
  const header = Buffer.alloc(7);
  header.write("FIE1", 0, "latin1");
  header.writeUInt16LE(side, 4);
  header[6] = count;
  return Buffer.concat([header, ...crops.map((c) => Buffer.from(c))]);
}

/**
 * Seals `bundle` to a ceremony's `evidenceKey` with the widget's own code (js/evidence-seal.js).
 * Forgeries (`salt`/`aad` other than the challenge ID, a chosen `iv`) use the shipped key
 * derivation with the one input changed. Returns `{epk, iv, data}` (base64).
 */
export async function sealEvidence(evidenceKey, challengeId, bundle, { salt = challengeId, aad = challengeId, iv } = {}) {
  if (salt === challengeId && aad === challengeId && iv === undefined) return shippedSeal(evidenceKey, challengeId, bundle);
  const { subtle } = globalThis.crypto;
  const curve = { name: "ECDH", namedCurve: "P-256" };
  const peer = await subtle.importKey("raw", fromBase64(evidenceKey), curve, false, []);
  const eph = await subtle.generateKey(curve, true, ["deriveBits"]);
  const shared = await subtle.deriveBits({ name: "ECDH", public: peer }, eph.privateKey, 256);
  const key = await evidenceAesKey(shared, salt, ["encrypt"]);
  const nonce = iv ?? globalThis.crypto.getRandomValues(new Uint8Array(12));
  const data = await subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: new TextEncoder().encode(aad) }, key, bundle);
  return { epk: toBase64(await subtle.exportKey("raw", eph.publicKey)), iv: toBase64(nonce), data: toBase64(data) };
}

/** A fresh P-256 public key (base64, 65-byte uncompressed point) nobody at the edge holds. */
export async function randomEvidenceKey() {
  const { subtle } = globalThis.crypto;
  const pair = await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  return toBase64(await subtle.exportKey("raw", pair.publicKey));
}
