// FACEIO drop-in: a page written the way FACEIO's integration guide writes it (classic script
// tag, `new faceIO(publicId)`, errors mapped through the global `fioErrCode`) works with OpenFIO
// by changing only the script URL and the public ID.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FIO, ceremony, createApp, describe, isUuid, launch, listFacialIds, openPage, startCall, settled, useEdge, video } from "./harness.mjs";

// FACEIO's snippet, verbatim in spirit; the two marked lines are the only OpenFIO changes.
const faceioPage = (publicId) => `<!doctype html>
<html><head><meta charset="utf-8"><title>FACEIO site</title></head>
<body>
  <button onclick="enrollNewUser()">Enroll New User</button>
  <button onclick="authenticateUser()">Authenticate User</button>
  <div id="faceio-modal"></div>
  <script src="/fiojs/fio.js"></script><!-- was https://cdn.faceio.net/fio.js -->
  <script type="text/javascript">
    const faceio = new faceIO("${publicId}"); // was your FACEIO application's public ID
    function handleError(errCode) {
      switch (errCode) {
        case fioErrCode.PERMISSION_REFUSED: return "Access to the Camera stream was denied by the end user";
        case fioErrCode.NO_FACES_DETECTED: return "No faces were detected during the enroll or authentication process";
        case fioErrCode.UNRECOGNIZED_FACE: return "Unrecognized face on this application's Facial Index";
        case fioErrCode.MANY_FACES: return "Two or more faces were detected during the scan process";
        case fioErrCode.FACE_DUPLICATION: return "User enrolled previously (facial features already recorded). Cannot enroll again!";
        case fioErrCode.MINORS_NOT_ALLOWED: return "Minors are not allowed to enroll on this application!";
        case fioErrCode.PAD_ATTACK: return "Presentation (Spoof) Attack (PAD) detected during the scan process";
        case fioErrCode.FACE_MISMATCH: return "Calculated Facial Vectors of the user being enrolled do not matches";
        case fioErrCode.WRONG_PIN_CODE: return "Wrong PIN code supplied by the user being authenticated";
        case fioErrCode.PROCESSING_ERR: return "Server side error";
        case fioErrCode.UNAUTHORIZED: return "Your application is not allowed to perform the requested operation (eg. Invalid ID, Blocked, Paused, etc.). Refer to the FACEIO Console for additional information";
        case fioErrCode.TERMS_NOT_ACCEPTED: return "Terms & Conditions set out by FACEIO/host application rejected by the end user";
        case fioErrCode.UI_NOT_READY: return "The FACEIO Widget could not be (or is being) injected onto the client DOM";
        case fioErrCode.SESSION_EXPIRED: return "Client session expired. The first promise was already fulfilled but the host application failed to act accordingly";
        case fioErrCode.TIMEOUT: return "Ongoing operation timed out (eg, Camera access permission, ToS accept delay, Face not yet detected, Server Reply, etc.)";
        case fioErrCode.TOO_MANY_REQUESTS: return "Widget instantiation requests exceeded for freemium applications. Does not apply for upgraded applications";
        case fioErrCode.EMPTY_ORIGIN: return "Origin or Referer HTTP request header is empty or missing";
        case fioErrCode.FORBIDDDEN_ORIGIN: return "Domain origin is forbidden from instantiating fio.js";
        case fioErrCode.FORBIDDDEN_COUNTRY: return "Country ISO-3166-1 Code is forbidden from instantiating fio.js";
        case fioErrCode.SESSION_IN_PROGRESS: return "Another authentication or enrollment session is in progress";
        case fioErrCode.NETWORK_IO:
        default: return "Error while establishing network connection with the target FACEIO processing node";
      }
    }
    window.__fio = faceio; // lets the test drive the widget like the buttons do
    window.__handleError = handleError;
  </script>
</body></html>`;

test("a FACEIO page with the classic script tag and fioErrCode works by changing the script URL and public ID", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge);
  const pageUrl = `${edge.url}/faceio-site.html`;

  const ctx = await launch(t, { videoFile: video("cap12"), phase: "dropin" });
  try {
    await openPage(ctx.page, pageUrl, faceioPage(app.publicId));
    const globals = await ctx.page.evaluate(() => ({
      faceIO: typeof window.faceIO,
      codes: window.fioErrCode && { ...window.fioErrCode },
      same: window.faceIO.fioErrCode === window.fioErrCode,
    }));
    assert.equal(globals.faceIO, "function", "the classic script defines the global faceIO");
    assert.deepEqual(globals.codes, { ...FIO }, "and the global fioErrCode, FACEIO's 22 codes");
    assert.equal(globals.same, true);

    // enrollNewUser() as FACEIO's guide writes it.
    const e = await ceremony(ctx, { method: "enroll", params: { locale: "auto", payload: { whoami: 123456, email: "john.doe@example.com" } }, pins: ["4096"] });
    assert.equal(e.ok, true, `enroll: ${describe(e)}`);
    assert.ok(isUuid(e.value.facialId), JSON.stringify(e.value));
    const list = await listFacialIds(edge, app);
    assert.equal(list.total, 1, JSON.stringify(list));

    // A rejection arrives as FACEIO's number and maps through the page's fioErrCode switch: a
    // second enroll() while one runs is SESSION_IN_PROGRESS, as in FACEIO.
    const first = await startCall(ctx.page, "authenticate", { locale: "auto" });
    const second = await startCall(ctx.page, "enroll", {});
    const r2 = await settled(ctx.page, second);
    assert.equal(r2.rejection?.value, FIO.SESSION_IN_PROGRESS, JSON.stringify(r2));
    const message = await ctx.page.evaluate((c) => window.__handleError(c), r2.rejection.value);
    assert.equal(message, "Another authentication or enrollment session is in progress");

    // authenticateUser(): the running authenticate completes with the enrolled user.
    const a = await ceremony(ctx, { runId: first });
    assert.equal(a.ok, true, `authenticate: ${describe(a)}`);
    assert.equal(a.value.facialId, e.value.facialId);
    assert.deepEqual(a.value.payload, { whoami: 123456, email: "john.doe@example.com" });
  } finally {
    await ctx.close();
  }
});
