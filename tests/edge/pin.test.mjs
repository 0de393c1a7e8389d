// PIN flows: alwaysAskPin, wrong PINs and lockout, PIN uniqueness with retry, weak PINs.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { useEdge } from "./harness.mjs";
import { faces } from "./templates.mjs";
import { CHALLENGE_RE, CODES, Edge, ISO_RE, assertClientError, assertError, assertOk, randomIp, show, strongPin } from "./client.mjs";

const F = faces();
const edge = new Edge(await useEdge());

function assertPinRequired(res, { reason, attemptsRemaining, wrongPin } = {}) {
  const body = assertOk(res, "authenticate");
  assert.equal(body.pinRequired, true, `expected a PIN prompt: ${show(res)}`);
  assert.match(body.challengeId, CHALLENGE_RE);
  assert.match(body.expiresAt, ISO_RE);
  assert.equal(body.facialId, undefined, `PIN prompt leaks the facial ID: ${show(res)}`);
  assert.equal(body.payload, undefined, `PIN prompt leaks the payload: ${show(res)}`);
  if (reason !== undefined) assert.equal(body.reason, reason, show(res));
  if (attemptsRemaining !== undefined) assert.equal(body.attemptsRemaining, attemptsRemaining, show(res));
  if (wrongPin !== undefined) assert.equal(body.wrongPin, wrongPin, show(res));
  return body;
}

