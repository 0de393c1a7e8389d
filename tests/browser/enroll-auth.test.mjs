// 1. Enroll the man of cap12 (with a payload), authenticate him from cap13 (another session):
//    same facialId and payload. restartSession() then allows a second ceremony on the same page.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLocalJWKSet, jwtVerify } from "jose";
import {
  FIO, authenticateVia, ceremony, codeName, createApp, describe, enrollVia, isUuid, launch,
  listFacialIds, openFio, useEdge, video,
} from "./harness.mjs";

const PAYLOAD = { whoami: 123456, email: "john.doe@example.com", tags: ["e2e", "ü"] };

/** The result's signed token, verified as a site's backend would: npm `jose` + the edge's JWKS. */
async function verifiedClaims(edge, app, token) {
  assert.equal(typeof token, "string", "the result carries a signed token");
  const res = await fetch(`${edge.url}/v1/${app.publicId}/jwks.json`);
  assert.equal(res.status, 200);
  const { payload } = await jwtVerify(token, createLocalJWKSet(await res.json()), {
    issuer: edge.url,
    audience: app.publicId,
    algorithms: ["ES256"],
  });
  return payload;
}
let enrolled = null; // {app, facialId} from the first test, reused by the restartSession test

test("enroll from cap12 with a payload, then authenticate from cap13: same facialId and payload", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, { alwaysAskPin: false });

  const e = await enrollVia(t, edge, app, { payload: PAYLOAD, pin: "4096", params: { nonce: "enroll-session-1" } });
  assert.equal(e.ok, true, `enroll: ${describe(e)}`);
  const ec = await verifiedClaims(edge, app, e.value.token);
  assert.equal(ec.sub, e.value.facialId);
  assert.equal(ec.ceremony, "enroll");
  assert.equal(ec.nonce, "enroll-session-1", "the nonce the page passed to enroll()");
  assert.ok(isUuid(e.value.facialId), `facialId is a UUID: ${JSON.stringify(e.value)}`);
  assert.ok(!Number.isNaN(Date.parse(e.value.timestamp)), `timestamp is ISO 8601: ${e.value.timestamp}`);
  assert.ok(e.value.details && "gender" in e.value.details && "age" in e.value.details, `details {gender, age}: ${JSON.stringify(e.value)}`);
  const seen = e.screens.map((s) => s.screen);
  for (const s of ["terms", "camera", "pin"]) assert.ok(seen.includes(s), `enroll showed the ${s} screen: ${seen.join(" → ")}`);
  assert.ok(e.pinsTyped === 1, `one PIN (typed + confirmed): ${e.pinsTyped}`);

  const list = await listFacialIds(edge, app);
  assert.equal(list.total, 1, `one facial ID on the edge: ${JSON.stringify(list)}`);
  assert.equal(list.facialIds[0].facialId, e.value.facialId);

  const a = await authenticateVia(t, edge, app, { videoName: "cap13", params: { nonce: "login-session-2" } });
  assert.equal(a.ok, true, `authenticate: ${describe(a)}`);
  const ac = await verifiedClaims(edge, app, a.value.token);
  assert.equal(ac.sub, e.value.facialId);
  assert.equal(ac.ceremony, "authenticate");
  assert.equal(ac.nonce, "login-session-2", "the nonce the page passed to authenticate()");
  assert.notEqual(ac.jti, ec.jti, "one token ID per ceremony");
  assert.equal(a.value.facialId, e.value.facialId, "same facialId");
  assert.deepEqual(a.value.payload, PAYLOAD, "payload given at enrollment");
  assert.ok(!a.screens.some((s) => s.screen === "pin"), "no PIN asked (alwaysAskPin false, clear match)");
  enrolled = { app, facialId: e.value.facialId };
});

test("restartSession() returns true and a new ceremony then works", async (t) => {
  const edge = await useEdge();
  if (!enrolled) {
    const app = await createApp(edge, { alwaysAskPin: false });
    const e = await enrollVia(t, edge, app, { payload: PAYLOAD });
    assert.equal(e.ok, true, `enroll: ${describe(e)}`);
    enrolled = { app, facialId: e.value.facialId };
  }
  const ctx = await launch(t, { videoFile: video("cap13"), phase: "auth" });
  await openFio(ctx.page, edge, enrolled.app.publicId);
  const first = await ceremony(ctx, { method: "authenticate", shotPrefix: "auth1-" });
  assert.equal(first.ok, true, `first authenticate: ${describe(first)}`);
  assert.equal(first.value.facialId, enrolled.facialId);

  const restarted = await ctx.page.evaluate(async () => {
    const r = window.__fio.restartSession({});
    return { value: await r, wasPromise: r instanceof Promise };
  });
  ctx.log(`restartSession → ${JSON.stringify(restarted)}`);
  assert.equal(restarted.value, true, `restartSession() → ${JSON.stringify(restarted)}`);

  const second = await ceremony(ctx, { method: "authenticate", shotPrefix: "auth2-" });
  assert.equal(second.ok, true, `authenticate after restartSession: ${describe(second)}`);
  assert.equal(second.value.facialId, enrolled.facialId);
  assert.deepEqual(second.value.payload, PAYLOAD);
});

