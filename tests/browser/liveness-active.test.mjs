// Active liveness, the default of new apps: the edge's challenge (policy.actions, 2 random
// actions) is prompted one by one; the camera is a canvas stream of the real clips and an
// auto-responder answers each prompt with a real segment of the clip showing that action
// (fixtures/segments.json), as a user would. Also: a live user who ignores the prompt → TIMEOUT,
// after which restartSession() and a followed ceremony succeed.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as H from "./harness.mjs";
import { FIO, appStats, codeName, createApp, getApp, isUuid, listFacialIds, useEdge } from "./harness.mjs";
import { clipPlan, evidence, liveCeremony, loadSegments, openLive, planSummary, promptSummary, promptedStates, runLive } from "./feed/feed.mjs";

// The edge's own defaults (the harness sends {} as is when given DEFAULT_OPTIONS).
const EDGE_DEFAULTS = H.DEFAULT_OPTIONS ?? {};
const PAYLOAD = { whoami: "live-user", n: 1 };
// Prompts per challenge: the edge's ACTIVE_LIVENESS_ACTIONS (edge-worker/src/app_config.rs).
const CHALLENGE_LEN = Number(readFileSync(join(H.ROOT, "edge-worker/src/app_config.rs"), "utf8").match(/ACTIVE_LIVENESS_ACTIONS: usize = (\d+)/)?.[1] ?? NaN);
// Enroll from one webcam session, authenticate from the other (as enroll-auth.test.mjs does).
// A prompt is answered from the clip's own segments first, else from the other clip's.
const ENROLL_CLIP = "cap12";
const AUTH_CLIP = "cap13";
// The ignored-prompt user must blink (live-looking, so TIMEOUT and not PAD_ATTACK): cap13 has a
// blink the detector recognises next to a resting stretch; cap12 has none.
const BLINKING_CLIP = "cap13";

/**
 * What a ceremony resting on `clip` can answer, and the challenges it can take: null (any) when
 * the clips answer all five actions, else a filter for restrictChallengeActions, which re-issues
 * the session until the edge's challenge only asks answerable actions (a stopgap until apps can
 * limit their actions). `firstNot`: an action the first prompt must not be.
 */
function setup(t, segs, clip, { firstNot = null } = {}) {
  const plan = clipPlan(segs, clip);
  t.diagnostic(`segments: ${planSummary(segs, plan)}`);
  if (plan.missing.length) {
    t.diagnostic(`NOTE: no segment shows ${plan.missing.join(", ")} clearly enough from ${clip}'s rest: sessions are re-issued until the edge's challenge only asks ${plan.answerable.join(", ")}`);
  }
  const restrict = plan.missing.length || firstNot ? (actions) => actions.every((a) => plan.answerable.includes(a)) && actions[0] !== firstNot : null;
  return { plan, restrict };
}

function recordPrompts(t, what, out) {
  const line = `${what}: challenge ${JSON.stringify(out.debug.policy?.actions)}; prompts ${promptSummary(out.report)}; ` +
    `responses ${JSON.stringify(out.report.prompts.map((p) => ({ action: p.action, ms: p.ms, responses: p.responses })))}; ` +
    `ceremony ${Math.round(out.res.elapsedMs)} ms; feed ${JSON.stringify(out.report.feed)}`;
  t.diagnostic(line);
}

/** The checks every passed active ceremony must satisfy. */
function assertActivePassed(out, what) {
  const ev = evidence(out);
  assert.equal(out.res.ok, true, `${what}: ${ev}`);
  const actions = out.debug.policy?.actions;
  assert.equal(out.debug.policy?.livenessMode, "active", `${what}: the edge's policy is active: ${ev}`);
  assert.ok(Array.isArray(actions) && actions.length >= 1, `${what}: a challenge: ${ev}`);
  if (Number.isFinite(CHALLENGE_LEN)) assert.equal(actions.length, CHALLENGE_LEN, `${what}: ACTIVE_LIVENESS_ACTIONS prompts: ${ev}`);
  assert.deepEqual(promptedStates(out.debug.history), actions.map((a) => `action:${a}`), `${what}: each action prompted once, in order: ${ev}`);
  assert.deepEqual(out.report.prompts.map((p) => p.action), actions, `${what}: the responder saw the same prompts: ${ev}`);
  assert.deepEqual(out.debug.liveness?.verdict, { verdict: "live" }, `${what}: verdict live: ${ev}`);
  assert.equal(out.debug.liveness?.error ?? null, null, `${what}: no liveness error: ${ev}`);
  assert.deepEqual(out.debug.liveness?.report?.actions, actions, `${what}: the report lists the performed actions: ${ev}`);
  for (const p of out.report.prompts) {
    assert.ok(p.ms !== null && p.ms < 8000, `${what}: ${p.action} recognised within the 8 s step limit (${p.ms} ms): ${ev}`);
  }
}

