// REST /deletefacialid: immediate effect, GET and POST, key checks.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { EDGE_DIR, WRANGLER, devVars, startEdge, useEdge } from "./harness.mjs";
import { faces } from "./templates.mjs";
import { Edge, assertClientError, assertError, assertOk, itemId, show, sleep, statCounters } from "./client.mjs";

const F = faces();
const edge = new Edge(await useEdge());

/**
 * Keys under `prefix` in wrangler's persisted local KV (binding FACES) of the instance whose
 * state is in `persistDir`, read with wrangler's own CLI: nothing is added to the edge's API.
 */
function localKvKeys(persistDir, prefix) {
  const r = spawnSync(
    WRANGLER,
    ["kv", "key", "list", "--binding", "FACES", "--local", "--prefix", prefix,
      "--config", join(persistDir, "wrangler.toml"), "--persist-to", join(persistDir, "state")],
    { cwd: EDGE_DIR, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1", NO_COLOR: "1" } },
  );
  assert.equal(r.status, 0, `wrangler kv key list: ${r.stderr}`);
  return JSON.parse(r.stdout.slice(r.stdout.indexOf("["))).map((k) => k.name);
}

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

// Local KV is wrangler's own persisted state, read with wrangler's own CLI (`wrangler kv key list
// --local`) while that instance is stopped (a second miniflare on a live persist directory can
// disturb the running one): nothing is added to the edge's API for these tests.
describe("deletion: Durable Object and local KV", () => {
  test("concurrent set-payload and delete pairs leave no record in the Durable Object or in KV", { timeout: 240_000 }, async () => {
    const inst = await startEdge({ build: false });
    try {
      const edge2 = new Edge({ url: inst.url, adminToken: devVars().ADMIN_TOKEN });
      const app = await edge2.createApp({ preventDuplicates: false });
      const N = 12;
      const ids = [];
      for (let i = 0; i < N; i++) ids.push(assertOk(await app.enroll([F.cap12[i % 3]]), `enroll ${i}`).facialId);
      const prefix = `rec:${app.publicId}:`;
      await inst.stop();
      assert.deepEqual(localKvKeys(inst.persistDir, prefix).sort(), ids.map((id) => `${prefix}${id}`).sort(), "KV holds every enrolled record");
      await inst.start();
      edge2.url = inst.url;

      // Each pair: a payload update racing the deletion, then a late update after it.
      const results = await Promise.all(ids.map(async (fid, i) => {
        const [set, del] = await Promise.all([
          app.rest("setfacialidpayload", { fid, payload: { n: i, big: "x".repeat(4000) } }, { via: "json" }),
          app.rest("deletefacialid", { fid }, { via: "json" }),
        ]);
        const late = await app.rest("setfacialidpayload", { fid, payload: { late: true } }, { via: "json" });
        return { set, del, late };
      }));
      for (const { set, del, late } of results) {
        assert.equal(del.status, 200, show(del));
        assert.ok(set.status === 200 || set.status === 404, show(set));
        assert.equal(late.status, 404, `a late set-payload found a deleted record: ${show(late)}`);
      }
      assert.deepEqual((await app.listAll()).map(itemId), [], "listed after deletion");
      const stats = statCounters(await app.stats());
      assert.equal(stats.enrolled, 0, JSON.stringify(stats));
      assert.equal(stats.deletions, N, JSON.stringify(stats));
      for (const fid of ids) assertClientError(await app.rest("deletefacialid", { fid }));
      await inst.stop();
      assert.deepEqual(localKvKeys(inst.persistDir, prefix), [], "KV kept deleted records");
    } finally {
      await inst.dispose();
    }
  });

  test("wrangler killed mid-burst of deletions: after a restart no record is left in the DO or KV", { timeout: 240_000 }, async (t) => {
    const inst = await startEdge({ build: false });
    try {
      const edge2 = new Edge({ url: inst.url, adminToken: devVars().ADMIN_TOKEN });
      const app = await edge2.createApp({ preventDuplicates: false });
      const N = 40;
      const ids = [];
      for (let i = 0; i < N; i++) ids.push(assertOk(await app.enroll([F.cap12[i % 8]]), `enroll ${i}`).facialId);
      const prefix = `rec:${app.publicId}:`;

      // Fire every deletion at once and kill workerd (SIGKILL, no shutdown) while they run.
      // The kill comes once a few have been answered, so others are mid-way.
      let done = 0;
      const pending = ids.map((fid) =>
        app.rest("deletefacialid", { fid }, { via: "json" }).then((r) => (done++, r), (e) => e),
      );
      for (let waited = 0; done < 2 && waited < 5000; waited += 5) await sleep(5);
      process.kill(-inst.child.pid, "SIGKILL");
      const first = await Promise.all(pending);
      const answered = first.filter((r) => r?.status === 200).length;
      t.diagnostic(`${answered} of ${N} deletions answered before the kill`);
      await inst.restart();
      edge2.url = inst.url;

      // Each facial ID was either deleted or is still whole: deleting it now succeeds or says
      // it is unknown, and nothing is listed or counted afterwards.
      for (const fid of ids) {
        const res = await app.rest("deletefacialid", { fid }, { via: "json" });
        assert.ok(res.status === 200 || res.status === 404, show(res));
      }
      assert.deepEqual((await app.listAll()).map(itemId), []);
      assert.equal(statCounters(await app.stats()).enrolled, 0);
      // KV copies owed a deletion are re-driven from the tombstones by the alarm (10 s after the
      // object loads): give it time, then read KV with the instance stopped.
      await sleep(15_000);
      await inst.stop();
      const left = localKvKeys(inst.persistDir, prefix);
      assert.deepEqual(left, [], `KV kept ${left.length} deleted records (${answered} deletions answered before the kill)`);
    } finally {
      await inst.dispose();
    }
  });
});
