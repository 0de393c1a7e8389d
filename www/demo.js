// Demo page logic (the guide's React example, in plain JS). `?debug` exposes
// window.__openfioDebug; `?edge=URL` uses another edge.
import faceIO from "./fiojs/fio.mjs";

const q = new URLSearchParams(location.search);
const faceio = new faceIO(q.get("app") || "demo", { edgeUrl: q.get("edge") || undefined, debug: q.has("debug") });
window.faceio = faceio;
const fioErrs = faceio.fetchAllErrorCodes();
const $ = (id) => document.getElementById(id);

function show({ status, facialId, payload, details, error }) {
  $("status").textContent = status;
  $("facialId").textContent = facialId ?? "—";
  $("outPayload").textContent = payload === undefined ? "—" : JSON.stringify(payload);
  $("details").textContent = details ? `gender: ${details.gender}, age: ${details.age}` : "—";
  $("error").textContent = error ?? "—";
}

function handleError(errCode) {
  const name = Object.keys(fioErrs).find((k) => fioErrs[k] === errCode) || "UNKNOWN";
  show({ status: "error", error: `${errCode} (${name})` });
  switch (errCode) {
    case fioErrs.PERMISSION_REFUSED: console.log("Access to the Camera stream was denied by the end user"); break;
    case fioErrs.NO_FACES_DETECTED: console.log("No faces were detected during the enroll or authentication process"); break;
    case fioErrs.UNRECOGNIZED_FACE: console.log("Unrecognized face on this application's Facial Index"); break;
    case fioErrs.MANY_FACES: console.log("Two or more faces were detected during the scan process"); break;
    case fioErrs.FACE_DUPLICATION: console.log("User enrolled previously (facial features already recorded). Cannot enroll again!"); break;
    case fioErrs.MINORS_NOT_ALLOWED: console.log("Minors are not allowed to enroll on this application!"); break;
    case fioErrs.PAD_ATTACK: console.log("Presentation (Spoof) Attack (PAD) detected during the scan process"); break;
    case fioErrs.FACE_MISMATCH: console.log("Calculated Facial Vectors of the user being enrolled do not matches"); break;
    case fioErrs.WRONG_PIN_CODE: console.log("Wrong PIN code supplied by the user being authenticated"); break;
    default: console.log(`fio.js error ${errCode} (${name})`);
  }
}

async function enrollNewUser() {
  let payload;
  try {
    payload = JSON.parse($("payload").value || "null");
  } catch {
    show({ status: "error", error: "payload is not valid JSON" });
    return;
  }
  show({ status: "enrolling…" });
  try {
    const userInfo = await faceio.enroll({ locale: $("locale").value, payload });
    show({ status: "enrolled", facialId: userInfo.facialId, details: userInfo.details, payload });
    console.log(`User Successfully Enrolled! Details:
Unique Facial ID: ${userInfo.facialId}
Enrollment Date: ${userInfo.timestamp}
Gender: ${userInfo.details.gender}
Age Approximation: ${userInfo.details.age}`);
  } catch (errCode) {
    handleError(errCode);
  }
}

async function authenticateUser() {
  show({ status: "authenticating…" });
  try {
    const userData = await faceio.authenticate({ locale: $("locale").value });
    show({ status: "authenticated", facialId: userData.facialId, payload: userData.payload });
    console.log("Success, user identified. Linked facial Id: " + userData.facialId);
    console.log("Payload: " + JSON.stringify(userData.payload));
  } catch (errCode) {
    handleError(errCode);
  }
}

$("enroll").addEventListener("click", enrollNewUser);
$("authenticate").addEventListener("click", authenticateUser);
$("restart").addEventListener("click", () => {
  const ok = faceio.restartSession({});
  show({ status: ok ? "session restarted" : "restart refused" });
});
