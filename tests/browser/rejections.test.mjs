// 2–6: the camera shows something that must be rejected with the right FACEIO code.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FIO, authenticateVia, ceremony, codeName, createApp, describe, enrollVia, launch, openFio, patchApp, useEdge, video } from "./harness.mjs";

const expectCode = (res, code, what) =>
  assert.equal(res.code, code, `${what}: expected ${codeName(code)} (${code}), got ${describe(res)}`);

test("a photo of another person (liveness off) → UNRECOGNIZED_FACE", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, { livenessMode: "off" });
  const e = await enrollVia(t, edge, app, { payload: { who: "cap_man" } });
  assert.equal(e.ok, true, `enroll cap12 first: ${describe(e)}`);
  const a = await authenticateVia(t, edge, app, { videoName: "still_other" });
  expectCode(a, FIO.UNRECOGNIZED_FACE, "another person's photo");
});

test("a still photo of the enrolled person (passive liveness) → PAD_ATTACK", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, { livenessMode: "off" });
  const e = await enrollVia(t, edge, app, { payload: { who: "cap_man" } });
  assert.equal(e.ok, true, `enroll cap12 first: ${describe(e)}`);
  // Enrolled without liveness (the looping clip may not blink in the wait); then turned on.
  await patchApp(edge, app.publicId, { options: { livenessMode: "passive" } });
  const a = await authenticateVia(t, edge, app, { videoName: "still_cap12" });
  expectCode(a, FIO.PAD_ATTACK, "a still frame of cap12 as the camera");
});

test("a group photo → MANY_FACES", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, { livenessMode: "off" });
  const a = await authenticateVia(t, edge, app, { videoName: "group", params: { idleTimeout: 20 } });
  expectCode(a, FIO.MANY_FACES, "three men in the picture");
});

test("no face in the feed → NO_FACES_DETECTED after idleTimeout", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  const idle = 4;
  const a = await authenticateVia(t, edge, app, { videoName: "noface", params: { idleTimeout: idle } });
  expectCode(a, FIO.NO_FACES_DETECTED, "an emoticon on grey");
  const scanAt = a.scanAt();
  assert.ok(scanAt !== null, `the camera screen was shown: ${describe(a)}`);
  // From the first poll (every ~120 ms) that saw the camera scanning (models loaded) to the
  // rejection, measured in the page.
  const sinceScan = a.elapsedMs - scanAt;
  const msg = `${Math.round(sinceScan)} ms after scanning started (states ${JSON.stringify(a.states)})`;
  assert.ok(sinceScan >= idle * 1000 - 1500, `not before idleTimeout (${idle} s): ${msg}`);
  assert.ok(sinceScan <= idle * 1000 + 6000, `soon after idleTimeout (${idle} s): ${msg}`);
});

test("camera permission denied → PERMISSION_REFUSED", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  const ctx = await launch(t, { videoFile: video("cap13"), fakeUi: false });
  await openFio(ctx.page, edge, app.publicId);
  const a = await ceremony(ctx, { method: "authenticate", params: { permissionTimeout: 8 } });
  expectCode(a, FIO.PERMISSION_REFUSED, "getUserMedia refused");
  assert.ok(a.elapsedMs < 8000 + 15000, `no long wait: ${Math.round(a.elapsedMs)} ms`);
});

test("permission prompt never answered → PERMISSION_REFUSED after permissionTimeout", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  // Headless Chromium answers every permission prompt at once (granted with the fake UI, else
  // denied), so an unanswered prompt is simulated: getUserMedia never settles.
  const ctx = await launch(t, { videoFile: video("cap13") });
  await ctx.page.addInitScript(() => {
    if (navigator.mediaDevices) navigator.mediaDevices.getUserMedia = () => new Promise(() => {});
  });
  await openFio(ctx.page, edge, app.publicId);
  const timeout = 3;
  const a = await ceremony(ctx, { method: "authenticate", params: { permissionTimeout: timeout } });
  expectCode(a, FIO.PERMISSION_REFUSED, "permission prompt unanswered");
  assert.ok(a.elapsedMs >= timeout * 1000 - 500, `not before permissionTimeout: ${Math.round(a.elapsedMs)} ms`);
  assert.ok(a.elapsedMs <= timeout * 1000 + 20000, `soon after permissionTimeout: ${Math.round(a.elapsedMs)} ms`);
});
