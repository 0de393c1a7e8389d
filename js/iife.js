// Entry of the classic-script build (dist/fio.iife.js): defines the global `faceIO`.
import faceIO, { fioErrCode, VERSION } from "./faceio.js";
faceIO.fioErrCode = fioErrCode;
faceIO.VERSION = VERSION;
export default faceIO;
