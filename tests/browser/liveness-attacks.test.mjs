// Presentation attacks against active liveness (the default of new apps): the synthetic attack
// videos of fixtures/attacks/ (a still frame, a hand-held print, a screen replay, a moved print)
// as Chromium's fake camera must be rejected with PAD_ATTACK (5), at enrollment and at
// authentication of an enrolled user; nothing reaches the edge's store. The prompts the widget
// showed are recorded (artifacts/browser/<test>/<phase>-prompt-<step>-<action>.png).
import assert from "node:assert/strict";
import { test } from "node:test";
import * as H from "./harness.mjs";
import { ATTACK_SPECIES, FIO, appStats, attackVideo, codeName, createApp, describe, enrollVia, getApp, listFacialIds, patchApp, useEdge } from "./harness.mjs";
import { evidence, liveCeremony, promptSummary, promptedStates } from "./feed/feed.mjs";

const EDGE_DEFAULTS = H.DEFAULT_OPTIONS ?? {};

// A screen replay of real footage blinks and may follow some prompts by chance, so it is the
// periodic-pattern cue (moiré on the face) that must decide it, not a stalled prompt (TIMEOUT).
const DECIDED_BY = { screen: "screen pattern" };

function assertPad(t, out, what, species) {
  const ev = evidence(out);
  t.diagnostic(`${what}: ${out.res.ok ? "ACCEPTED" : `rejected ${out.res.code} (${codeName(out.res.code)})`} after ${Math.round(out.res.elapsedMs)} ms; ` +
    `verdict ${JSON.stringify(out.debug.liveness?.verdict ?? null)}; failure ${JSON.stringify(out.debug.liveness?.report?.failure ?? null)}; ` +
    `blinks ${out.debug.liveness?.report?.blinks ?? "?"}; passive ${out.debug.liveness?.report?.passive ?? "?"}; pattern ${out.debug.liveness?.report?.pattern ?? "?"}; challenge ${JSON.stringify(out.debug.policy?.actions)}; prompts ${promptSummary(out.report)}`);
  assert.equal(out.res.code, FIO.PAD_ATTACK, `${what}: expected PAD_ATTACK (5), got ${out.res.ok ? "success" : codeName(out.res.code)}: ${ev}`);
  assert.equal(out.debug.lastError?.code, FIO.PAD_ATTACK, `${what}: the widget's own error: ${ev}`);
  assert.equal(out.debug.policy?.livenessMode, "active", `${what}: active policy: ${ev}`);
  // Either the liveness decision said attack, or the challenge could not even start (no
  // resting pose); both are the widget's PAD_ATTACK, but say which.
  if (out.debug.liveness) {
    assert.equal(out.debug.liveness.verdict?.verdict, "attack", `${what}: verdict attack: ${ev}`);
    assert.equal(out.debug.liveness.error, "PAD_ATTACK", `${what}: ${ev}`);
    assert.ok(promptedStates(out.debug.history).length >= 1, `${what}: at least one prompt was shown before the decision: ${ev}`);
  }
  if (DECIDED_BY[species]) {
    assert.equal(out.debug.liveness?.verdict?.reason, DECIDED_BY[species], `${what}: decided by: ${ev}`);
  }
}

for (const species of ATTACK_SPECIES) {
  test(`active: ${species}_cap12 as the camera → enroll rejected with PAD_ATTACK`, async (t) => {
    const edge = await useEdge();
    const app = await createApp(edge, EDGE_DEFAULTS);
    const out = await liveCeremony(t, edge, app, { method: "enroll", phase: "enroll", params: { payload: { species } }, pins: ["4096"], videoFile: attackVideo(species, "cap12") });
    assertPad(t, out, `enroll ${species}_cap12`, species);
    const list = await listFacialIds(edge, app);
    assert.equal(list.total, 0, `nothing enrolled: ${JSON.stringify(list)}`);
    const stats = await appStats(edge, app);
    assert.equal(stats.enrollments, 0, `no enrollment counted: ${JSON.stringify(stats)}`);
  });
}

test("active: the enrolled man's screen replay and moved print (cap13) → authenticate rejected with PAD_ATTACK", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, EDGE_DEFAULTS);
  // Enroll him first with the real cap12 video; liveness is switched off for that step only (the
  // active enrollment itself is liveness-active.test.mjs's), then back to the edge's default.
  const defaults = (await getApp(edge, app.publicId)).body.options;
  assert.equal(defaults.livenessMode, "active", `default livenessMode: ${JSON.stringify(defaults)}`);
  await patchApp(edge, app.publicId, { options: { livenessMode: "off" } });
  const e = await enrollVia(t, edge, app, { videoName: "cap12", payload: { who: "cap_man" } });
  assert.equal(e.ok, true, `enroll the real man: ${describe(e)}`);
  await patchApp(edge, app.publicId, { options: { livenessMode: "active" } });
  assert.equal((await getApp(edge, app.publicId)).body.options.livenessMode, "active");
  const before = await appStats(edge, app);

  for (const species of ["screen", "moved_photo"]) {
    const out = await liveCeremony(t, edge, app, { method: "authenticate", phase: `auth-${species}`, videoFile: attackVideo(species, "cap13") });
    assertPad(t, out, `authenticate ${species}_cap13`, species);
  }
  const after = await appStats(edge, app);
  assert.equal(after.authentications, before.authentications, `no successful authentication: ${JSON.stringify(after)}`);
});
