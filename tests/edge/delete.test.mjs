// REST /deletefacialid: immediate effect, GET and POST, key checks.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { useEdge } from "./harness.mjs";
import { faces } from "./templates.mjs";
import { Edge, assertClientError, assertError, assertOk, itemId, show, statCounters } from "./client.mjs";

const F = faces();
const edge = new Edge(await useEdge());

function assertRestOk(res, what) {
  const body = assertOk(res, what);
  assert.equal(body.status, 200, `${what}: body.status: ${show(res)}`);
  return body;
}

function assertRest401(res) {
  assert.equal(res.status, 401, show(res));
  assert.ok(res.body && typeof res.body === "object", show(res));
  assert.equal(res.body.status, 401, show(res));
  assert.equal(typeof res.body.error, "string", show(res));
  assert.equal(typeof res.body.code, "number", show(res));
}

describe("deletefacialid", () => {
  for (const via of ["get", "form", "json"]) {
    test(`delete via ${via.toUpperCase()} takes effect immediately`, async () => {
      const app = await edge.createApp({ preventDuplicates: true });
      const a = assertOk(await app.enroll(F.obama.slice(0, 2), { payload: { secret: "s3" } }));
      const b = assertOk(await app.enroll([F.biden[0]]));
      assert.equal(assertOk(await app.authenticate(F.obama[3])).facialId, a.facialId);

      assertRestOk(await app.rest("deletefacialid", { fid: a.facialId }, { via }), "deletefacialid");
      const after = await app.authenticate(F.obama[3]);
      assertError(after, "UNRECOGNIZED_FACE");
      assert.ok(!after.text.includes("s3"));

      // Gone from the listing, counted in the stats, B untouched.
      const listed = (await app.listAll()).map(itemId);
      assert.deepEqual(listed, [b.facialId]);
      const stats = statCounters(await app.stats());
      assert.equal(stats.enrolled, 1, JSON.stringify(stats));
      assert.equal(stats.deletions, 1, JSON.stringify(stats));
      assert.equal(assertOk(await app.authenticate(F.biden[0])).facialId, b.facialId);

      // The face is no longer a duplicate: it can enroll again, under a new facial ID.
      const again = assertOk(await app.enroll(F.obama.slice(2, 4)), "re-enroll after deletion");
      assert.notEqual(again.facialId, a.facialId);
      assert.equal(assertOk(await app.authenticate(F.obama[0])).facialId, again.facialId);

      // Deleting it twice is a client error (nothing left), never a 5xx.
      assertClientError(await app.rest("deletefacialid", { fid: a.facialId }, { via }));
    });
  }

  test("wrong, missing and public-ID keys → 401 (a foreign key → 401/404) and nothing is deleted", async () => {
    const app = await edge.createApp();
    const stranger = await edge.createApp();
    const a = assertOk(await app.enroll(F.obama.slice(0, 2)));
    const fid = a.facialId;
    for (const via of ["get", "form", "json"]) {
      assertRest401(await app.rest("deletefacialid", { fid }, { via, key: "wrong-key" }));
      assertRest401(await app.rest("deletefacialid", { fid }, { via, key: null }));
      assertRest401(await app.rest("deletefacialid", { fid }, { via, key: "" }));
      assertRest401(await app.rest("deletefacialid", { fid }, { via, key: app.publicId }));
      // Another app's valid key authorises *that* app, where the facial ID does not exist (404).
      const foreign = await app.rest("deletefacialid", { fid }, { via, key: stranger.apiKey });
      assert.ok(foreign.status === 401 || foreign.status === 404, show(foreign));
      assertRest401(await app.rest("deletefacialid", { fid }, { via, key: app.apiKey.slice(0, -1) }));
      assertRest401(await app.rest("deletefacialid", { fid }, { via, key: `${app.apiKey}x` }));
    }
    // The admin token is not an app key either.
    assertRest401(await app.rest("deletefacialid", { fid }, { key: edge.adminToken }));
    assert.equal(assertOk(await app.authenticate(F.obama[3])).facialId, fid);
  });

  test("another app's key cannot delete this app's facial ID even with its own valid key", async () => {
    const app = await edge.createApp();
    const stranger = await edge.createApp();
    const a = assertOk(await app.enroll(F.cap12.slice(0, 3)));
    const res = await stranger.rest("deletefacialid", { fid: a.facialId });
    assertClientError(res);
    assert.equal(assertOk(await app.authenticate(F.cap13[2])).facialId, a.facialId);
  });

  test("malformed and unknown facial IDs are client errors", async () => {
    const app = await edge.createApp();
    for (const fid of ["", "nope", "00000000-0000-0000-0000-000000000000", "AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA", "123e4567-e89b-42d3-a456-426614174000"]) {
      assertClientError(await app.rest("deletefacialid", { fid }));
    }
    assertClientError(await app.rest("deletefacialid", {}));
  });
});
