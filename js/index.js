// Package entry (ESM): `import faceIO from "@openfio/fiojs"`.
export { default, VERSION, fioErrCode } from "./faceio.js";
export { ERROR_CODES, sameAsCore } from "./errors.js";
