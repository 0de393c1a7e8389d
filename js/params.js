// Parameters of enroll()/authenticate(): FACEIO's names and defaults, and the PIN check. The
// data (defaults, limits, aliases, PIN policy and common PINs) is fio-core's, generated into
// ./generated/core-tables.js; the checks are here, held to fio-core's answers by the golden
// vectors in tests/vectors/ (tests/package/core-tables.test.mjs).
// Timeouts are seconds except termsTimeout (minutes). Unknown properties are ignored, as fio.js
// ignores them; invalid values throw FioError(PROCESSING_ERR).

import { ERROR_CODES, FioError } from "./errors.js";
import {
  AUTHENTICATE_ALIASES,
  COMMON_PINS as COMMON_PIN_LIST,
  DEFAULT_PIN_POLICY,
  ENROLL_ALIASES,
  ENROLL_DEFAULTS,
  MAX_PAYLOAD_BYTES,
} from "./generated/core-tables.js";

/** enroll()'s defaults (a superset of authenticate()'s): seconds, termsTimeout in MINUTES. */
export const DEFAULTS = ENROLL_DEFAULTS;

export { AUTHENTICATE_ALIASES, DEFAULT_PIN_POLICY, ENROLL_ALIASES, MAX_PAYLOAD_BYTES };

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
  if (payloadBytes(payload) > MAX_PAYLOAD_BYTES) throw bad(`payload exceeds ${MAX_PAYLOAD_BYTES / 1024}KB`);
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

// --- PIN rules (fio_core::pin: validate_pin, is_weak_pin) -----------------------------------

export const COMMON_PINS = new Set(COMMON_PIN_LIST);

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
  const minLen = Math.max(1, policy.minLen ?? DEFAULT_PIN_POLICY.minLen);
  const maxLen = policy.maxLen ?? DEFAULT_PIN_POLICY.maxLen;
  if (!/^[0-9]*$/.test(pin)) return "notDigits";
  if (pin.length < minLen) return "tooShort";
  if (pin.length > maxLen) return "tooLong";
  if ((policy.rejectWeak ?? DEFAULT_PIN_POLICY.rejectWeak) && isWeakPin(pin)) return "weak";
  return null;
}
