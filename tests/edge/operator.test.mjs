// The operator API the console uses: list apps, delete an app with all its data, rotate the API
// key and the webhook secret with a grace period, stats and facial IDs, a test webhook and the
// last deliveries; bad input is a 4xx JSON answer.

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { useEdge } from "./harness.mjs";
import { faces } from "./templates.mjs";
import { Edge, assertError, assertOk, request, show, sleep } from "./client.mjs";

const F = faces();
const edge = new Edge(await useEdge());

/** The webhook-signature entries that verify with `secret` (Standard Webhooks, whsec_ base64). */
function verifying(d, secret) {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const expected = createHmac("sha256", key).update(`${d.headers["webhook-id"]}.${d.headers["webhook-timestamp"]}.${d.raw}`).digest("base64");
  return d.headers["webhook-signature"].split(" ").filter((s) => s === `v1,${expected}`).length;
}

describe("operator API", () => {
  const received = [];
  let status = 200;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(status).end("ok");
    });
  });
  let hook;
  before(async () => {
    await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
    hook = `http://127.0.0.1:${server.address().port}/hook`;
  });
  after(() => new Promise((ok) => server.close(ok)));

  test("apps are listed once created, with their name, and leave the list when deleted", async () => {
    const a = await edge.createApp({}, "listed-one");
    const list = assertOk(await edge.admin("GET", "/admin/apps"), "list");
    const mine = list.apps.find((x) => x.publicId === a.publicId);
    assert.equal(mine?.name, "listed-one", JSON.stringify(list).slice(0, 300));
    assertOk(await edge.patchApp(a.publicId, { name: "renamed" }));
    const again = assertOk(await edge.admin("GET", "/admin/apps"));
    assert.equal(again.apps.find((x) => x.publicId === a.publicId)?.name, "renamed");
    assertOk(await edge.admin("DELETE", `/admin/apps/${a.publicId}`), "delete");
    const after = assertOk(await edge.admin("GET", "/admin/apps"));
    assert.equal(after.apps.some((x) => x.publicId === a.publicId), false);
  });

  test("deleting an app removes every template: its REST key is refused, its widget too, and the face enrolls again elsewhere", async () => {
    const app = await edge.createApp({ preventDuplicates: true });
    const enrolled = assertOk(await app.enroll([F.obama[0]]), "enroll");
    assert.equal((await app.listAll()).length, 1);
    const del = assertOk(await edge.admin("DELETE", `/admin/apps/${app.publicId}`), "delete app");
    assert.deepEqual([del.deleted, del.facialIds], [true, 1]);
    assert.equal((await edge.getApp(app.publicId)).status, 404, "the app is gone");
    assertError(await app.rest("appstats"), "UNAUTHORIZED", 401);
    assertError(await app.rest("listfacialids"), "UNAUTHORIZED", 401);
    assertError(await app.session("authenticate"), "UNAUTHORIZED");
    assert.equal((await edge.admin("DELETE", `/admin/apps/${app.publicId}`)).status, 404, "twice: 404");
    // Nothing of it answers a match any more; the same face is new to a fresh app.
    const fresh = await edge.createApp({ preventDuplicates: true });
    const again = assertOk(await fresh.enroll([F.obama[1]]), "enroll the same face in another app");
    assert.notEqual(again.facialId, enrolled.facialId);
  });

  test("API-key rotation: the new key works at once, the old one only within its grace period", async () => {
    const app = await edge.createApp({});
    const old = app.apiKey;
    const r = assertOk(await edge.admin("POST", `/admin/apps/${app.publicId}/api-key/rotate`, { graceSeconds: 3 }), "rotate");
    assert.match(r.apiKey, new RegExp(`^${app.publicId}\\.[0-9a-f]{48}$`));
    assert.notEqual(r.apiKey, old);
    assert.ok(Date.parse(r.previousValidUntil) > Date.now());
    assertOk(await app.rest("appstats", {}, { key: r.apiKey }), "new key");
    assertOk(await app.rest("appstats", {}, { key: old }), "old key within the grace period");
    await sleep(Date.parse(r.previousValidUntil) - Date.now() + 500);
    assertError(await app.rest("appstats", {}, { key: old }), "UNAUTHORIZED", 401);
    assertOk(await app.rest("appstats", {}, { key: r.apiKey }), "new key still");
    // No grace: the old key stops at once.
    const r2 = assertOk(await edge.admin("POST", `/admin/apps/${app.publicId}/api-key/rotate`, { graceSeconds: 0 }));
    assertError(await app.rest("appstats", {}, { key: r.apiKey }), "UNAUTHORIZED", 401);
    assertOk(await app.rest("appstats", {}, { key: r2.apiKey }));
    for (const graceSeconds of [-1, 1.5, "10", 8 * 24 * 3600]) {
      const bad = await edge.admin("POST", `/admin/apps/${app.publicId}/api-key/rotate`, { graceSeconds });
      assert.equal(bad.status, 400, `graceSeconds ${graceSeconds}: ${show(bad)}`);
    }
    assertOk(await app.rest("appstats", {}, { key: r2.apiKey }), "a refused rotation changes nothing");
  });

  test("webhook-secret rotation and the test webhook: signed with both secrets during the grace period; deliveries are listed", async () => {
    const app = await edge.createApp({ webhookUrl: hook });
    const noUrl = await edge.createApp({});
    assert.equal((await edge.admin("POST", `/admin/apps/${noUrl.publicId}/webhook/test`)).status, 400, "no webhookUrl");

    const t1 = assertOk(await edge.admin("POST", `/admin/apps/${app.publicId}/webhook/test`), "test webhook");
    assert.deepEqual([t1.event, t1.ok, t1.status], ["test", true, 200], JSON.stringify(t1));
    const d1 = received.at(-1);
    assert.equal(JSON.parse(d1.raw).eventName, "test");
    assert.equal(verifying(d1, app.webhookSecret), 1);

    const rot = assertOk(await edge.admin("POST", `/admin/apps/${app.publicId}/webhook-secret/rotate`, { graceSeconds: 600 }));
    assert.match(rot.webhookSecret, /^whsec_/);
    status = 503;
    const t2 = assertOk(await edge.admin("POST", `/admin/apps/${app.publicId}/webhook/test`));
    status = 200;
    assert.deepEqual([t2.ok, t2.status, t2.attempts], [false, 503, 3], JSON.stringify(t2));
    const d2 = received.at(-1);
    assert.equal(verifying(d2, rot.webhookSecret), 1, "signed with the new secret");
    assert.equal(verifying(d2, app.webhookSecret), 1, "and with the old one during the grace period");

    const list = assertOk(await edge.admin("GET", `/admin/apps/${app.publicId}/webhook/deliveries`));
    assert.deepEqual(list.deliveries.slice(0, 2).map((d) => [d.event, d.status, d.ok]), [["test", 503, false], ["test", 200, true]]);
    // A real event's outcome is recorded too (delivered in waitUntil after the response).
    assertOk(await app.enroll([F.biden[0]]));
    let seen;
    for (let i = 0; i < 40 && !seen; i++) {
      await sleep(250);
      seen = assertOk(await edge.admin("GET", `/admin/apps/${app.publicId}/webhook/deliveries`)).deliveries.find((d) => d.event === "enroll");
    }
    assert.deepEqual([seen?.status, seen?.ok], [200, true]);
  });

  test("stats and facial IDs for the console, and deleting one facial ID", async () => {
    const app = await edge.createApp({});
    const e = assertOk(await app.enroll([F.cage[0]]));
    const stats = assertOk(await edge.admin("GET", `/admin/apps/${app.publicId}/stats`));
    assert.equal(stats.enrolled, 1);
    const ids = assertOk(await edge.admin("GET", `/admin/apps/${app.publicId}/facialids?limit=10`));
    assert.ok(JSON.stringify(ids).includes(e.facialId));
    assert.ok(!/template|embedding/i.test(JSON.stringify(ids)), "no biometric data");
    assertOk(await edge.admin("DELETE", `/admin/apps/${app.publicId}/facialids/${e.facialId}`));
    assert.equal(assertOk(await edge.admin("GET", `/admin/apps/${app.publicId}/stats`)).enrolled, 0);
    assertError(await app.authenticate(F.cage[1]), "UNRECOGNIZED_FACE");
  });

  test("bad operator requests are clear 4xx JSON errors", async () => {
    const app = await edge.createApp({});
    const cases = [
      ["GET", "/admin/apps", undefined, null, 401],
      ["DELETE", `/admin/apps/${app.publicId}`, undefined, "wrong-token", 401],
      ["PUT", "/admin/apps", {}, undefined, 405],
      ["GET", `/admin/apps/${app.publicId}/api-key/rotate`, undefined, undefined, 405],
      ["POST", `/admin/apps/${app.publicId}/nope`, {}, undefined, 404],
      ["DELETE", "/admin/apps/not%20an%20id", undefined, undefined, 404],
      ["DELETE", `/admin/apps/${app.publicId}/facialids/not-a-uuid`, undefined, undefined, 400],
      ["GET", `/admin/apps/${app.publicId}/facialids?limit=99999`, undefined, undefined, 400],
      ["POST", `/admin/apps/${app.publicId}/webhook-secret/rotate`, [1, 2], undefined, 400],
      ["GET", "/admin/apps/fioa00000000/webhook/deliveries", undefined, undefined, 404],
    ];
    for (const [method, path, json, token, want] of cases) {
      const res = await edge.admin(method, path, json, token);
      assert.equal(res.status, want, `${method} ${path}: ${show(res)}`);
      assert.equal(typeof res.body?.code, "number", `${method} ${path}: JSON error body: ${show(res)}`);
    }
    const raw = await request(`${edge.url}/admin/apps/${app.publicId}/api-key/rotate`, {
      method: "POST", headers: { authorization: `Bearer ${edge.adminToken}`, "content-type": "application/json" }, body: "{",
    });
    assert.equal(raw.status, 400, show(raw));
  });
});
