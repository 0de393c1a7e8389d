// Package entry (ESM): `import faceIO from "@openfio/fiojs"` (also `import { faceIO }`).
export { default, default as faceIO, VERSION, fioErrCode } from "./faceio.js";
export { ERROR_CODES, sameAsCore } from "./errors.js";
