// Webhooks: enroll/auth/deletion events delivered to a local receiver, Standard Webhooks signatures,
// retries, and delivery off the response path.

import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { useEdge } from "./harness.mjs";
import { faces } from "./templates.mjs";
import { Edge, assertOk, show } from "./client.mjs";

const F = faces();
const edge = new Edge(await useEdge());

/** An HTTP receiver on 127.0.0.1 that records deliveries; `behaviour(req, n)` picks the reply. */
function receiver() {
  const deliveries = [];
  const waiters = [];
  let behaviour = () => ({ status: 200 });
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const d = {
        at: Date.now(),
        method: req.method,
        path: req.url,
        headers: req.headers,
        raw: Buffer.concat(chunks).toString("utf8"),
      };
      try {
        d.body = JSON.parse(d.raw);
      } catch {
        d.body = undefined;
      }
      deliveries.push(d);
      const r = behaviour(d, deliveries.filter((x) => x.headers["webhook-id"] === d.headers["webhook-id"]).length);
      if (r.delayMs) await new Promise((ok) => setTimeout(ok, r.delayMs));
      res.writeHead(r.status, { "content-type": "text/plain" });
      res.end("ok");
      for (const w of [...waiters]) w();
    });
  });
  return {
    deliveries,
    setBehaviour(fn) {
      behaviour = fn;
    },
    async listen() {
      await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
      return `http://127.0.0.1:${server.address().port}`;
    },
    close() {
      server.closeAllConnections?.();
      return new Promise((ok) => server.close(ok));
    },
    /** Waits for a delivery matching `pred` (deliveries already received count). */
    async waitFor(pred, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = deliveries.find(pred);
        if (hit) return hit;
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(`no matching webhook within ${timeoutMs} ms; got ${JSON.stringify(deliveries.map((d) => d.body))}`);
        }
        await new Promise((ok) => {
          const t = setTimeout(ok, Math.min(left, 500));
          waiters.push(() => {
            clearTimeout(t);
            ok();
          });
        });
        waiters.length = 0;
      }
    },
  };
}

/**
 * Verifies `webhook-signature` (space-separated `v1,<base64>` entries) over "{id}.{timestamp}.{body}".
 * Standard Webhooks keys are `whsec_<base64>` (the HMAC key is the decoded bytes); a secret without
 * that prefix is used as raw UTF-8 bytes. Returns which interpretation matched.
 */
function verifySignature(d, secret) {
  const id = d.headers["webhook-id"];
  const ts = d.headers["webhook-timestamp"];
  const sigHeader = d.headers["webhook-signature"];
  assert.ok(id, "webhook-id header missing");
  assert.match(String(ts), /^\d+$/, "webhook-timestamp must be unix seconds");
  assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 120, `webhook-timestamp ${ts} is not now`);
  assert.ok(sigHeader, "webhook-signature header missing");
  const sigs = sigHeader.split(" ").map((s) => s.split(","));
  for (const [v] of sigs) assert.equal(v, "v1", `unexpected signature version in ${sigHeader}`);
  const signed = `${id}.${ts}.${d.raw}`;
  const keys = [];
  if (secret.startsWith("whsec_")) keys.push(["whsec-base64", Buffer.from(secret.slice(6), "base64")]);
  keys.push(["raw-utf8", Buffer.from(secret, "utf8")]);
  for (const [kind, key] of keys) {
    const expected = createHmac("sha256", key).update(signed).digest();
    for (const [, b64] of sigs) {
      const got = Buffer.from(b64 ?? "", "base64");
      if (got.length === expected.length && timingSafeEqual(got, expected)) return kind;
    }
  }
  assert.fail(`signature ${sigHeader} does not verify with the app's webhookSecret`);
}

