// FACEIO's error codes (fioErrCode.*), numbered and spelled exactly as fio.js exposes them —
// FORBIDDDEN_ORIGIN / FORBIDDDEN_COUNTRY keep FACEIO's three Ds. The table is fio_core::ErrorCode,
// generated into ./generated/core-tables.js (fio-core/src/js_tables.rs), so fetchAllErrorCodes()
// works before the wasm loads. `sameAsCore(fioWasm.errorCodes())` checks the loaded wasm against it.
import { ERROR_CODES } from "./generated/core-tables.js";

export { ERROR_CODES };

const BY_CODE = new Map(Object.entries(ERROR_CODES).map(([k, v]) => [v, k]));

/** The constant name of a numeric code (`undefined` when unknown). */
export function errorName(code) {
  return BY_CODE.get(code);
}

/** True when `code` is one of FACEIO's 22 numbers. */
export function isErrorCode(code) {
  return BY_CODE.has(code);
}

/** A fresh, mutable copy of the table (what fetchAllErrorCodes() returns). */
export function allErrorCodes() {
  return { ...ERROR_CODES };
}

/** True when `other` (e.g. fio-wasm's errorCodes(), i.e. fio_core's table) equals this one. */
export function sameAsCore(other) {
  if (!other || typeof other !== "object") return false;
  const a = Object.keys(ERROR_CODES).sort();
  const b = Object.keys(other).sort();
  return a.length === b.length && a.every((k, i) => k === b[i] && ERROR_CODES[k] === Number(other[k]));
}

/**
 * Internal carrier for a FACEIO code through the ceremony; public promises reject with the bare
 * number (`err.code`), as fio.js does.
 */
export class FioError extends Error {
  constructor(code, message) {
    super(message || errorName(code) || `error ${code}`);
    this.name = "FioError";
    this.code = code;
  }
}

/** The numeric code of anything thrown inside a ceremony (unknown → PROCESSING_ERR). */
export function toCode(err) {
  if (typeof err === "number" && isErrorCode(err)) return err;
  if (err && typeof err.code === "number" && isErrorCode(err.code)) return err.code;
  if (err && typeof err.message === "string" && ERROR_CODES[err.message] !== undefined) {
    return ERROR_CODES[err.message];
  }
  return ERROR_CODES.PROCESSING_ERR;
}
