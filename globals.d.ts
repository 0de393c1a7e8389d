// The globals defined by the classic script <script src="https://YOUR-EDGE/fiojs/fio.js">, as
// FACEIO's fio.js defines them. Script-tag projects that type-check their page code add
// `/// <reference types="@openfio/fiojs/globals" />` (module users import from the package
// instead and need nothing from here).
import type { default as FaceIOClass, FioErrorCodes } from "./index.js";

declare global {
  /** FACEIO's `faceIO` class: `new faceIO("app-public-id")`. */
  var faceIO: typeof FaceIOClass;
  /** FACEIO's error codes by name (`fioErrCode.PERMISSION_REFUSED` …). */
  var fioErrCode: FioErrorCodes;
}

export {};
