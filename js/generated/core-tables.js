// Generated from fio-core by `cargo test -p fio-core` (fio-core/src/js_tables.rs): do not edit.
// Change the Rust source, then regenerate: UPDATE_JS_TABLES=1 cargo test -p fio-core js_tables

/** FACEIO's error codes (fioErrCode.*), numbered and spelled as fio.js has them (fio_core::ErrorCode). */
export const ERROR_CODES = /* @__PURE__ */ Object.freeze({
  "PERMISSION_REFUSED": 1,
  "NO_FACES_DETECTED": 2,
  "UNRECOGNIZED_FACE": 3,
  "MANY_FACES": 4,
  "PAD_ATTACK": 5,
  "FACE_MISMATCH": 6,
  "NETWORK_IO": 7,
  "WRONG_PIN_CODE": 8,
  "PROCESSING_ERR": 9,
  "UNAUTHORIZED": 10,
  "TERMS_NOT_ACCEPTED": 11,
  "UI_NOT_READY": 12,
  "SESSION_EXPIRED": 13,
  "TIMEOUT": 14,
  "TOO_MANY_REQUESTS": 15,
  "EMPTY_ORIGIN": 16,
  "FORBIDDDEN_ORIGIN": 17,
  "FORBIDDDEN_COUNTRY": 18,
  "UNIQUE_PIN_REQUIRED": 19,
  "SESSION_IN_PROGRESS": 20,
  "FACE_DUPLICATION": 21,
  "MINORS_NOT_ALLOWED": 22
});

/** enroll() parameters and their defaults (fio_core::params::EnrollParams; timeouts in seconds, termsTimeout in minutes). */
export const ENROLL_DEFAULTS = /* @__PURE__ */ Object.freeze({
  "payload": null,
  "permissionTimeout": 27.0,
  "termsTimeout": 10.0,
  "idleTimeout": 27.0,
  "replyTimeout": 40.0,
  "enrollIntroTimeout": 12.0,
  "locale": "auto",
  "userConsent": false
});

/** authenticate() parameters and their defaults (fio_core::params::AuthenticateParams). */
export const AUTHENTICATE_DEFAULTS = /* @__PURE__ */ Object.freeze({
  "permissionTimeout": 27.0,
  "idleTimeout": 27.0,
  "replyTimeout": 40.0,
  "locale": "auto"
});

/** Largest enroll() payload, bytes of compact UTF-8 JSON (fio_core::MAX_PAYLOAD_BYTES). */
export const MAX_PAYLOAD_BYTES = 16384;

/** Method names fio.js accepts for enroll() (fio_core::params::ENROLL_METHOD_ALIASES). */
export const ENROLL_ALIASES = /* @__PURE__ */ Object.freeze([
  "enroll",
  "enrol",
  "register",
  "record"
]);

/** Method names fio.js accepts for authenticate() (fio_core::params::AUTHENTICATE_METHOD_ALIASES). */
export const AUTHENTICATE_ALIASES = /* @__PURE__ */ Object.freeze([
  "authenticate",
  "auth",
  "recognize",
  "identify"
]);

/** The PIN policy an application gets unless it sets its own (fio_core::PinPolicy::default()). */
export const DEFAULT_PIN_POLICY = /* @__PURE__ */ Object.freeze({
  "minLen": 4,
  "maxLen": 16,
  "rejectWeak": true
});

/** PINs rejected as too common when the policy rejects weak PINs (fio_core::pin::COMMON_PINS). */
export const COMMON_PINS = /* @__PURE__ */ Object.freeze([
  "0000",
  "1111",
  "1234",
  "1212",
  "7777",
  "1004",
  "2000",
  "4444",
  "2222",
  "6969",
  "9999",
  "3333",
  "5555",
  "6666",
  "1122",
  "1313",
  "8888",
  "4321",
  "2001",
  "1010",
  "2580",
  "0852",
  "5683",
  "1998",
  "1999",
  "12345",
  "123456",
  "654321",
  "111111",
  "121212",
  "123123",
  "112233",
  "159753",
  "147258",
  "123321",
  "666666",
  "696969",
  "000000"
]);

/** Languages the widget is translated into, BCP 47 primary subtags (fio_core::locale::SUPPORTED_LOCALES). */
export const SUPPORTED_LOCALES = /* @__PURE__ */ Object.freeze([
  "en",
  "es",
  "fr",
  "de",
  "pt",
  "ar",
  "ja"
]);

/** The fallback language (fio_core::locale::DEFAULT_LOCALE). */
export const DEFAULT_LOCALE = "en";

/** Right-to-left primary subtags (fio_core::locale::RTL_LANGUAGES). */
export const RTL_LANGUAGES = /* @__PURE__ */ Object.freeze([
  "ar",
  "he",
  "fa",
  "ur"
]);

/** The shipped liveness thresholds (fio_core::liveness::Thresholds::DEFAULT). */
export const LIVENESS_THRESHOLDS = /* @__PURE__ */ Object.freeze({
  "passiveMin": 0.5,
  "patternMax": 1.7,
  "minBlinksPassive": 1,
  "blinkWaitMs": 8000.0,
  "minBlinksActive": 0,
  "minFrames": 6,
  "blinkClosedRatio": 0.8,
  "blinkWindowMs": 450.0,
  "turnYawDeg": 10.0,
  "lookUpPitchDeg": 10.0,
  "closerScale": 1.2,
  "restFraction": 0.6,
  "holdFrames": 2,
  "actionTimeoutMs": 8000.0,
  "maxFaceGapMs": 1500.0,
  "minSimilarity": 0.5,
  "identityMaxYawDeg": 20.0,
  "evidenceActionFraction": 0.8,
  "evidenceCloserFraction": 0.6,
  "evidenceBlinkRatio": 0.95
});
