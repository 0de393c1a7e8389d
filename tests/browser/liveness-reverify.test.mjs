// Edge re-verification of liveness (app option reverifyLiveness, active mode): the session answer
// carries the ceremony's evidenceKey; the widget keeps one 160×160 face crop per step (the user at
// rest, then the clearest frame of each prompted action), seals them to that key and sends them
// as liveness.evidence with the enroll / authenticate request of that challenge; the edge opens
// and re-measures them with the same models. Same camera and responder as
// liveness-active.test.mjs (canvas stream of the real clips, real segments answering each
// prompt). The app asks for the PIN on every authentication: the PIN follow-up request (a new
// challenge without actions) carries no evidence. Also: the same ceremony with the evidence
// stripped on its way to the edge → PAD_ATTACK; and an app without the option gets no key and
// receives no crops.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { FIO, codeName, createApp, getApp, isUuid, listFacialIds, recordWidgetTraffic, useEdge } from "./harness.mjs";
import { clipPlan, evidence, loadSegments, openLive, planSummary, promptedStates, runLive } from "./feed/feed.mjs";

const PAYLOAD = { whoami: "reverified-user" };
const ENROLL_CLIP = "cap12";
const AUTH_CLIP = "cap13";
// The ceremonies that only need the widget to pass its own check rest on cap13, whose own blink
// segment is a clear one (cap12's blinks are near the widget's threshold).
const STEADY_CLIP = "cap13";
const CROP_BYTES = 160 * 160 * 3; // fio_core::liveness::EVIDENCE_SIDE² RGB
const BUNDLE_HEADER = 7; // "FIE1", side (u16), count (u8)
const GCM_TAG = 16;
const MAX_EVIDENCE_B64 = 700_000;
// Everything but the evidence: templates, report, details, payload, PIN (the edge's own limit for
// such bodies is 32 KiB, fio_core::protocol::MAX_REQUEST_BYTES).
const MAX_OTHER_FIELD = 4096;
const MAX_REST_OF_BODY = 32 * 1024;

/** Challenges a ceremony resting on `clip` can answer (as liveness-active.test.mjs does). */
function restrictFor(t, segs, clip) {
  const plan = clipPlan(segs, clip);
  t.diagnostic(`segments: ${planSummary(segs, plan)}`);
  return plan.missing.length ? (actions) => actions.every((a) => plan.answerable.includes(a)) : null;
}

/** An app with active liveness re-verified at the edge (and a PIN on every authentication). */
async function reverifyApp(edge) {
  const app = await createApp(edge, { livenessMode: "active", reverifyLiveness: true, alwaysAskPin: true }, "reverify");
  const cfg = await getApp(edge, app.publicId);
  assert.equal(cfg.body?.options?.livenessMode, "active", JSON.stringify(cfg.body));
  assert.equal(cfg.body?.options?.reverifyLiveness, true, JSON.stringify(cfg.body));
  return app;
}

const b64len = (s) => Buffer.from(s, "base64").length;

/** Every string in `v` longer than `max` characters, as [path, length]. */
function longStrings(v, max, path = "") {
  if (typeof v === "string") return v.length > max ? [[path, v.length]] : [];
  if (v && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => longStrings(x, max, `${path}.${k}`));
  return [];
}

/** No large string anywhere in `body` and a small body overall: no frame, image or crop. */
function assertSmall(body, what) {
  assert.deepEqual(longStrings(body, MAX_OTHER_FIELD), [], `${what}: no large field`);
  const bytes = Buffer.byteLength(JSON.stringify(body));
  assert.ok(bytes < MAX_REST_OF_BODY, `${what}: ${bytes} bytes`);
  return bytes;
}

/**
 * The first `route` request of a recorded ceremony, checked: it carries liveness.evidence sealed
 * for its challenge (an epk, a 12-byte iv and exactly one crop per step + the GCM tag) and nothing
 * else of size; later ones (PIN follow-ups, under new challenges) carry no evidence. Returns
 * `{req, actions, restBytes, followUps}`.
 */
