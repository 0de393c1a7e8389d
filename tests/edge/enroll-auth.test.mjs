// Enroll → authenticate round trips on real templates from the native pipeline.

import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { useEdge } from "./harness.mjs";
import { faces } from "./templates.mjs";
import {
  CHALLENGE_RE, Edge, ISO_RE, UUID_RE, assertError, assertNoBiometricLeak, assertOk, show,
} from "./client.mjs";

const F = faces();
const edge = new Edge(await useEdge());
const allTemplates = Object.values(F).flat().map((f) => f.template);

describe("enroll and authenticate", () => {
  let app;
  let a; // obama, enrolled from three photos
  const payloadA = { whoami: 123456, email: "barack@example.com", nested: { roles: ["admin"], n: 1.5 } };

  before(async () => {
    app = await edge.createApp({ preventDuplicates: true, livenessMode: "passive", alwaysAskPin: false });
  });

  test("admin API shows the new app without its secret key", async () => {
    const res = await edge.getApp(app.publicId);
    const body = assertOk(res, "GET /admin/apps/:id");
    assert.equal(body.publicId, app.publicId);
    assert.equal(body.status, "active");
    assert.equal(typeof body.options, "object");
    assert.equal(body.options.preventDuplicates, true);
    assert.ok(!JSON.stringify(body).includes(app.apiKey), `API key shown again: ${show(res)}`);
  });

  test("session answers a single-use challenge with the widget policy", async () => {
    const before = Date.now();
    const res = await app.session("enroll");
    const body = assertOk(res, "session");
    assert.match(body.challengeId, CHALLENGE_RE);
    assert.equal(typeof body.nonce, "string");
    assert.ok(body.nonce.length >= 16, "nonce too short");
    assert.match(body.expiresAt, ISO_RE);
    const exp = Date.parse(body.expiresAt);
    assert.ok(exp > before + 60_000 && exp <= Date.now() + 5 * 60_000 + 5_000, `expiresAt ${body.expiresAt}`);
    assert.equal(typeof body.policy, "object");
    assert.equal(body.policy.livenessMode, "passive");
    assert.equal(body.policy.preventDuplicates, true);
    assert.ok(Array.isArray(body.policy.actions));
    // Two sessions never share a challenge.
    const again = assertOk(await app.session("enroll"));
    assert.notEqual(again.challengeId, body.challengeId);
  });

  test("enroll person A from three photos with a payload", async () => {
    const res = await app.enroll(F.obama.slice(0, 3), {
      payload: payloadA,
      details: { age: 37.6, gender: "male" },
    });
    const body = assertOk(res, "enroll A");
    assert.match(body.facialId, UUID_RE);
    assert.match(body.timestamp, ISO_RE);
    assert.ok(Math.abs(Date.parse(body.timestamp) - Date.now()) < 120_000, body.timestamp);
    assert.deepEqual(body.details, { gender: "male", age: 38 });
    assertNoBiometricLeak(body, allTemplates);
    a = body;
  });

  test("another photo of A authenticates as A with A's payload", async () => {
    const res = await app.authenticate(F.obama[3]);
    const body = assertOk(res, "authenticate A");
    assert.equal(body.pinRequired, undefined, `unexpected PIN prompt: ${show(res)}`);
    assert.equal(body.facialId, a.facialId);
    assert.deepEqual(body.payload, payloadA);
    assertNoBiometricLeak(body, allTemplates);
    assert.deepEqual(Object.keys(body).sort(), ["facialId", "payload", "token"], `extra fields (the token is OpenFIO's signed login result): ${show(res)}`);
  });

  test("each enrollment photo of A also authenticates", async () => {
    for (const f of F.obama) {
      const body = assertOk(await app.authenticate(f), `authenticate ${f.file}`);
      assert.equal(body.facialId, a.facialId, f.file);
    }
  });

  test("person B is not recognised", async () => {
    const res = await app.authenticate(F.biden[0]);
    assertError(res, "UNRECOGNIZED_FACE");
    assertNoBiometricLeak(res.body, allTemplates);
    assert.ok(!res.text.includes(a.facialId), "error leaks A's facial ID");
    assert.ok(!res.text.includes("barack@example.com"), "error leaks A's payload");
  });

  test("other unenrolled people are not recognised", async () => {
    for (const f of [F.cage[0], F.audrey[0], F.clooney[0], F.franck[0]]) {
      assertError(await app.authenticate(f), "UNRECOGNIZED_FACE");
    }
  });

  test("B enrolls separately and gets B's data, never A's", async () => {
    const b = assertOk(await app.enroll(F.biden, { payload: { who: "B" }, details: { age: 66, gender: "male" } }), "enroll B");
    assert.match(b.facialId, UUID_RE);
    assert.notEqual(b.facialId, a.facialId);
    const resB = assertOk(await app.authenticate(F.biden[0]));
    assert.equal(resB.facialId, b.facialId);
    assert.deepEqual(resB.payload, { who: "B" });
    const resA = assertOk(await app.authenticate(F.obama[1]));
    assert.equal(resA.facialId, a.facialId);
    assert.deepEqual(resA.payload, payloadA);
  });

  test("multi-frame enrollment (8 video frames) authenticates from another session's frames", async () => {
    const c = assertOk(await app.enroll(F.cap12, { payload: "a bare string payload", details: { age: 30.4, gender: "male" } }), "enroll cap12");
    assert.deepEqual(c.details, { gender: "male", age: 30 });
    for (const f of [F.cap13[0], F.cap13[4], F.cap13[7]]) {
      const body = assertOk(await app.authenticate(f), `authenticate ${f.file}`);
      assert.equal(body.facialId, c.facialId, f.file);
      assert.equal(body.payload, "a bare string payload");
    }
  });

  test("a female enrollee's details are reported as given", async () => {
    const body = assertOk(await app.enroll([F.audrey[0]], { details: { age: 22.4, gender: "female" } }), "enroll audrey");
    assert.deepEqual(body.details, { gender: "female", age: 22 });
    const auth = assertOk(await app.authenticate(F.audrey[1]));
    assert.equal(auth.facialId, body.facialId);
    assert.deepEqual(auth.payload, {}, "default payload");
  });

  test("the index is per application: another app does not know A", async () => {
    const other = await edge.createApp({ preventDuplicates: true });
    assertError(await other.authenticate(F.obama[3]), "UNRECOGNIZED_FACE");
    // ... and can enroll A independently (no cross-app duplicate).
    const body = assertOk(await other.enroll(F.obama.slice(0, 2)), "enroll A in another app");
    assert.notEqual(body.facialId, a.facialId);
  });
});
