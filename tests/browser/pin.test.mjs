// 9: alwaysAskPin: the right PIN lets the user in; three wrong PINs → WRONG_PIN_CODE.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FIO, authenticateVia, codeName, createApp, describe, enrollVia, useEdge } from "./harness.mjs";

test("alwaysAskPin: right PIN accepted, wrong PIN three times → WRONG_PIN_CODE", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, { alwaysAskPin: true });
  const e = await enrollVia(t, edge, app, { payload: { who: "pin" }, pin: "4096" });
  assert.equal(e.ok, true, `enroll: ${describe(e)}`);

  const ok = await authenticateVia(t, edge, app, { pins: ["4096"], phase: "auth-right-pin" });
  assert.equal(ok.ok, true, `right PIN: ${describe(ok)}`);
  assert.equal(ok.value.facialId, e.value.facialId);
  assert.ok(ok.screens.some((s) => s.screen === "pin"), "the PIN was asked");

  const bad = await authenticateVia(t, edge, app, { pins: ["5820", "7391", "6053", "1357"], phase: "auth-wrong-pin" });
  assert.equal(bad.code, FIO.WRONG_PIN_CODE, `wrong PINs: expected WRONG_PIN_CODE, got ${describe(bad)}`);
  assert.equal(bad.pinsTyped, 3, `rejected after exactly three wrong PINs (typed ${bad.pinsTyped})`);
});

