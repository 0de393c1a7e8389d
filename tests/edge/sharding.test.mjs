// Apps whose gallery is spread over several gallery shard objects (`galleryShards`): real faces
// land on every shard and match across them, listings merge, deletion and app deletion reach
// the shards, a restarted shard reloads every face, and a failing or silent shard fails the
// request closed (503 PROCESSING_ERR), never a match on part of the gallery. The consistency
// specs (duplicates, delete, challenge, PIN, …) also run on 4-shard apps: tests/edge/run.mjs.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { useEdge } from "./harness.mjs";
import { faces } from "./templates.mjs";
import { Edge, assertClientError, assertError, assertOk, itemId, show, statCounters } from "./client.mjs";

const F = faces();
const edge = new Edge(await useEdge());
const PEOPLE = ["obama", "biden", "franck", "audrey", "cage", "clooney", "chuck", "kim", "murray"];

/** Another photo of `p` when the fixtures have one, else the enrolled photo again. */
const other = (p) => F[p][F[p].length > 1 ? 1 : 0];

/** POST /admin/apps/{id}/gallery/control (the harness sets GALLERY_TEST_CONTROLS=1). */
async function control(app, body) {
  return assertOk(await edge.admin("POST", `/admin/apps/${app.publicId}/gallery/control`, body), `gallery control ${body.control}`);
}

/** Enrolls one photo of each person; returns person → facial ID. */
async function enrollEveryone(app) {
  const ids = {};
  for (const p of PEOPLE) ids[p] = assertOk(await app.enroll([F[p][0]]), `enroll ${p}`).facialId;
  return ids;
}

