// ignoreObscuredFaces (FACEIO's "Ignore Obscured and Partially Masked Faces"): with the option on,
// a face under a mask is ignored as if absent — the widget asks the user to uncover it and, if
// they never do, ends with NO_FACES_DETECTED after idleTimeout; nothing is enrolled. The same man
// unmasked enrolls in that app, and with the option off (the default) the masked man enrolls.
// The mask is synthetic: masked_cap12.y4m is cap12 with a surgical mask painted over the face in
// every frame by `fio-eval occlude` (tests/browser/make-videos.sh).
import assert from "node:assert/strict";
import { test } from "node:test";
import { FIO, codeName, createApp, describe, enrollVia, getApp, isUuid, listFacialIds, useEdge } from "./harness.mjs";

const IDLE_S = 6;

test("ignoreObscuredFaces: a masked face → 'uncover your face', then NO_FACES_DETECTED; unmasked enrolls", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, { livenessMode: "off", ignoreObscuredFaces: true });
  assert.equal((await getApp(edge, app.publicId)).body.options.ignoreObscuredFaces, true);

  const m = await enrollVia(t, edge, app, { videoName: "masked_cap12", phase: "masked", params: { idleTimeout: IDLE_S } });
  t.diagnostic(`masked: ${describe(m)}; states ${JSON.stringify(m.states.map((s) => s.state))}`);
  assert.equal(m.code, FIO.NO_FACES_DETECTED, `masked face ignored: expected NO_FACES_DETECTED (2), got ${m.ok ? "success" : codeName(m.code)}: ${describe(m)}`);
  assert.ok(m.states.some((s) => s.screen === "camera" && s.state === "uncoverFace"), `the widget asked to uncover the face: ${JSON.stringify(m.states)}`);
  const scanAt = m.scanAt();
  assert.ok(scanAt !== null && m.elapsedMs - scanAt >= IDLE_S * 1000 - 1500, `rejected after idleTimeout, not before: ${describe(m)}`);
  assert.equal((await listFacialIds(edge, app)).total, 0, "nothing enrolled");

  const c = await enrollVia(t, edge, app, { videoName: "cap12", phase: "clear", payload: { who: "cap_man" } });
  assert.equal(c.ok, true, `the same man unmasked enrolls: ${describe(c)}`);
  assert.ok(isUuid(c.value.facialId));
  assert.ok(!c.states.some((s) => s.state === "uncoverFace"), `a bare face is never 'obscured': ${JSON.stringify(c.states)}`);
});

test("ignoreObscuredFaces off (the default): the masked man enrolls", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, { livenessMode: "off" });
  assert.equal((await getApp(edge, app.publicId)).body.options.ignoreObscuredFaces, false);
  const m = await enrollVia(t, edge, app, { videoName: "masked_cap12", phase: "masked", params: { idleTimeout: IDLE_S } });
  assert.equal(m.ok, true, `masked enroll without the option: ${describe(m)}`);
  assert.ok(!m.states.some((s) => s.state === "uncoverFace"), `no uncover prompt without the option: ${JSON.stringify(m.states)}`);
  assert.equal((await listFacialIds(edge, app)).total, 1);
});