function assertSealed(traffic, route, ev) {
  const sessions = traffic.answers.filter((a) => a.route === "session" && a.status === 200);
  const reqs = traffic.requests.filter((r) => r.route === route);
  assert.ok(reqs.length >= 1, `a ${route} request: ${JSON.stringify(traffic.requests.map((r) => [r.route, r.bytes]))}; ${ev}`);
  const [req, ...followUps] = reqs;
  const body = req.json;
  assert.ok(body && typeof body.challengeId === "string", `${route} body is JSON with a challengeId`);
  const session = sessions.find((s) => s.json?.challengeId === body.challengeId);
  assert.ok(session, `the ${route} challenge came from a session answer the page received`);
  const key = session.json.evidenceKey;
  assert.equal(typeof key, "string", `the session answer carries evidenceKey: ${JSON.stringify(session.json)}`);
  assert.equal(b64len(key), 65, "evidenceKey: a 65-byte uncompressed P-256 point");
  assert.equal(Buffer.from(key, "base64")[0], 0x04);

  const sealed = body.liveness?.evidence;
  assert.ok(sealed, `${route} carries liveness.evidence: ${Object.keys(body.liveness || {})}`);
  assert.deepEqual(Object.keys(sealed).sort(), ["data", "epk", "iv"]);
  const epk = Buffer.from(sealed.epk, "base64");
  assert.equal(epk.length, 65);
  assert.equal(epk[0], 0x04, "uncompressed point");
  assert.notEqual(sealed.epk, key, "an ephemeral key, not the edge's");
  assert.equal(b64len(sealed.iv), 12);
  const actions = session.json.policy?.actions ?? [];
  assert.ok(actions.length >= 1, "an active challenge");
  assert.equal(b64len(sealed.data), BUNDLE_HEADER + (1 + actions.length) * CROP_BYTES + GCM_TAG,
    `one sealed crop for the rest and each of ${actions.length} actions`);
  assert.ok(sealed.data.length <= MAX_EVIDENCE_B64, `evidence ${sealed.data.length} base64 chars`);

  // Nothing else of size: no frame, image or crop travels outside the sealed evidence.
  const rest = structuredClone(body);
  delete rest.liveness.evidence;
  const restBytes = assertSmall(rest, `${route} without its evidence`);
  assert.ok(req.bytes < sealed.data.length + MAX_REST_OF_BODY, `${route} body ${req.bytes} bytes`);
  for (const f of followUps) {
    assert.notEqual(f.json?.challengeId, body.challengeId, `a follow-up ${route} uses a new challenge`);
    assert.equal(f.json?.liveness?.evidence, undefined, `no evidence on a follow-up ${route}`);
    assertSmall(f.json, `follow-up ${route}`);
  }
  return { req, actions, restBytes, followUps };
}

/** The checks every passed ceremony must satisfy. */
function assertPassed(out, what, edge) {
  // On a rejection the edge's log and the crops the widget sealed are in the test's artifacts
  // (<phase>-edge.log, <phase>-evidence.bin).
  const ev = `${evidence(out)}; edge ${edge.url}`;
  assert.equal(out.res.ok, true, `${what}: ${ev}`);
  const actions = out.debug.policy?.actions;
  assert.equal(out.debug.policy?.livenessMode, "active", `${what}: ${ev}`);
  assert.deepEqual(promptedStates(out.debug.history), actions.map((a) => `action:${a}`), `${what}: each action prompted once, in order: ${ev}`);
  assert.deepEqual(out.debug.liveness?.verdict, { verdict: "live" }, `${what}: verdict live: ${ev}`);
}

/** One ceremony on a fresh page with the widget's API traffic recorded. */
async function recorded(t, edge, app, { method, phase, clip, segs, pins = [], params = {}, edit = null }) {
  const ctx = await openLive(t, edge, app, { phase, restrict: restrictFor(t, segs, clip) });
  try {
    const traffic = recordWidgetTraffic(ctx.page, edge.url);
    // Diagnostics only: the plaintext the widget seals, so a rejected ceremony's crops can be
    // looked at (artifacts/browser/<test>/<phase>-evidence.bin, fio_core CropBundle bytes).
    await ctx.page.evaluate(() => {
      const subtle = crypto.subtle;
      const encrypt = subtle.encrypt.bind(subtle);
      subtle.encrypt = (alg, key, data) => {
        window.__sealedPlain = new Uint8Array(ArrayBuffer.isView(data) ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data.slice(0));
        return encrypt(alg, key, data);
      };
    });
    if (edit) await ctx.page.route(`${edge.url}/v1/*/${method}`, edit);
    const out = await runLive(ctx, { method, params, pins, feed: { clip }, segs });
    await traffic.settle();
    // The edge's side of the ceremony (its reasons for a rejection are only logged there).
    if (edge.instance) writeFileSync(join(ctx.dir, `${phase}-edge.log`), edge.instance.log());
    if (!out.res.ok) {
      const b64 = await ctx.page.evaluate(() => {
        const b = window.__sealedPlain;
        if (!b) return null;
        let s = "";
        for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
        return btoa(s);
      });
      if (b64) writeFileSync(join(ctx.dir, `${phase}-evidence.bin`), Buffer.from(b64, "base64"));
    }
    const sealed = await ctx.page.evaluate(() => window.__openfioDebug?.evidence ?? null);
    return { ...out, traffic, sealed };
  } finally {
    await ctx.close();
  }
}