describe("webhooks", () => {
  const rx = receiver();
  let base;
  let app;

  before(async () => {
    base = await rx.listen();
    app = await edge.createApp({ webhookUrl: `${base}/hook`, preventDuplicates: true });
    assert.equal(typeof app.webhookSecret, "string", `POST /admin/apps must return webhookSecret: ${JSON.stringify(app.created)}`);
    assert.ok(app.webhookSecret.length >= 16);
  });
  after(() => rx.close());

  function checkEvent(d, eventName, facialId, details) {
    assert.equal(d.method, "POST");
    assert.equal(d.path, "/hook");
    assert.match(d.headers["content-type"] ?? "", /application\/json/);
    assert.ok(d.body, `body is not JSON: ${d.raw}`);
    assert.equal(d.body.eventName, eventName);
    assert.equal(d.body.facialId, facialId);
    assert.equal(d.body.appId, app.publicId);
    assert.equal(d.body.clientIp, app.ip, `clientIp should be the CF-Connecting-IP: ${d.raw}`);
    assert.equal(typeof d.body.details, "object");
    assert.ok(Number.isFinite(Date.parse(d.body.details.timestamp)) || Number.isFinite(d.body.details.timestamp), `details.timestamp: ${d.raw}`);
    if (details) {
      assert.equal(d.body.details.gender, details.gender);
      assert.equal(d.body.details.age, details.age);
    }
    assert.ok(!/template|embedding|score|"pin"/i.test(d.raw), `webhook leaks biometric data: ${d.raw}`);
    return verifySignature(d, app.webhookSecret);
  }

  let enrolled;
  test("enroll delivers a signed `enroll` event", async (t) => {
    enrolled = assertOk(await app.enroll(F.obama.slice(0, 2), { details: { age: 47.4, gender: "male" }, payload: { p: 1 } }));
    const d = await rx.waitFor((x) => x.body?.eventName === "enroll" && x.body?.facialId === enrolled.facialId);
    const kind = checkEvent(d, "enroll", enrolled.facialId, { gender: "male", age: 47 });
    t.diagnostic(`signature key interpretation: ${kind}`);
  });

  test("successful authentication delivers an `auth` event; a failed one does not", async () => {
    const auth = assertOk(await app.authenticate(F.obama[3]));
    assert.equal(auth.facialId, enrolled.facialId);
    const d = await rx.waitFor((x) => x.body?.eventName === "auth" && x.body?.facialId === enrolled.facialId);
    checkEvent(d, "auth", enrolled.facialId, { gender: "male", age: 47 });
    const count = rx.deliveries.length;
    const fail = await app.authenticate(F.biden[0]);
    assert.equal(fail.body?.code, 3, show(fail));
    await new Promise((ok) => setTimeout(ok, 1500));
    assert.equal(rx.deliveries.length, count, "a failed authentication must not deliver an event");
  });

  test("deletion delivers a `deletion` event", async () => {
    const res = await app.rest("deletefacialid", { fid: enrolled.facialId });
    assertOk(res, "delete");
    const d = await rx.waitFor((x) => x.body?.eventName === "deletion" && x.body?.facialId === enrolled.facialId);
    assert.equal(d.body.appId, app.publicId);
    assert.equal(typeof d.body.details, "object");
    verifySignature(d, app.webhookSecret);
  });

  test("each delivery has its own webhook-id", () => {
    const ids = rx.deliveries.map((d) => d.headers["webhook-id"]);
    assert.ok(ids.length >= 3);
    assert.equal(new Set(ids).size, ids.length, `ids: ${ids.join(", ")}`);
  });

  test("a failing receiver is retried with the same webhook-id and a valid signature", { timeout: 60_000 }, async () => {
    rx.setBehaviour((d, n) => ({ status: n === 1 ? 500 : 200 }));
    const e = assertOk(await app.enroll([F.biden[0]], { details: { age: 66, gender: "male" } }));
    const first = await rx.waitFor((x) => x.body?.facialId === e.facialId);
    const retry = await rx.waitFor(
      (x) => x.body?.facialId === e.facialId && x !== first,
      30_000,
    );
    assert.equal(retry.headers["webhook-id"], first.headers["webhook-id"], "a retry keeps the webhook-id");
    verifySignature(retry, app.webhookSecret);
    rx.setBehaviour(() => ({ status: 200 }));
  });

  test("a slow receiver does not delay the user's response", { timeout: 60_000 }, async () => {
    rx.setBehaviour(() => ({ status: 200, delayMs: 5000 }));
    const t0 = Date.now();
    const e = assertOk(await app.enroll([F.cage[0]]));
    const ms = Date.now() - t0;
    assert.ok(ms < 3000, `enroll took ${ms} ms with a 5 s webhook receiver`);
    await rx.waitFor((x) => x.body?.facialId === e.facialId && x.body?.eventName === "enroll");
    rx.setBehaviour(() => ({ status: 200 }));
  });

  test("an app without webhookUrl sends nothing", async () => {
    const quiet = await edge.createApp({ webhookUrl: null });
    const count = rx.deliveries.length;
    assertOk(await quiet.enroll([F.audrey[0]]));
    await new Promise((ok) => setTimeout(ok, 1500));
    assert.equal(rx.deliveries.length, count);
  });
});
