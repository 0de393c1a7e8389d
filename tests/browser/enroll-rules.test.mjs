// The application's enrollment rules, enforced on real faces through the real widget and edge:
// 21 FACE_DUPLICATION (preventDuplicates), 19 UNIQUE_PIN_REQUIRED (enforcePinUniqueness: not a
// rejection in FACEIO — the widget asks for another PIN and the enrollment goes on), 22
// MINORS_NOT_ALLOWED (minAge above the estimated age of the adult on camera), 6 FACE_MISMATCH
// (the capture sees two different people). Edge state is checked through the REST API.
import assert from "node:assert/strict";
import { test } from "node:test";
import en from "../../js/locales/en.js";
import {
  FIO, appStats, cameraTracks, ceremony, codeName, createApp, describe, isUuid, launch,
  listFacialIds, openFio, patchApp, useEdge, video, widgetInfo,
} from "./harness.mjs";

const expectCode = (res, code, what) =>
  assert.equal(res.code, code, `${what}: expected ${codeName(code)} (${code}), got ${describe(res)}`);

/** After a rejected ceremony: widget removed, camera released. */
async function assertReleased(ctx, what) {
  assert.equal((await widgetInfo(ctx.page)).present, false, `${what}: widget removed`);
  assert.equal((await cameraTracks(ctx.page)).live, 0, `${what}: camera released`);
}

test("the same man enrolling twice (preventDuplicates) → FACE_DUPLICATION; he still authenticates", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {}); // preventDuplicates defaults to true
  const ctx = await launch(t, { videoFile: video("cap12") });
  await openFio(ctx.page, edge, app.publicId);
  const first = await ceremony(ctx, { method: "enroll", params: { payload: { n: 1 } }, pins: ["4096"], shotPrefix: "enroll1-" });
  assert.equal(first.ok, true, `first enrollment: ${describe(first)}`);

  const second = await ceremony(ctx, { method: "enroll", params: { payload: { n: 2 } }, pins: ["5820"], shotPrefix: "enroll2-" });
  expectCode(second, FIO.FACE_DUPLICATION, "second enrollment of the same face");
  await assertReleased(ctx, "duplicate");
  const list = await listFacialIds(edge, app);
  assert.equal(list.total, 1, `still one facial ID: ${JSON.stringify(list)}`);
  assert.equal(list.facialIds[0].facialId, first.value.facialId);
  const stats = await appStats(edge, app);
  assert.equal(stats.enrollments, 1, `one enrollment counted: ${JSON.stringify(stats)}`);

  const auth = await ceremony(ctx, { method: "authenticate", shotPrefix: "auth-" });
  assert.equal(auth.ok, true, `authenticate after the refused duplicate: ${describe(auth)}`);
  assert.equal(auth.value.facialId, first.value.facialId);
  assert.deepEqual(auth.value.payload, { n: 1 }, "the first enrollment's payload is untouched");
});

test("enforcePinUniqueness: a PIN already in use → the widget asks another PIN (UNIQUE_PIN_REQUIRED), then succeeds", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, { enforcePinUniqueness: true, livenessMode: "off" });

  const a = await launch(t, { videoFile: video("cap12"), phase: "user1" });
  await openFio(a.page, edge, app.publicId);
  const u1 = await ceremony(a, { method: "enroll", params: { payload: { user: 1 } }, pins: ["4096"] });
  assert.equal(u1.ok, true, `user 1: ${describe(u1)}`);
  await a.close();

  // Another person picks the same PIN, then a fresh one.
  const b = await launch(t, { videoFile: video("still_other"), phase: "user2" });
  await openFio(b.page, edge, app.publicId);
  const u2 = await ceremony(b, { method: "enroll", params: { payload: { user: 2 } }, pins: ["4096", "5820"] });
  assert.equal(u2.ok, true, `UNIQUE_PIN_REQUIRED is not a rejection: the enrollment goes on: ${describe(u2)}`);
  assert.ok(isUuid(u2.value.facialId) && u2.value.facialId !== u1.value.facialId, `a new facial ID: ${JSON.stringify(u2.value)}`);
  assert.equal(u2.pinsTyped, 2, "asked for a PIN twice");
  assert.deepEqual(u2.pinErrors, [en.pinNotUnique], `the widget told the user why: ${JSON.stringify(u2.pinErrors)}`);
  const pinVisits = u2.screens.filter((s) => s.screen === "pin").length;
  assert.equal(pinVisits, 1, "the PIN screen stayed up for the retry (no error screen in between)");
  assert.ok(!u2.screens.some((s) => s.screen === "error"), `no error screen: ${describe(u2)}`);
  const list = await listFacialIds(edge, app);
  assert.equal(list.total, 2, `both users enrolled: ${JSON.stringify(list)}`);

  // The PIN stored for user 2 is the second one: with alwaysAskPin, 5820 lets them in.
  await patchApp(edge, app.publicId, { options: { alwaysAskPin: true } });
  const auth = await ceremony(b, { method: "authenticate", pins: ["5820"], shotPrefix: "user2-auth-" });
  assert.equal(auth.ok, true, `user 2 authenticates with the PIN chosen on retry: ${describe(auth)}`);
  assert.equal(auth.value.facialId, u2.value.facialId);
  assert.deepEqual(auth.value.payload, { user: 2 });
});

test("minAge above the person's estimated age → MINORS_NOT_ALLOWED; minAge 18 → enrolled", async (t) => {
  const edge = await useEdge();
  // The edge caps minAge at 150; 120 makes the adult on camera count as under age.
  const app = await createApp(edge, { minAge: 120 });
  const ctx = await launch(t, { videoFile: video("cap12") });
  await openFio(ctx.page, edge, app.publicId);
  const r = await ceremony(ctx, { method: "enroll", params: { payload: { n: 1 } }, pins: ["4096"], shotPrefix: "minage120-" });
  expectCode(r, FIO.MINORS_NOT_ALLOWED, "minAge 120");
  await assertReleased(ctx, "minor");
  assert.equal((await listFacialIds(edge, app)).total, 0, "nothing enrolled");

  await patchApp(edge, app.publicId, { options: { minAge: 18 } });
  const ok = await ceremony(ctx, { method: "enroll", params: { payload: { n: 2 } }, pins: ["4096"], shotPrefix: "minage18-" });
  assert.equal(ok.ok, true, `minAge 18: ${describe(ok)}`);
  assert.ok(ok.value.details.age >= 18 && ok.value.details.age < 120, `estimated age ${ok.value.details.age}`);
  assert.equal((await listFacialIds(edge, app)).total, 1);
});

test("two different people during the capture → FACE_MISMATCH, before any PIN; nothing stored", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, { livenessMode: "off" });
  const ctx = await launch(t, { videoFile: video("switch_person") });
  await openFio(ctx.page, edge, app.publicId);
  const r = await ceremony(ctx, { method: "enroll", params: {}, pins: ["4096"] });
  expectCode(r, FIO.FACE_MISMATCH, "cap12 and Franck taking turns");
  assert.ok(r.screens.some((s) => s.screen === "camera"), `the capture ran: ${describe(r)}`);
  assert.ok(!r.screens.some((s) => s.screen === "pin"), `no PIN asked: ${describe(r)}`);
  await assertReleased(ctx, "mismatch");
  const list = await listFacialIds(edge, app);
  assert.equal(list.total, 0, `nothing enrolled: ${JSON.stringify(list)}`);
  const stats = await appStats(edge, app);
  assert.equal(stats.enrollments, 0, `no enrollment counted: ${JSON.stringify(stats)}`);
});