describe("sharded gallery", () => {
  test("faces spread over 4 shards and each person matches across them", async () => {
    const app = await edge.createApp({ preventDuplicates: true }, undefined, { galleryShards: 4 });
    assert.equal(app.created.galleryShards, 4, JSON.stringify(app.created));
    assert.equal(assertOk(await edge.getApp(app.publicId)).galleryShards, 4);
    const ids = await enrollEveryone(app);

    const shards = (await control(app, { control: "inspect" })).shards;
    assert.equal(shards.length, 4);
    assert.equal(shards.reduce((n, s) => n + s.faces, 0), PEOPLE.length);
    assert.ok(shards.filter((s) => s.faces > 0).length >= 2, `all faces on one shard: ${JSON.stringify(shards)}`);

    for (const p of PEOPLE) {
      const photo = other(p);
      assert.equal(assertOk(await app.authenticate(photo), `authenticate ${p}`).facialId, ids[p], p);
    }
    // Duplicates are found whichever shard holds the first enrollment.
    for (const p of ["obama", "biden", "kim"]) assertError(await app.enroll([other(p)]), "FACE_DUPLICATION");

    // The listing merges the shards in enrollment order, and pages across them.
    const listed = (await app.listAll()).map(itemId);
    assert.deepEqual(listed, PEOPLE.map((p) => ids[p]));
    const paged = [];
    for (let offset = 0; offset < PEOPLE.length; offset += 2) {
      const page = assertOk(await app.rest("listfacialids", { offset: String(offset), limit: "2" }));
      assert.equal(page.total, PEOPLE.length);
      paged.push(...page.facialIds.map(itemId));
    }
    assert.deepEqual(paged, listed);
    assert.equal(statCounters(await app.stats()).enrolled, PEOPLE.length);
    const check = assertOk(await app.rest("checkfacialid", { fid: ids.kim }));
    assert.equal(check.valid, true);
  });

  test("a deleted face stops matching at once, on 16 shards", async () => {
    const app = await edge.createApp({}, undefined, { galleryShards: 16 });
    const ids = await enrollEveryone(app);
    assertOk(await app.rest("deletefacialid", { fid: ids.obama }));
    assertError(await app.authenticate(F.obama[3]), "UNRECOGNIZED_FACE");
    assert.equal(assertOk(await app.rest("checkfacialid", { fid: ids.obama })).valid, false);
    assert.equal(assertOk(await app.authenticate(other("biden"))).facialId, ids.biden);
    assert.equal((await app.listAll()).length, PEOPLE.length - 1);
    // The face enrolls again (the duplicate check no longer finds it).
    assertOk(await app.enroll([F.obama[1]]), "re-enroll after deletion");
  });

  test("a restarted shard reloads every face from storage", async () => {
    const app = await edge.createApp({}, undefined, { galleryShards: 4 });
    const ids = await enrollEveryone(app);
    const before = (await control(app, { control: "inspect" })).shards;
    const k = before.findIndex((s) => s.faces > 0);
    const [restarted] = (await control(app, { control: "restart", shard: k })).shards;
    assert.equal(restarted.faces, before[k].faces);
    assert.equal(typeof restarted.loadMs, "number");
    for (const p of PEOPLE) assert.equal(assertOk(await app.authenticate(other(p))).facialId, ids[p], p);
  });

  test("a failing shard fails logins and enrollments closed, and nothing is half-stored", async () => {
    const app = await edge.createApp({ preventDuplicates: true }, undefined, { galleryShards: 4 });
    const ids = await enrollEveryone(app);
    const shards = (await control(app, { control: "inspect" })).shards;
    // Whichever shard fails, some of these people are on healthy ones: still no login may be
    // decided without the failed shard.
    const k = shards.findIndex((s) => s.faces > 0);
    await control(app, { control: "fault", shard: k, mode: "error" });
    try {
      for (const p of ["obama", "biden"]) {
        const r = await app.authenticate(other(p));
        assert.equal(r.status, 503, show(r));
        assert.equal(r.body.error, "PROCESSING_ERR", show(r));
        assert.ok(!("facialId" in r.body), show(r));
      }
      // An enrollment that cannot check every shard is refused and leaves nothing behind.
      const r = await app.enroll([F.obama[2]]);
      assert.equal(r.status, 503, show(r));
    } finally {
      await control(app, { control: "fault", shard: k, mode: "none" });
    }
    assert.deepEqual((await app.listAll()).map(itemId), PEOPLE.map((p) => ids[p]));
    assert.equal(assertOk(await app.authenticate(F.obama[1])).facialId, ids.obama);
  });

  test("a shard that does not answer fails the login within the shard timeout", async () => {
    const app = await edge.createApp({}, undefined, { galleryShards: 4 });
    await enrollEveryone(app);
    await control(app, { control: "fault", shard: 2, mode: "hang" });
    try {
      const started = Date.now();
      const r = await app.authenticate(other("biden"));
      const took = Date.now() - started;
      assert.equal(r.status, 503, show(r));
      assert.equal(r.body.error, "PROCESSING_ERR");
      // SHARD_TIMEOUT_MS is 5 s; the hang is 30 s.
      assert.ok(took >= 4_500 && took < 20_000, `answered after ${took} ms`);
    } finally {
      await control(app, { control: "fault", shard: 2, mode: "none" });
    }
  });

  test("synthetic faces fill the shards and real ones still match among them", async () => {
    const app = await edge.createApp({ preventDuplicates: true }, undefined, { galleryShards: 4 });
    const seeded = (await control(app, { control: "seed", count: 3000, seed: 7 })).shards;
    assert.deepEqual(seeded.map((s) => s.faces), [750, 750, 750, 750]);
    const ids = await enrollEveryone(app);
    for (const p of PEOPLE) assert.equal(assertOk(await app.authenticate(other(p))).facialId, ids[p], p);
    assert.equal(statCounters(await app.stats()).enrolled, 3000 + PEOPLE.length);
  });

  test("a full gallery refuses enrollments with a clear 503 and keeps nothing of them", async () => {
    // MAX_FACES_PER_SHARD (edge-worker/src/app_config.rs) faces fill a one-shard app.
    const app = await edge.createApp({}, undefined, { galleryShards: 1 });
    await control(app, { control: "seed", count: 120_000, seed: 3 });
    const r = await app.enroll([F.obama[0]]);
    assert.equal(r.status, 503, show(r));
    assert.equal(r.body.error, "PROCESSING_ERR");
    assert.match(r.body.message, /full/);
    const stats = statCounters(await app.stats());
    assert.equal(stats.enrolled, 120_000);
    assert.equal(stats.enrollments, 0, "a refused enrollment is not counted");
    assertOk(await edge.admin("DELETE", `/admin/apps/${app.publicId}`));
  });

  test("deleting a sharded app empties its shards", async () => {
    const app = await edge.createApp({ preventDuplicates: true }, undefined, { galleryShards: 4 });
    await enrollEveryone(app);
    const del = assertOk(await edge.admin("DELETE", `/admin/apps/${app.publicId}`));
    assert.equal(del.facialIds, PEOPLE.length);
    // Another app enrolls the same faces: nothing of the deleted one is left to collide with.
    const second = await edge.createApp({ preventDuplicates: true }, undefined, { galleryShards: 4 });
    await enrollEveryone(second);
  });

  test("gallery controls refuse a shard the app does not have and an unknown control", async () => {
    const app = await edge.createApp({}, undefined, { galleryShards: 4 });
    for (const body of [{ control: "restart", shard: 4 }, { control: "fault", shard: 9, mode: "error" }, { control: "explode" }, { control: "fault", shard: 1, mode: "sometimes" }]) {
      assertClientError(await edge.admin("POST", `/admin/apps/${app.publicId}/gallery/control`, body), { status: 400 });
    }
    // Nothing was faulted: logins still work.
    const ids = await enrollEveryone(app);
    assert.equal(assertOk(await app.authenticate(other("kim"))).facialId, ids.kim);
  });

  test("galleryShards is checked at creation and fixed afterwards", async () => {
    for (const galleryShards of [0, 65, "4", 1.5]) {
      const r = await edge.admin("POST", "/admin/apps", { name: "bad shards", galleryShards });
      assertClientError(r, { status: 400 });
    }
    const app = await edge.createApp({}, undefined, { galleryShards: 2 });
    assertClientError(await edge.patchApp(app.publicId, { galleryShards: 8 }), { status: 400 });
    assert.equal(assertOk(await edge.getApp(app.publicId)).galleryShards, 2);
  });
});
