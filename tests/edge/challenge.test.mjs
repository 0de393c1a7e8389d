// Single-use ceremony challenges: replay, wrong ceremony, wrong app, unknown and expired ids.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { before, describe, test } from "node:test";
import { useEdge } from "./harness.mjs";
import { faces } from "./templates.mjs";
import { CODES, Edge, LIVE, assertClientError, assertError, assertOk, show } from "./client.mjs";

const F = faces();
const edge = new Edge(await useEdge());

describe("challenges", () => {
  let app;
  let other;
  let facialId;

  before(async () => {
    app = await edge.createApp({ preventDuplicates: false });
    other = await edge.createApp({ preventDuplicates: false });
    facialId = assertOk(await app.enroll(F.obama.slice(0, 2)), "enroll").facialId;
  });

  test("a used enroll challenge cannot be replayed (UNAUTHORIZED)", async () => {
    const { challengeId } = await app.challenge("enroll");
    assertOk(await app.enroll([F.cage[0]], { challengeId }), "first use");
    const replay = await app.enroll([F.audrey[0]], { challengeId });
    assertError(replay, "UNAUTHORIZED");
  });

  test("a used authenticate challenge cannot be replayed (UNAUTHORIZED)", async () => {
    const first = await app.authenticate(F.obama[3]);
    assert.equal(assertOk(first).facialId, facialId);
    const replay = await app.authenticate(F.obama[3], { challengeId: first.challengeId });
    assertError(replay, "UNAUTHORIZED");
    assert.ok(!replay.text.includes(facialId), "replay leaks the facial ID");
  });

  test("a replayed challenge after a failed authentication is still rejected", async () => {
    const first = await app.authenticate(F.biden[0]);
    assertError(first, "UNRECOGNIZED_FACE");
    assertError(await app.authenticate(F.obama[3], { challengeId: first.challengeId }), "UNAUTHORIZED");
  });

  test("an authenticate challenge cannot enroll, and is consumed by the attempt", async () => {
    const { challengeId } = await app.challenge("authenticate");
    const res = await app.enroll([F.franck[0]], { challengeId });
    assertError(res, "UNAUTHORIZED");
    // Consumed even though the ceremony check failed: it no longer authenticates either.
    const reuse = await app.authenticate(F.obama[3], { challengeId });
    assertError(reuse, "UNAUTHORIZED");
  });

  test("an enroll challenge cannot authenticate", async () => {
    const { challengeId } = await app.challenge("enroll");
    assertError(await app.authenticate(F.obama[3], { challengeId }), "UNAUTHORIZED");
  });

  test("a challenge of another application is rejected", async () => {
    const { challengeId } = await other.challenge("authenticate");
    const res = await app.authenticate(F.obama[3], { challengeId });
    // The other app's Durable Object issued it, so this app may know nothing of it (SESSION_EXPIRED)
    // or detect the mismatch (UNAUTHORIZED); either way it must not authenticate.
    assert.ok([CODES.UNAUTHORIZED, CODES.SESSION_EXPIRED].includes(res.body?.code), show(res));
    assertError(res, res.body.code === CODES.UNAUTHORIZED ? "UNAUTHORIZED" : "SESSION_EXPIRED");
    // And it stays usable in its own app... or not; but it must never have authenticated here.
    assert.ok(!res.text.includes(facialId));
  });

  test("an unknown (never issued) challenge is SESSION_EXPIRED", async () => {
    const challengeId = randomBytes(16).toString("hex");
    assertError(await app.authenticate(F.obama[3], { challengeId }), "SESSION_EXPIRED");
    assertError(await app.enroll([F.chuck[0]], { challengeId }), "SESSION_EXPIRED");
  });

  test("a malformed challenge id is a 400, not a lookup", async () => {
    for (const challengeId of ["", "abc", "G".repeat(32), randomBytes(16).toString("hex").toUpperCase(), "0".repeat(33)]) {
      const res = await app.widget("authenticate", { challengeId, template: F.obama[3].template, liveness: LIVE });
      assertClientError(res, { status: 400 });
    }
  });

  test("challenges expire after CHALLENGE_TTL_MS (5 min) — the advertised expiry", async () => {
    const s = await app.challenge("authenticate");
    const ttl = Date.parse(s.expiresAt) - Date.now();
    assert.ok(ttl > 4 * 60_000 && ttl <= 5 * 60_000 + 2_000, `expiresAt ${s.expiresAt} is ${ttl} ms away`);
  });

  test(
    "an expired challenge is SESSION_EXPIRED (waits the full TTL; set OPENFIO_EDGE_SLOW=1)",
    { skip: process.env.OPENFIO_EDGE_SLOW !== "1" && "slow: waits 5 minutes", timeout: 400_000 },
    async () => {
      const s = await app.challenge("authenticate");
      const wait = Date.parse(s.expiresAt) - Date.now() + 1500;
      await new Promise((r) => setTimeout(r, wait));
      assertError(await app.authenticate(F.obama[3], { challengeId: s.challengeId }), "SESSION_EXPIRED");
    },
  );

  test("an unknown ceremony is a 400", async () => {
    for (const ceremony of ["login", "ENROLL", "", 1, null]) {
      assertClientError(await app.widget("session", { ceremony }), { status: 400 });
    }
  });
});
