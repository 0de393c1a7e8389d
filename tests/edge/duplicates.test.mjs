// Duplicate prevention under concurrency, FACE_MISMATCH, and PIN-resolved collisions.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { useEdge } from "./harness.mjs";
import { faces } from "./templates.mjs";
import { CODES, Edge, assertError, assertOk, itemId, show, strongPin } from "./client.mjs";

const F = faces();
const edge = new Edge(await useEdge());

describe("duplicates", () => {
  test("20 parallel enrollments of one face: exactly one succeeds, 19 FACE_DUPLICATION", async () => {
    const app = await edge.createApp({ preventDuplicates: true });
    // Issue all challenges first so the enrollments really race at the Durable Object.
    const challenges = await Promise.all(Array.from({ length: 20 }, () => app.challenge("enroll")));
    const results = await Promise.all(
      challenges.map(({ challengeId }, i) =>
        app.enroll([F.obama[i % 4]], { challengeId, payload: { attempt: i } })),
    );
    const ok = results.filter((r) => r.status === 200);
    const dup = results.filter((r) => r.body?.code === CODES.FACE_DUPLICATION);
    const other = results.filter((r) => r.status !== 200 && r.body?.code !== CODES.FACE_DUPLICATION);
    assert.deepEqual(other.map(show), [], "unexpected answers");
    assert.equal(ok.length, 1, `successes: ${ok.map(show).join("\n")}`);
    assert.equal(dup.length, 19);
    for (const r of dup) assertError(r, "FACE_DUPLICATION");
    const winner = ok[0].body.facialId;

    // The index and the REST listing agree: one facial ID, and it is the winner's.
    const listed = (await app.listAll()).map(itemId);
    assert.deepEqual(listed, [winner]);
    const auth = assertOk(await app.authenticate(F.obama[2]));
    assert.equal(auth.facialId, winner);
    const winnerAttempt = challenges.findIndex((c) => c.challengeId === ok[0].challengeId);
    assert.deepEqual(auth.payload, { attempt: winnerAttempt }, "the stored payload is the winner's");
    // A later sequential duplicate (another photo of the same person) is refused too.
    assertError(await app.enroll([F.obama[3]]), "FACE_DUPLICATION");
    // A different person still enrolls.
    assertOk(await app.enroll(F.biden), "enroll B after duplicates");
  });

  test("parallel enrollments of different people all succeed", async () => {
    const app = await edge.createApp({ preventDuplicates: true });
    const people = [F.obama[0], F.biden[0], F.cap12[0], F.franck[0], F.audrey[0], F.cage[0], F.clooney[0], F.chuck[0]];
    const results = await Promise.all(people.map((f) => app.enroll([f])));
    for (const r of results) assertOk(r, "parallel distinct enroll");
    const ids = new Set(results.map((r) => r.body.facialId));
    assert.equal(ids.size, people.length);
    assert.equal((await app.listAll()).length, people.length);
  });

  test("enrollment templates of two different people → FACE_MISMATCH", async () => {
    const app = await edge.createApp({ preventDuplicates: true });
    assertError(await app.enroll([F.obama[0], F.biden[0]]), "FACE_MISMATCH");
    assertError(await app.enroll([F.cap12[0], F.cap12[1], F.cap12[2], F.franck[0]]), "FACE_MISMATCH");
    assertError(await app.enroll([F.audrey[0], F.audrey[1], F.cage[0]]), "FACE_MISMATCH");
    // Nothing was stored.
    assert.equal((await app.listAll()).length, 0);
    assertError(await app.authenticate(F.obama[1]), "UNRECOGNIZED_FACE");
    // Consistent frames of one person are fine.
    assertOk(await app.enroll([F.obama[0], F.obama[1], F.obama[2], F.obama[3]]), "consistent frames");
  });

  test("without preventDuplicates the same face enrolls twice; the PIN picks the user", async () => {
    const app = await edge.createApp({ preventDuplicates: false, alwaysAskPin: false, enforcePinUniqueness: false });
    const pin1 = strongPin();
    let pin2 = strongPin();
    while (pin2 === pin1) pin2 = strongPin();
    const first = assertOk(await app.enroll(F.obama.slice(0, 2), { pin: pin1, payload: { n: 1 } }), "first");
    const second = assertOk(await app.enroll(F.obama.slice(2, 4), { pin: pin2, payload: { n: 2 } }), "second");
    assert.notEqual(first.facialId, second.facialId);

    // Two enrolled faces both match: the edge must ask for the PIN instead of picking one.
    const res = await app.authenticate(F.obama[1]);
    const body = assertOk(res);
    assert.equal(body.pinRequired, true, `expected a PIN prompt: ${show(res)}`);
    assert.equal(body.reason, "collision");
    assert.equal(body.facialId, undefined, "PIN prompt leaks a facial ID");
    assert.equal(body.payload, undefined, "PIN prompt leaks a payload");

    const r2 = assertOk(await app.authenticate(F.obama[1], { challengeId: body.challengeId, pin: pin2 }));
    assert.equal(r2.facialId, second.facialId);
    assert.deepEqual(r2.payload, { n: 2 });
    const r1 = assertOk(await app.login(F.obama[3], pin1));
    assert.equal(r1.facialId, first.facialId);
    assert.deepEqual(r1.payload, { n: 1 });
  });
});