let enrolled = null;

test("active (default app): enroll answering the prompts with real segments, then authenticate → same facialId", async (t) => {
  const edge = await useEdge();
  const segs = loadSegments();
  const app = await createApp(edge, EDGE_DEFAULTS);
  const cfg = await getApp(edge, app.publicId);
  assert.equal(cfg.body?.options?.livenessMode, "active", `new apps default to active liveness: ${JSON.stringify(cfg.body)}`);

  const e = await liveCeremony(t, edge, app, { method: "enroll", phase: "enroll", params: { payload: PAYLOAD }, pins: ["4096"], feed: { clip: ENROLL_CLIP }, segs, restrict: setup(t, segs, ENROLL_CLIP).restrict });
  recordPrompts(t, "enroll", e);
  assertActivePassed(e, "enroll");
  assert.ok(isUuid(e.res.value.facialId), `facialId: ${JSON.stringify(e.res.value)}`);
  const list = await listFacialIds(edge, app);
  assert.equal(list.total, 1, `one facial ID on the edge: ${JSON.stringify(list)}`);
  assert.equal(list.facialIds[0].facialId, e.res.value.facialId);
  enrolled = { app, facialId: e.res.value.facialId };

  const a = await liveCeremony(t, edge, app, { method: "authenticate", phase: "auth", feed: { clip: AUTH_CLIP }, segs, restrict: setup(t, segs, AUTH_CLIP).restrict });
  recordPrompts(t, "authenticate", a);
  assertActivePassed(a, "authenticate");
  assert.equal(a.res.value.facialId, e.res.value.facialId, "same facialId");
  assert.deepEqual(a.res.value.payload, PAYLOAD);
  const stats = await appStats(edge, app);
  assert.equal(stats.enrollments, 1, `stats: ${JSON.stringify(stats)}`);
  assert.equal(stats.authentications, 1, `stats: ${JSON.stringify(stats)}`);
});

test("active: a live user who ignores the prompt → TIMEOUT ~8 s after it; restartSession() and a followed ceremony succeed", async (t) => {
  const edge = await useEdge();
  // The first prompt must be a head action: a user who rests and blinks naturally would answer
  // a blink prompt.
  const segs = loadSegments();
  const { restrict } = setup(t, segs, BLINKING_CLIP, { firstNot: "blink" });
  const app = await createApp(edge, EDGE_DEFAULTS);
  const ctx = await openLive(t, edge, app, { phase: "enroll", restrict });
  const first = await runLive(ctx, { method: "enroll", params: { payload: PAYLOAD }, pins: ["4096"], feed: { clip: BLINKING_CLIP, mode: "ignore" }, segs, shotPrefix: "ignored-" });
  recordPrompts(t, "ignored prompt", first);
  const ev = evidence(first);
  assert.equal(first.res.code, FIO.TIMEOUT, `expected TIMEOUT (14), got ${codeName(first.res.code)}: ${ev}`);
  const p0 = first.report.prompts[0];
  assert.ok(p0, `a prompt was shown: ${ev}`);
  assert.equal(first.report.prompts.length, 1, `only the first prompt was shown: ${ev}`);
  const promptToReject = first.settledAt - p0.promptAt;
  t.diagnostic(`TIMEOUT: ${p0.action} prompted, rejection ${Math.round(promptToReject)} ms later (state changed after ${p0.ms} ms)`);
  // 8 s step limit + the error screen (1.2 s) + analysis lag.
  assert.ok(promptToReject >= 7800 && promptToReject <= 11_500, `rejected ${Math.round(promptToReject)} ms after the prompt (want ~8–10 s): ${ev}`);
  assert.deepEqual(first.debug.liveness?.verdict, { verdict: "timeout" }, `verdict timeout: ${ev}`);
  assert.equal(first.debug.liveness?.report?.failure?.kind, "timedOut", `the step timed out: ${ev}`);
  assert.ok(first.debug.liveness?.report?.blinks >= 1, `the user blinked (live-looking), so TIMEOUT not PAD_ATTACK: ${ev}`);
  assert.equal((await listFacialIds(edge, app)).total, 0, "nothing enrolled");

  const restarted = await ctx.page.evaluate(() => window.__fio.restartSession({}));
  assert.equal(restarted, true, `restartSession() → ${JSON.stringify(restarted)}`);
  const second = await runLive(ctx, { method: "enroll", params: { payload: PAYLOAD }, pins: ["4096"], feed: { clip: BLINKING_CLIP, mode: "follow" }, segs, shotPrefix: "followed-" });
  recordPrompts(t, "after restartSession", second);
  assertActivePassed(second, "enroll after restartSession");
  const list = await listFacialIds(edge, app);
  assert.equal(list.total, 1, `one facial ID: ${JSON.stringify(list)}`);
  assert.equal(list.facialIds[0].facialId, second.res.value.facialId);
});