describe("PIN", () => {
  test("alwaysAskPin: pinRequired, then the right PIN authenticates", async () => {
    const app = await edge.createApp({ alwaysAskPin: true });
    const pin = "2749";
    const enrolled = assertOk(await app.enroll(F.obama.slice(0, 3), { pin, payload: { u: "A" } }));
    const first = await app.authenticate(F.obama[3]);
    const prompt = assertPinRequired(first, { reason: "alwaysAsk", attemptsRemaining: 3, wrongPin: false });
    assert.notEqual(prompt.challengeId, first.challengeId, "the follow-up needs a fresh challenge");
    const ok = assertOk(await app.authenticate(F.obama[3], { challengeId: prompt.challengeId, pin }));
    assert.equal(ok.facialId, enrolled.facialId);
    assert.deepEqual(ok.payload, { u: "A" });
    // The follow-up challenge is single-use too.
    assertError(await app.authenticate(F.obama[3], { challengeId: prompt.challengeId, pin }), "UNAUTHORIZED");
    // The first challenge was consumed by the PIN prompt.
    assertError(await app.authenticate(F.obama[3], { challengeId: first.challengeId, pin }), "UNAUTHORIZED");
    // An unknown face is still UNRECOGNIZED_FACE, not a PIN prompt (which would reveal nothing, but wastes a step).
    assertError(await app.authenticate(F.biden[0]), "UNRECOGNIZED_FACE");
  });

  test("three wrong PINs → WRONG_PIN_CODE and lockout; the right PIN then still fails", async () => {
    const app = await edge.createApp({ alwaysAskPin: true });
    const pin = "2749";
    assertOk(await app.enroll(F.obama.slice(0, 2), { pin }));
    const other = assertOk(await app.enroll([F.biden[0]], { pin: "5827" }));

    let prompt = assertPinRequired(await app.authenticate(F.obama[3]), { attemptsRemaining: 3 });
    prompt = assertPinRequired(
      await app.authenticate(F.obama[3], { challengeId: prompt.challengeId, pin: "9051" }),
      { wrongPin: true, attemptsRemaining: 2 },
    );
    prompt = assertPinRequired(
      await app.authenticate(F.obama[3], { challengeId: prompt.challengeId, pin: "9052" }),
      { wrongPin: true, attemptsRemaining: 1 },
    );
    const third = await app.authenticate(F.obama[3], { challengeId: prompt.challengeId, pin: "9053" });
    assertError(third, "WRONG_PIN_CODE");

    // Locked: a new ceremony with the right PIN does not get in.
    const again = await app.authenticate(F.obama[3]);
    let final = again;
    if (again.status === 200 && again.body?.pinRequired) {
      final = await app.authenticate(F.obama[3], { challengeId: again.body.challengeId, pin });
    }
    assertError(final, "WRONG_PIN_CODE");
    assert.ok(!final.text.includes("facialId"), show(final));
    // Even sending the PIN up front does not bypass the lockout.
    assertError(await app.login(F.obama[2], pin), "WRONG_PIN_CODE");

    // Another user of the same app is unaffected.
    const b = assertOk(await app.login(F.biden[0], "5827"));
    assert.equal(b.facialId, other.facialId);
  });

  test("a right PIN after wrong ones resets the counter", async () => {
    const app = await edge.createApp({ alwaysAskPin: true });
    const pin = strongPin();
    assertOk(await app.enroll([F.cage[0]], { pin }));
    for (let round = 0; round < 2; round++) {
      let p = assertPinRequired(await app.authenticate(F.cage[1]));
      // strongPin() has 6 digits, so these 4-digit PINs are always wrong.
      p = assertPinRequired(await app.authenticate(F.cage[1], { challengeId: p.challengeId, pin: "9051" }), { wrongPin: true, attemptsRemaining: 2 });
      p = assertPinRequired(await app.authenticate(F.cage[1], { challengeId: p.challengeId, pin: "9052" }), { wrongPin: true, attemptsRemaining: 1 });
      assertOk(await app.authenticate(F.cage[1], { challengeId: p.challengeId, pin }), `round ${round}: right PIN`);
    }
  });

  test("enforcePinUniqueness: UNIQUE_PIN_REQUIRED with a retry challenge, then another PIN enrolls", async () => {
    const app = await edge.createApp({ enforcePinUniqueness: true, preventDuplicates: true });
    assertOk(await app.enroll(F.obama.slice(0, 2), { pin: "2749" }), "first user");
    const clash = await app.enroll([F.biden[0]], { pin: "2749", payload: { who: "B" } });
    assertError(clash, "UNIQUE_PIN_REQUIRED");
    const retry = clash.body.retry;
    assert.ok(retry && typeof retry === "object", `no retry in ${show(clash)}`);
    assert.match(retry.challengeId, CHALLENGE_RE);
    assert.match(retry.expiresAt, ISO_RE);
    assert.notEqual(retry.challengeId, clash.challengeId);
    // The original challenge was consumed.
    assertError(await app.enroll([F.biden[0]], { pin: "5827", challengeId: clash.challengeId }), "UNAUTHORIZED");
    // Same PIN again under the retry challenge: still not unique (and a new retry is offered).
    const clash2 = await app.enroll([F.biden[0]], { pin: "2749", challengeId: retry.challengeId });
    assertError(clash2, "UNIQUE_PIN_REQUIRED");
    const ok = assertOk(await app.enroll([F.biden[0]], { pin: "5827", payload: { who: "B" }, challengeId: clash2.body.retry.challengeId }), "enroll with another PIN");
    const auth = assertOk(await app.authenticate(F.biden[0]));
    assert.equal(auth.facialId, ok.facialId);
    assert.deepEqual(auth.payload, { who: "B" });
    // Nothing was stored by the refused attempts: exactly two users.
    assert.equal((await app.listAll()).length, 2);
  });

  test("PIN uniqueness is per application", async () => {
    const a1 = await edge.createApp({ enforcePinUniqueness: true });
    const a2 = await edge.createApp({ enforcePinUniqueness: true });
    assertOk(await a1.enroll([F.franck[0]], { pin: "3851" }));
    assertOk(await a2.enroll([F.franck[1]], { pin: "3851" }));
  });

  test("rejectWeakPins: weak PINs are refused (400), strong ones accepted", async () => {
    const app = await edge.createApp({ rejectWeakPins: true, preventDuplicates: false });
    for (const pin of ["1234", "0000", "1111", "4321", "1212", "123456", "2580"]) {
      const res = await app.enroll([F.clooney[0]], { pin });
      assertClientError(res, { status: 400 });
      assert.equal(res.body.code, CODES.PROCESSING_ERR, show(res));
    }
    assert.equal((await app.listAll()).length, 0);
    assertOk(await app.enroll([F.clooney[0]], { pin: "2749" }), "strong PIN");
  });

  test("without rejectWeakPins a weak PIN is accepted; non-digit PINs never are", async () => {
    const app = await edge.createApp({ rejectWeakPins: false, preventDuplicates: false });
    assertOk(await app.enroll([F.kim[0]], { pin: "1234" }), "weak PIN allowed");
    for (const pin of ["12a4", "", "12", " 2749", "２７４９", "27.49"]) {
      assertClientError(await app.enroll([F.kim[0]], { pin }), { status: 400 });
    }
  });

  test("wrong PINs count per client too: one client spraying PINs across users is locked out", async () => {
    const app = await edge.createApp({ alwaysAskPin: true, preventDuplicates: true });
    const people = [F.obama, F.biden, F.cage, F.franck, F.cap12];
    const pins = ["2749", "5827", "3961", "7402", "6158"];
    const ids = [];
    for (const [i, faces] of people.entries()) {
      ids.push(assertOk(await app.enroll([faces[0]], { pin: pins[i] }), `enroll ${i}`).facialId);
    }
    // Two wrong PINs against each user (never enough to lock any of them): ten from one client.
    for (const [i, faces] of people.entries()) {
      let p = assertPinRequired(await app.authenticate(faces[0]));
      p = assertPinRequired(await app.authenticate(faces[0], { challengeId: p.challengeId, pin: "9051" }), { wrongPin: true });
      const res = await app.authenticate(faces[0], { challengeId: p.challengeId, pin: "9052" });
      if (i < people.length - 1) assertPinRequired(res, { wrongPin: true, attemptsRemaining: 1 });
      else assertError(res, "WRONG_PIN_CODE");
    }
    // The client is locked: even a user's right PIN is refused from it.
    assertError(await app.login(people[0][0], pins[0]), "WRONG_PIN_CODE");
    // Another client is not, and no user was locked by the spray.
    const elsewhere = Object.assign(Object.create(Object.getPrototypeOf(app)), app, { ip: randomIp() });
    assert.equal(assertOk(await elsewhere.login(people[0][0], pins[0])).facialId, ids[0]);
    assert.equal(assertOk(await elsewhere.login(people[1][0], pins[1])).facialId, ids[1]);
  });
});