let app = null;
let enrolledId = null;

test("reverifyLiveness: enroll and authenticate send the sealed crops of their challenge; the edge re-verifies them → same facialId", async (t) => {
  const edge = await useEdge();
  const segs = loadSegments();
  app = await reverifyApp(edge);

  const e = await recorded(t, edge, app, { method: "enroll", phase: "enroll", clip: ENROLL_CLIP, segs, pins: ["4096"], params: { payload: PAYLOAD } });
  assertPassed(e, "enroll", edge);
  const se = assertSealed(e.traffic, "enroll", evidence(e));
  t.diagnostic(`enroll: challenge ${JSON.stringify(se.actions)}; body ${se.req.bytes} bytes (${se.restBytes} without the evidence); widget ${JSON.stringify(e.sealed)}`);
  assert.ok(isUuid(e.res.value.facialId), JSON.stringify(e.res.value));
  enrolledId = e.res.value.facialId;

  const a = await recorded(t, edge, app, { method: "authenticate", phase: "auth", clip: AUTH_CLIP, segs, pins: ["4096"] });
  assertPassed(a, "authenticate", edge);
  const sa = assertSealed(a.traffic, "authenticate", evidence(a));
  t.diagnostic(`authenticate: challenge ${JSON.stringify(sa.actions)}; body ${sa.req.bytes} bytes (${sa.restBytes} without the evidence); PIN follow-ups ${sa.followUps.map((f) => `${f.bytes} bytes`).join(", ")}`);
  const answers = a.traffic.answers.filter((x) => x.route === "authenticate");
  assert.equal(answers[0]?.json?.pinRequired, true, `alwaysAskPin: the sealed request is answered with a PIN prompt: ${JSON.stringify(answers)}`);
  assert.equal(sa.followUps.length, 1, "one PIN follow-up");
  assert.equal(a.res.value.facialId, enrolledId, "same facialId");
  assert.deepEqual(a.res.value.payload, PAYLOAD);
  assert.equal((await listFacialIds(edge, app)).total, 1);
});

test("reverifyLiveness: the same ceremony with its evidence stripped on the way → PAD_ATTACK", async (t) => {
  const edge = await useEdge();
  const segs = loadSegments();
  app ??= await reverifyApp(edge);
  const before = (await listFacialIds(edge, app)).total;
  let stripped = 0;
  const strip = async (route) => {
    const req = route.request();
    if (req.method() !== "POST") return route.continue();
    const body = JSON.parse(req.postData() || "{}");
    if (body.liveness?.evidence) {
      delete body.liveness.evidence;
      stripped++;
    }
    return route.continue({ postData: JSON.stringify(body) });
  };
  const out = await recorded(t, edge, app, { method: "enroll", phase: "stripped", clip: STEADY_CLIP, segs, pins: ["4096"], params: { payload: PAYLOAD }, edit: strip });
  const ev = evidence(out);
  assert.equal(stripped, 1, `the widget sent evidence, removed on the way: ${ev}`);
  assert.deepEqual(out.debug.liveness?.verdict, { verdict: "live" }, `the widget's own check passed: ${ev}`);
  assert.equal(out.res.code, FIO.PAD_ATTACK, `expected PAD_ATTACK (5), got ${codeName(out.res.code)}: ${ev}`);
  assert.equal((await listFacialIds(edge, app)).total, before, "nothing enrolled");
});

test("without reverifyLiveness: no evidenceKey, no crops collected or sent", async (t) => {
  const edge = await useEdge();
  const segs = loadSegments();
  const plain = await createApp(edge, { livenessMode: "active" }, "no-reverify");
  assert.notEqual((await getApp(edge, plain.publicId)).body?.options?.reverifyLiveness, true);
  const out = await recorded(t, edge, plain, { method: "enroll", phase: "enroll", clip: STEADY_CLIP, segs, pins: ["4096"], params: { payload: PAYLOAD } });
  assertPassed(out, "enroll", edge);
  const session = out.traffic.answers.find((x) => x.route === "session" && x.status === 200);
  assert.ok(session, "a session answer");
  assert.equal(session.json.evidenceKey, undefined, `no evidenceKey: ${JSON.stringify(session.json)}`);
  const reqs = out.traffic.requests.filter((r) => r.route === "enroll");
  assert.equal(reqs.length, 1);
  assert.equal(reqs[0].json?.liveness?.evidence, undefined, "no evidence");
  const bytes = assertSmall(reqs[0].json, "enroll");
  assert.equal(out.sealed, null, "the widget kept no crops");
  t.diagnostic(`enroll body ${bytes} bytes`);
});
