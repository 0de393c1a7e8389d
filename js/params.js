// Parameters of enroll()/authenticate(): FACEIO's names and defaults (fio-core/src/params.rs).
// Timeouts are seconds except termsTimeout (minutes). Unknown properties are ignored, as
// EnrollParams::from_json does; invalid values throw FioError(PROCESSING_ERR).

import { ERROR_CODES, FioError } from "./errors.js";

export const DEFAULTS = Object.freeze({
  permissionTimeout: 27, // seconds
  termsTimeout: 10, // MINUTES
  idleTimeout: 27, // seconds
  replyTimeout: 40, // seconds
  enrollIntroTimeout: 12, // seconds
  locale: "auto",
  userConsent: false,
  payload: null,
});

export const MAX_PAYLOAD_BYTES = 16 * 1024;

export const ENROLL_ALIASES = Object.freeze(["enroll", "enrol", "register", "record"]);
export const AUTHENTICATE_ALIASES = Object.freeze(["authenticate", "auth", "recognize", "identify"]);

function bad(msg) {
  return new FioError(ERROR_CODES.PROCESSING_ERR, `invalid parameter: ${msg}`);
}

function timeout(p, name) {
  const v = p[name] === undefined || p[name] === null ? DEFAULTS[name] : p[name];
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw bad(`${name} must be a finite, non-negative number`);
  }
  return v;
}

function locale(p) {
  const v = p.locale === undefined || p.locale === null ? DEFAULTS.locale : p.locale;
  if (typeof v !== "string") throw bad("locale must be a string");
  return v;
}

// The site's nonce travels to the edge, which validates it (fio_core::protocol::validate_nonce:
// 1..256 visible ASCII characters) and answers 400 otherwise; only its type is checked here.
function nonce(p) {
  if (p.nonce === undefined || p.nonce === null) return undefined;
  if (typeof p.nonce !== "string") throw bad("nonce must be a string");
  return p.nonce;
}

function object(params) {
  if (params === undefined || params === null) return {};
  if (typeof params !== "object" || Array.isArray(params)) throw bad("parameters must be an object");
  return params;
}

/** Size in bytes of the payload's compact JSON (UTF-8). */
export function payloadBytes(payload) {
  const json = JSON.stringify(payload === undefined ? null : payload);
  if (json === undefined) throw bad("payload must be serializable JSON");
  return new TextEncoder().encode(json).length;
}

/** enroll() parameters with defaults applied; `*Ms` fields are the timeouts in milliseconds. */
export function enrollParams(params) {
  const p = object(params);
  let payload = p.payload === undefined ? null : p.payload;
  try {
    payload = JSON.parse(JSON.stringify(payload));
  } catch {
    throw bad("payload must be serializable JSON");
  }
  if (payload === undefined) payload = null;
  if (payloadBytes(payload) > MAX_PAYLOAD_BYTES) throw bad("payload exceeds 16KB");
  const out = {
    payload,
    permissionTimeout: timeout(p, "permissionTimeout"),
    termsTimeout: timeout(p, "termsTimeout"),
    idleTimeout: timeout(p, "idleTimeout"),
    replyTimeout: timeout(p, "replyTimeout"),
    enrollIntroTimeout: timeout(p, "enrollIntroTimeout"),
    locale: locale(p),
    userConsent: p.userConsent === undefined || p.userConsent === null ? false : p.userConsent === true,
    nonce: nonce(p),
  };
  return withMs(out);
}

/** authenticate() parameters with defaults applied. */
export function authenticateParams(params) {
  const p = object(params);
  const out = {
    permissionTimeout: timeout(p, "permissionTimeout"),
    idleTimeout: timeout(p, "idleTimeout"),
    replyTimeout: timeout(p, "replyTimeout"),
    locale: locale(p),
    nonce: nonce(p),
  };
  return withMs(out);
}

function withMs(p) {
  return {
    ...p,
    permissionMs: Math.round(p.permissionTimeout * 1000),
    termsMs: p.termsTimeout === undefined ? 0 : Math.round(p.termsTimeout * 60000),
    idleMs: Math.round(p.idleTimeout * 1000),
    replyMs: Math.round(p.replyTimeout * 1000),
    introMs: p.enrollIntroTimeout === undefined ? 0 : Math.round(p.enrollIntroTimeout * 1000),
  };
}

// --- PIN rules (fio-core/src/pin.rs) -------------------------------------------------------

export const COMMON_PINS = new Set([
  "0000", "1111", "1234", "1212", "7777", "1004", "2000", "4444", "2222", "6969", "9999", "3333",
  "5555", "6666", "1122", "1313", "8888", "4321", "2001", "1010", "2580", "0852", "5683", "1998",
  "1999", "12345", "123456", "654321", "111111", "121212", "123123", "112233", "159753",
  "147258", "123321", "666666", "696969", "000000",
]);

export const DEFAULT_PIN_POLICY = Object.freeze({ minLen: 4, maxLen: 16, rejectWeak: true });

/** is_weak_pin: a repeated block, an ascending/descending run, or a common PIN. */
export function isWeakPin(pin) {
  const n = pin.length;
  for (let p = 1; p < n; p++) {
    if (n % p !== 0) continue;
    const head = pin.slice(0, p);
    if (pin === head.repeat(n / p)) return true;
  }
  const run = (step) => {
    if (n <= 1) return false;
    for (let i = 1; i < n; i++) if (pin.charCodeAt(i) - pin.charCodeAt(i - 1) !== step) return false;
    return true;
  };
  return run(1) || run(-1) || COMMON_PINS.has(pin);
}

/** validate_pin → null when fine, else "notDigits" | "tooShort" | "tooLong" | "weak". */
export function pinProblem(pin, policy = DEFAULT_PIN_POLICY) {
  const minLen = Math.max(1, policy.minLen ?? 4);
  const maxLen = policy.maxLen ?? 16;
  if (!/^[0-9]*$/.test(pin)) return "notDigits";
  if (pin.length < minLen) return "tooShort";
  if (pin.length > maxLen) return "tooLong";
  if ((policy.rejectWeak ?? true) && isWeakPin(pin)) return "weak";
  return null;
}
