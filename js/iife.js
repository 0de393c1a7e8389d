// Entry of the classic-script build (dist/fio.js, served at /fiojs/fio.js): FACEIO's drop-in,
// defining the globals `faceIO` (the class) and `fioErrCode` (FACEIO's 22 codes), as
// <script src="https://cdn.faceio.net/fio.js"> does.
import faceIO, { fioErrCode, setScriptUrl, VERSION } from "./faceio.js";

// Only while this script runs does document.currentScript name it: its folder holds
// engine-worker.js and wasm/, and its origin is the edge.
if (typeof document !== "undefined" && document.currentScript && document.currentScript.src) {
  setScriptUrl(document.currentScript.src);
}
faceIO.fioErrCode = fioErrCode;
faceIO.VERSION = VERSION;
globalThis.faceIO = faceIO;
globalThis.fioErrCode = fioErrCode;
