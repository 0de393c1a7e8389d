// Persistence: everything survives a wrangler restart on the same --persist-to directory.
// Always runs its own instance (it restarts wrangler), even when OPENFIO_EDGE_URL is set.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { devVars, startEdge } from "./harness.mjs";
import { faces } from "./templates.mjs";
import { CODES, Edge, assertError, assertOk, itemId, show, statCounters } from "./client.mjs";

const F = faces();

describe("persistence across a restart", { timeout: 600_000 }, () => {
  let instance;
  let edge;
  let app;
  let pinApp;
  let a;
  let b;
  let usedChallenge;
  let statsBefore;
  let sharded;
  const shardedIds = {};
  const SHARDED_PEOPLE = ["obama", "biden", "franck", "audrey", "cage", "kim"];

  before(async () => {
    instance = await startEdge({ build: process.env.OPENFIO_EDGE_SKIP_BUILD !== "1" });
    edge = new Edge({ url: instance.url, adminToken: devVars().ADMIN_TOKEN });
  });
  after(() => instance?.dispose());

  test("enroll before the restart", async () => {
    app = await edge.createApp({ preventDuplicates: true, minAge: 18 });
    a = assertOk(await app.enroll(F.obama.slice(0, 3), { payload: { who: "A", list: [1, 2] }, details: { age: 47, gender: "male" } }));
    b = assertOk(await app.enroll(F.cap12, { payload: { who: "C" } }));
    const auth = await app.authenticate(F.obama[3]);
    assert.equal(assertOk(auth).facialId, a.facialId);
    usedChallenge = auth.challengeId;
    pinApp = await edge.createApp({ alwaysAskPin: true });
    assertOk(await pinApp.enroll([F.biden[0]], { pin: "5827" }));
    // Lock the PIN of biden in pinApp (3 wrong PINs) to check the lockout survives too.
    let r = await pinApp.authenticate(F.biden[0]);
    for (const wrong of ["9051", "9052", "9053"]) {
      r = await pinApp.authenticate(F.biden[0], { challengeId: r.body.challengeId, pin: wrong });
    }
    assertError(r, "WRONG_PIN_CODE");
    statsBefore = statCounters(await app.stats());
    // An app whose gallery is spread over 4 shard objects: each shard reloads after the restart.
    sharded = await edge.createApp({ preventDuplicates: true }, undefined, { galleryShards: 4 });
    for (const p of SHARDED_PEOPLE) shardedIds[p] = assertOk(await sharded.enroll([F[p][0]]), `enroll ${p}`).facialId;
  });

  test("restart wrangler on the same persist directory", async () => {
    await instance.restart();
    edge.url = instance.url; // new port; the apps hold this Edge, so they follow
  });

  test("authentication still works, with the same facial ID and payload", async () => {
    const auth = assertOk(await app.authenticate(F.obama[1]));
    assert.equal(auth.facialId, a.facialId);
    assert.deepEqual(auth.payload, { who: "A", list: [1, 2] });
    const c = assertOk(await app.authenticate(F.cap13[5]));
    assert.equal(c.facialId, b.facialId);
    assertError(await app.authenticate(F.biden[0]), "UNRECOGNIZED_FACE");
  });

  test("app, options, API key and REST data survive", async () => {
    const info = assertOk(await edge.getApp(app.publicId));
    assert.equal(info.status, "active");
    assert.equal(info.options.minAge, 18);
    const listed = (await app.listAll()).map(itemId).sort();
    assert.deepEqual(listed, [a.facialId, b.facialId].sort());
    const stats = statCounters(await app.stats());
    assert.equal(stats.enrolled, statsBefore.enrolled);
    assert.equal(stats.enrollments, statsBefore.enrollments);
  });

  test("a sharded app reloads every shard: same matches, listing and duplicates", async () => {
    for (const p of SHARDED_PEOPLE) {
      const photo = F[p][F[p].length > 1 ? 1 : 0];
      assert.equal(assertOk(await sharded.authenticate(photo), `authenticate ${p}`).facialId, shardedIds[p], p);
    }
    assert.deepEqual((await sharded.listAll()).map(itemId), SHARDED_PEOPLE.map((p) => shardedIds[p]));
    assertError(await sharded.enroll([F.obama[2]]), "FACE_DUPLICATION");
  });

  test("duplicate prevention still sees the enrolled faces", async () => {
    assertError(await app.enroll([F.obama[3]]), "FACE_DUPLICATION");
  });

  test("a challenge used before the restart stays used", async () => {
    const res = await app.authenticate(F.obama[3], { challengeId: usedChallenge });
    assert.ok([CODES.UNAUTHORIZED, CODES.SESSION_EXPIRED].includes(res.body?.code), show(res));
    assert.ok(res.status === 401 || res.status === 410, show(res));
  });

  test("a PIN lockout survives the restart", async () => {
    let r = await pinApp.authenticate(F.biden[0]);
    if (r.status === 200 && r.body?.pinRequired) {
      r = await pinApp.authenticate(F.biden[0], { challengeId: r.body.challengeId, pin: "5827" });
    }
    assertError(r, "WRONG_PIN_CODE");
  });

  test("deletion after the restart is immediate, and survives another restart", async () => {
    assertOk(await app.rest("deletefacialid", { fid: a.facialId }), "delete");
    assertError(await app.authenticate(F.obama[1]), "UNRECOGNIZED_FACE");
    await instance.restart();
    edge.url = instance.url;
    assertError(await app.authenticate(F.obama[1]), "UNRECOGNIZED_FACE");
    assert.equal(assertOk(await app.authenticate(F.cap13[1])).facialId, b.facialId);
  });
});
