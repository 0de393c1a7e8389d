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
      res.writeHead(r.status, { "content-type": "text/plain", ...(r.headers ?? {}) });
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
    const res = await app.enroll(F.obama.slice(0, 2), { details: { age: 47.4, gender: "male" }, payload: { p: 1 } });
    enrolled = assertOk(res);
    const d = await rx.waitFor((x) => x.body?.eventName === "enroll" && x.body?.facialId === enrolled.facialId);
    const kind = checkEvent(d, "enroll", enrolled.facialId, { gender: "male", age: 47 });
    // The event names the ceremony its login token names (`jti`), so the two can be matched.
    assert.equal(d.body.jti, res.challengeId, d.raw);
    const claims = JSON.parse(Buffer.from(enrolled.token.split(".")[1], "base64url"));
    assert.equal(d.body.jti, claims.jti);
    t.diagnostic(`signature key interpretation: ${kind}`);
  });

  test("successful authentication delivers an `auth` event; a failed one does not", async () => {
    const authRes = await app.authenticate(F.obama[3]);
    const auth = assertOk(authRes);
    assert.equal(auth.facialId, enrolled.facialId);
    const d = await rx.waitFor((x) => x.body?.eventName === "auth" && x.body?.facialId === enrolled.facialId);
    checkEvent(d, "auth", enrolled.facialId, { gender: "male", age: 47 });
    assert.equal(d.body.jti, authRes.challengeId, d.raw);
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

  test("wrong PINs that lock a facial ID deliver a `pinLockout` event", async () => {
    const locked = await edge.createApp({ webhookUrl: `${base}/hook`, alwaysAskPin: true });
    const pin = "2749";
    const e = assertOk(await locked.enroll([F.cage[0]], { pin, details: { age: 50, gender: "male" } }));
    let res = await locked.authenticate(F.cage[1]);
    for (const wrong of ["9051", "9052", "9053"]) {
      assert.equal(res.body?.pinRequired, true, show(res));
      res = await locked.authenticate(F.cage[1], { challengeId: res.body.challengeId, pin: wrong });
    }
    assert.equal(res.body?.error, "WRONG_PIN_CODE", show(res));
    const d = await rx.waitFor((x) => x.body?.eventName === "pinLockout" && x.body?.facialId === e.facialId);
    assert.equal(d.body.appId, locked.publicId);
    assert.equal(d.body.clientIp, locked.ip);
    verifySignature(d, locked.webhookSecret);
  });

  test("webhook URLs must be https to a public host; private, loopback and link-local are refused", async () => {
    const bad = [
      "http://hooks.example.com/x",
      "https://10.1.2.3/x",
      "https://192.168.0.10/x",
      "https://172.16.5.4/x",
      "https://169.254.169.254/latest/meta-data",
      "https://[fe80::1]/x",
      "https://[fd12::1]/x",
      "https://[::ffff:10.0.0.1]/x",
      "http://10.0.0.1/x",
      "ftp://hooks.example.com/x",
    ];
    for (const url of bad) {
      const res = await edge.admin("POST", "/admin/apps", { name: "hook", options: { webhookUrl: url } });
      assert.equal(res.status, 400, `create accepted ${url}: ${show(res)}`);
      const patch = await edge.patchApp(app.publicId, { options: { webhookUrl: url } });
      assert.equal(patch.status, 400, `patch accepted ${url}: ${show(patch)}`);
    }
    // A public https URL is accepted; the local receiver stays configured (dev opt-in).
    const ok = await edge.admin("POST", "/admin/apps", { name: "hook", options: { webhookUrl: "https://hooks.example.com/openfio" } });
    assertOk(ok, "public https webhook");
    assert.equal(assertOk(await edge.getApp(app.publicId)).options.webhookUrl, `${base}/hook`);
  });

  test("a redirecting receiver is not followed", { timeout: 60_000 }, async () => {
    rx.setBehaviour((d) => (d.path === "/hook" ? { status: 307, headers: { location: `${base}/elsewhere` } } : { status: 200 }));
    try {
      const e = assertOk(await app.enroll([F.franck[0]]));
      const first = await rx.waitFor((x) => x.body?.facialId === e.facialId);
      assert.equal(first.path, "/hook");
      // A redirect is a failed attempt: retried at the configured URL, never sent elsewhere.
      const retry = await rx.waitFor((x) => x.body?.facialId === e.facialId && x !== first, 30_000);
      assert.equal(retry.path, "/hook");
      assert.ok(!rx.deliveries.some((x) => x.path === "/elsewhere"), "the redirect was followed");
    } finally {
      rx.setBehaviour(() => ({ status: 200 }));
    }
  });

  test("faceioWebhookToken: a FACEIO receiver checking WWW-Authenticate accepts the events, signatures stay", async () => {
    // Off by default: no WWW-Authenticate on this spec's other deliveries.
    assert.ok(rx.deliveries.length > 0);
    for (const d of rx.deliveries) assert.equal(d.headers["www-authenticate"], undefined, d.raw);
    const fio = await edge.createApp({ webhookUrl: `${base}/faceio`, faceioWebhookToken: true });
    const token = fio.created.webhookToken;
    assert.match(token ?? "", /^[0-9a-f]{64}$/, `creation must show webhookToken: ${JSON.stringify(fio.created)}`);
    assert.ok(!token.includes(fio.webhookSecret) && !fio.webhookSecret.includes(token));
    // A receiver written for FACEIO: compare the header with the token from the console, nothing else.
    const faceioReceiverAccepts = (d) => d.headers["www-authenticate"] === token;
    const res = await fio.enroll([F.franck[0]]);
    const enrolledHere = assertOk(res);
    const d = await rx.waitFor((x) => x.path === "/faceio" && x.body?.facialId === enrolledHere.facialId);
    assert.ok(faceioReceiverAccepts(d), `WWW-Authenticate: ${d.headers["www-authenticate"]}`);
    verifySignature(d, fio.webhookSecret);

    // Turning it on later shows the token once, in the PATCH answer; turning it off stops it.
    const later = await edge.createApp({ webhookUrl: `${base}/later` });
    const patched = assertOk(await edge.patchApp(later.publicId, { options: { faceioWebhookToken: true } }));
    assert.equal(patched.options.faceioWebhookToken, true);
    assert.equal(patched.webhookToken, later.created.webhookToken, "the token was fixed at creation");
    assert.equal(assertOk(await edge.getApp(later.publicId)).webhookToken, undefined, "GET never shows it");
    const again = assertOk(await edge.patchApp(later.publicId, { options: { faceioWebhookToken: true } }));
    assert.equal(again.webhookToken, undefined, "shown only when switched on");
    const a = assertOk(await later.enroll([F.audrey[0]]));
    const dl = await rx.waitFor((x) => x.path === "/later" && x.body?.facialId === a.facialId);
    assert.equal(dl.headers["www-authenticate"], later.created.webhookToken);
    assertOk(await edge.patchApp(later.publicId, { options: { faceioWebhookToken: false } }));
    assertOk(await later.rest("deletefacialid", { fid: a.facialId }), "delete");
    const dd = await rx.waitFor((x) => x.path === "/later" && x.body?.eventName === "deletion");
    assert.equal(dd.headers["www-authenticate"], undefined, "off again: no token");
    verifySignature(dd, later.webhookSecret);
    // Not a boolean → 400.
    const bad = await edge.patchApp(later.publicId, { options: { faceioWebhookToken: "yes" } });
    assert.equal(bad.status, 400, show(bad));
  });

  test("an app without webhookUrl sends nothing", async () => {
    const quiet = await edge.createApp({ webhookUrl: null });
    const count = rx.deliveries.length;
    assertOk(await quiet.enroll([F.audrey[0]]));
    await new Promise((ok) => setTimeout(ok, 1500));
    assert.equal(rx.deliveries.length, count);
  });
});
