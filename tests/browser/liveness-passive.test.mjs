// Passive liveness (livenessMode "passive"): no challenge; the capture waits up to 8 s for a
// natural blink, showing the blink cue as a hint after 3 s without one. A real user (the canvas camera playing a resting stretch of the real clip that contains
// a blink) is accepted; a still photo of him (still_cap12) is rejected with PAD_ATTACK, and so is
// a screen replay of his real footage (it blinks, so the moiré cue must decide it).
import assert from "node:assert/strict";
import { test } from "node:test";
import { FIO, appStats, attackVideo, codeName, createApp, isUuid, listFacialIds, useEdge } from "./harness.mjs";
import { evidence, liveCeremony, loadSegments, promptedStates } from "./feed/feed.mjs";

const CLIP = "cap13";

test("passive: a real user who blinks → enroll and authenticate succeed; his still photo → PAD_ATTACK", async (t) => {
  const edge = await useEdge();
  const segs = loadSegments();
  const app = await createApp(edge, { livenessMode: "passive" });

  const e = await liveCeremony(t, edge, app, { method: "enroll", phase: "enroll", params: { payload: { mode: "passive" } }, pins: ["4096"], feed: { clip: CLIP }, segs });
  const ev = evidence(e);
  t.diagnostic(`passive enroll: ${Math.round(e.res.elapsedMs)} ms; rest ${e.report.rest.capture?.label}; report ${JSON.stringify(e.debug.liveness?.report)}`);
  assert.equal(e.res.ok, true, `bona fide enroll: ${ev}`);
  assert.ok(isUuid(e.res.value.facialId));
  assert.equal(e.debug.policy?.livenessMode, "passive", ev);
  assert.deepEqual(e.debug.policy?.actions ?? [], [], `no challenge actions: ${ev}`);
  assert.deepEqual(promptedStates(e.debug.history), [], `no prompts in passive mode: ${ev}`);
  assert.deepEqual(e.debug.liveness?.verdict, { verdict: "live" }, ev);
  assert.ok(e.debug.liveness?.report?.blinks >= 1, `a blink was seen: ${ev}`);

  const a = await liveCeremony(t, edge, app, { method: "authenticate", phase: "auth", feed: { clip: CLIP }, segs });
  assert.equal(a.res.ok, true, `bona fide authenticate: ${evidence(a)}`);
  assert.equal(a.res.value.facialId, e.res.value.facialId);

  const s = await liveCeremony(t, edge, app, { method: "authenticate", phase: "still", videoFile: attackVideo("still", "cap12") });
  const sev = evidence(s);
  t.diagnostic(`still_cap12: ${s.res.ok ? "ACCEPTED" : codeName(s.res.code)} after ${Math.round(s.res.elapsedMs)} ms; verdict ${JSON.stringify(s.debug.liveness?.verdict)}; report ${JSON.stringify(s.debug.liveness?.report)}`);
  assert.equal(s.res.code, FIO.PAD_ATTACK, `still photo: expected PAD_ATTACK, got ${s.res.ok ? "success" : codeName(s.res.code)}: ${sev}`);
  assert.equal(s.debug.liveness?.verdict?.verdict, "attack", sev);
  assert.equal(s.debug.liveness?.report?.blinks, 0, `no blink on a still photo: ${sev}`);
  assert.deepEqual(promptedStates(s.debug.history), [], `no prompts: ${sev}`);

  const r = await liveCeremony(t, edge, app, { method: "authenticate", phase: "screen", videoFile: attackVideo("screen", "cap13") });
  const rev = evidence(r);
  t.diagnostic(`screen_cap13: ${r.res.ok ? "ACCEPTED" : codeName(r.res.code)} after ${Math.round(r.res.elapsedMs)} ms; verdict ${JSON.stringify(r.debug.liveness?.verdict)}; report ${JSON.stringify(r.debug.liveness?.report)}`);
  assert.equal(r.res.code, FIO.PAD_ATTACK, `screen replay: expected PAD_ATTACK, got ${r.res.ok ? "success" : codeName(r.res.code)}: ${rev}`);
  assert.deepEqual(r.debug.liveness?.verdict, { verdict: "attack", reason: "screen pattern" }, rev);

  const stats = await appStats(edge, app);
  assert.equal(stats.enrollments, 1, JSON.stringify(stats));
  assert.equal(stats.authentications, 1, JSON.stringify(stats));
  assert.equal((await listFacialIds(edge, app)).total, 1);
});

test("passive: still_cap12 as the camera → enroll rejected with PAD_ATTACK after the blink wait", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, { livenessMode: "passive" });
  const s = await liveCeremony(t, edge, app, { method: "enroll", phase: "enroll", pins: ["4096"], videoFile: attackVideo("still", "cap12") });
  const sev = evidence(s);
  assert.equal(s.res.code, FIO.PAD_ATTACK, `expected PAD_ATTACK, got ${s.res.ok ? "success" : codeName(s.res.code)}: ${sev}`);
  assert.equal(s.debug.liveness?.verdict?.verdict, "attack", sev);
  assert.equal(s.debug.liveness?.report?.blinks, 0, `no blink on a still photo: ${sev}`);
  // Without a blink the widget asks for one (the blink cue, fio_core BLINK_HINT_AFTER_MS); a
  // picture cannot follow it, so the decision stays PAD_ATTACK.
  assert.ok((s.debug.history || []).includes("blinkHint"), `the blink hint was shown: ${sev}`);
  assert.deepEqual(promptedStates(s.debug.history), [], `a hint, not a challenge prompt: ${sev}`);
  const cap = s.res.screens.find((x) => x.screen === "camera");
  t.diagnostic(`still enroll rejected ${Math.round(s.res.elapsedMs)} ms after the call (camera screen at ${cap?.atMs} ms); report ${JSON.stringify(s.debug.liveness?.report)}`);
  assert.equal((await listFacialIds(edge, app)).total, 0);
});
