// The widget against fio-core, without a browser or the wasm: the tables js/ uses are the module
// fio-core generates (js/generated/core-tables.js, kept current by `cargo test -p fio-core`), and
// the rules JS implements itself answer fio-core's golden vectors (tests/vectors/*.json,
// which fio-core/tests/rule_vectors.rs runs against the Rust functions).
//
//   node --test tests/package/core-tables.test.mjs
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import * as core from "../../js/generated/core-tables.js";
import { ERROR_CODES, allErrorCodes, errorName, sameAsCore } from "../../js/errors.js";
import {
  AUTHENTICATE_ALIASES,
  COMMON_PINS,
  DEFAULTS,
  DEFAULT_PIN_POLICY,
  ENROLL_ALIASES,
  MAX_PAYLOAD_BYTES,
  authenticateParams,
  enrollParams,
  isWeakPin,
  pinProblem,
} from "../../js/params.js";
import {
  DEFAULT_LOCALE,
  LOCALES,
  SUPPORTED_LOCALES,
  isRtl,
  resolveLocale,
  strings,
} from "../../js/locales/index.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const vectors = (name) => JSON.parse(readFileSync(join(ROOT, "tests/vectors", name), "utf8"));

test("the generated module is data only, frozen, with fio-core's header", () => {
  const src = readFileSync(join(ROOT, "js/generated/core-tables.js"), "utf8");
  assert.match(src.split("\n")[0], /^\/\/ Generated from fio-core by `cargo test -p fio-core`.*do not edit\.$/);
  assert.doesNotMatch(src, /\bimport\b|\bfunction\b|=>/, "no code besides Object.freeze");
  for (const [name, value] of Object.entries(core)) {
    if (typeof value === "object" && value !== null) {
      assert.ok(Object.isFrozen(value), `${name} is frozen`);
      for (const v of Object.values(value)) assert.ok(v === null || typeof v !== "object", `${name} is flat`);
    }
  }
});

test("error codes: js/errors.js is fio-core's table, FACEIO's 22 codes with the three-D typos", () => {
  assert.equal(ERROR_CODES, core.ERROR_CODES);
  assert.ok(Object.isFrozen(ERROR_CODES));
  const entries = Object.entries(ERROR_CODES);
  assert.equal(entries.length, 22);
  assert.deepEqual(entries.map(([, n]) => n), Array.from({ length: 22 }, (_, i) => i + 1), "numeric order 1..22");
  assert.equal(ERROR_CODES.FORBIDDDEN_ORIGIN, 17);
  assert.equal(ERROR_CODES.FORBIDDDEN_COUNTRY, 18);
  assert.equal(errorName(22), "MINORS_NOT_ALLOWED");
  const copy = allErrorCodes();
  copy.TIMEOUT = 99;
  assert.equal(ERROR_CODES.TIMEOUT, 14, "allErrorCodes() is a copy");
  assert.ok(sameAsCore({ ...core.ERROR_CODES }));
});

test("parameters: defaults, limits and aliases come from fio-core (the integration guide's values)", () => {
  assert.equal(DEFAULTS, core.ENROLL_DEFAULTS);
  assert.deepEqual({ ...DEFAULTS }, {
    payload: null,
    permissionTimeout: 27,
    termsTimeout: 10,
    idleTimeout: 27,
    replyTimeout: 40,
    enrollIntroTimeout: 12,
    locale: "auto",
    userConsent: false,
  });
  for (const [k, v] of Object.entries(core.AUTHENTICATE_DEFAULTS)) assert.equal(DEFAULTS[k], v, `authenticate ${k}`);
  const e = enrollParams();
  assert.deepEqual(
    [e.permissionMs, e.termsMs, e.idleMs, e.replyMs, e.introMs, e.locale, e.userConsent, e.payload],
    [27_000, 600_000, 27_000, 40_000, 12_000, "auto", false, null],
  );
  const a = authenticateParams({});
  assert.deepEqual([a.permissionMs, a.termsMs, a.idleMs, a.replyMs, a.introMs], [27_000, 0, 27_000, 40_000, 0]);
  assert.equal(MAX_PAYLOAD_BYTES, 16 * 1024);
  // The payload limit counts compact UTF-8 JSON: a string of n ASCII characters is n + 2 bytes.
  assert.doesNotThrow(() => enrollParams({ payload: "x".repeat(MAX_PAYLOAD_BYTES - 2) }));
  assert.throws(() => enrollParams({ payload: "x".repeat(MAX_PAYLOAD_BYTES - 1) }), /payload exceeds 16KB/);
  assert.deepEqual([...ENROLL_ALIASES], ["enroll", "enrol", "register", "record"]);
  assert.deepEqual([...AUTHENTICATE_ALIASES], ["authenticate", "auth", "recognize", "identify"]);
});

test("PIN: policy and common PINs from fio-core; pinProblem answers every golden vector", () => {
  assert.equal(DEFAULT_PIN_POLICY, core.DEFAULT_PIN_POLICY);
  assert.deepEqual({ ...DEFAULT_PIN_POLICY }, { minLen: 4, maxLen: 16, rejectWeak: true });
  assert.deepEqual([...COMMON_PINS], [...core.COMMON_PINS]);
  for (const pin of core.COMMON_PINS) assert.ok(isWeakPin(pin), pin);
  const { vectors: list } = vectors("pin.json");
  assert.ok(list.length >= 40);
  const seen = new Set();
  for (const v of list) {
    const got = v.policy === null ? pinProblem(v.pin) : pinProblem(v.pin, v.policy);
    assert.equal(got, v.problem, `pin ${JSON.stringify(v.pin)} policy ${JSON.stringify(v.policy)}`);
    seen.add(got);
  }
  assert.deepEqual([...seen].sort(), [null, "notDigits", "tooLong", "tooShort", "weak"].sort());
});

test("locales: fio-core's list, each with strings; resolveLocale and isRtl answer every golden vector", () => {
  assert.equal(SUPPORTED_LOCALES, core.SUPPORTED_LOCALES);
  assert.deepEqual(Object.keys(LOCALES), [...core.SUPPORTED_LOCALES], "js/locales has strings for exactly fio-core's locales");
  assert.equal(DEFAULT_LOCALE, core.DEFAULT_LOCALE);
  for (const l of SUPPORTED_LOCALES) assert.equal(strings(l).dir, core.RTL_LANGUAGES.includes(l) ? "rtl" : "ltr", l);
  const { resolve, rtl } = vectors("locale.json");
  assert.ok(resolve.length >= 15 && rtl.length >= 5);
  for (const v of resolve) {
    const got = v.appDefault === null ? resolveLocale(v.requested, v.browser) : resolveLocale(v.requested, v.browser, v.appDefault);
    assert.equal(got, v.expected, JSON.stringify(v));
  }
  for (const v of rtl) assert.equal(isRtl(v.locale), v.rtl, v.locale);
});

test("liveness thresholds: the feed's are fio-core's Thresholds::DEFAULT", () => {
  const t = core.LIVENESS_THRESHOLDS;
  for (const k of ["turnYawDeg", "lookUpPitchDeg", "closerScale", "blinkClosedRatio", "actionTimeoutMs"]) {
    assert.ok(Number.isFinite(t[k]), k);
  }
  assert.ok(t.blinkClosedRatio > 0 && t.blinkClosedRatio < 1);
  assert.ok(t.closerScale > 1);
});
