// 7: a second call while a ceremony runs → SESSION_IN_PROGRESS, the first one continues.
// 10: FACEIO's aliases and fetchAllErrorCodes().
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  FIO, authenticateVia, ceremony, codeName, createApp, describe, enrollVia, isUuid, launch, openFio,
  startCall, useEdge, video,
} from "./harness.mjs";

test("a second call during a ceremony → SESSION_IN_PROGRESS, the first one completes", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  const ctx = await launch(t, { videoFile: video("cap12") });
  await openFio(ctx.page, edge, app.publicId);
  const first = await startCall(ctx.page, "enroll", { payload: { n: 1 } });
  const second = await startCall(ctx.page, "authenticate", {});
  const third = await startCall(ctx.page, "enroll", { payload: { n: 3 } });
  const b = await ceremony(ctx, { runId: second, shotPrefix: "second-" });
  assert.equal(b.code, FIO.SESSION_IN_PROGRESS, `second call: ${describe(b)}`);
  assert.ok(b.elapsedMs < 5000, `rejected at once: ${Math.round(b.elapsedMs)} ms`);
  const c = await ceremony(ctx, { runId: third, shotPrefix: "third-" });
  assert.equal(c.code, FIO.SESSION_IN_PROGRESS, `third call: ${describe(c)}`);
  const a = await ceremony(ctx, { runId: first, pins: ["4096"], shotPrefix: "first-" });
  assert.equal(a.ok, true, `the first ceremony continues and succeeds: ${describe(a)}`);
  assert.ok(isUuid(a.value.facialId));
});

test("aliases exist and work; fetchAllErrorCodes() is FACEIO's table", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  const ctx = await launch(t, { videoFile: video("cap12"), phase: "register" });
  await openFio(ctx.page, edge, app.publicId);
  const info = await ctx.page.evaluate(() => {
    const f = window.__fio;
    const names = ["enroll", "enrol", "register", "record", "authenticate", "auth", "recognize", "identify", "restartSession", "fetchAllErrorCodes"];
    return {
      types: Object.fromEntries(names.map((n) => [n, typeof f[n]])),
      codes: f.fetchAllErrorCodes(),
      codesAgain: f.fetchAllErrorCodes(),
      defaultExportIsClass: typeof window.__faceIO === "function",
    };
  });
  for (const [n, ty] of Object.entries(info.types)) assert.equal(ty, "function", `faceio.${n} is a function`);
  assert.deepEqual(info.codes, { ...FIO }, "fetchAllErrorCodes() equals FACEIO's 22 codes exactly");
  assert.equal(Object.keys(info.codes).length, 22);
  assert.deepEqual(info.codesAgain, info.codes, "stable across calls");

  // register() (an enroll alias) and identify() (an authenticate alias) run real ceremonies.
  const e = await ceremony(ctx, { method: "register", params: { payload: { via: "register" } }, pins: ["4096"] });
  await ctx.close();
  assert.equal(e.ok, true, `register(): ${describe(e)}`);
  assert.ok(isUuid(e.value.facialId));
  const a = await authenticateVia(t, edge, app, { method: "identify", phase: "identify" });
  assert.equal(a.ok, true, `identify(): ${describe(a)}`);
  assert.equal(a.value.facialId, e.value.facialId);
  assert.deepEqual(a.value.payload, { via: "register" });
  // and the others once more, quickly: recognize() with cap13 too.
  const r = await authenticateVia(t, edge, app, { method: "recognize", phase: "recognize" });
  assert.equal(r.ok, true, `recognize(): ${describe(r)}`);
  assert.equal(r.value.facialId, e.value.facialId);
});

