// App policy: minors, liveness (PAD), app status, origin and country rules, quotas, CORS.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { useEdge } from "./harness.mjs";
import { faces } from "./templates.mjs";
import { Edge, LIVE, SPOOF, assertError, assertOk, liveFor, randomIp, request, show, sleep } from "./client.mjs";

const F = faces();
const edge = new Edge(await useEdge());

/** Waits until at least `margin` seconds remain in the current wall-clock minute (fixed-window quotas). */
async function awayFromMinuteBoundary(margin = 15) {
  const s = (Date.now() / 1000) % 60;
  if (s > 60 - margin) await sleep((60 - s + 0.5) * 1000);
}

describe("policy", () => {
  test("minAge: MINORS_NOT_ALLOWED below it, enrollment at or above it", async () => {
    const app = await edge.createApp({ minAge: 18, preventDuplicates: false });
    assert.equal(assertOk(await app.session("enroll")).policy.minAge, 18);
    assertError(await app.enroll([F.obama[0]], { details: { age: 12, gender: "male" } }), "MINORS_NOT_ALLOWED");
    assertError(await app.enroll([F.obama[0]], { details: { age: 17.2, gender: "male" } }), "MINORS_NOT_ALLOWED");
    assert.equal((await app.listAll()).length, 0);
    assertOk(await app.enroll([F.obama[0]], { details: { age: 18, gender: "male" } }), "age 18");
    assertOk(await app.enroll([F.biden[0]], { details: { age: 66, gender: "male" } }), "age 66");
  });

  test("the app's consent text and privacy link reach the widget; bad values are 400", async () => {
    const termsText = "We keep your face template for 12 months.\nAsk us to delete it any time.";
    const app = await edge.createApp({ termsText, privacyPolicyUrl: "https://example.com/privacy" });
    const policy = assertOk(await app.session("enroll")).policy;
    assert.equal(policy.termsText, termsText);
    assert.equal(policy.privacyPolicyUrl, "https://example.com/privacy");
    const plain = assertOk(await (await edge.createApp({})).session("enroll")).policy;
    assert.equal("termsText" in plain, false, "no app text: the widget's default terms");
    for (const options of [
      { termsText: "" }, { termsText: "   " }, { termsText: "x".repeat(4001) }, { termsText: "bell\u0007" }, { termsText: 5 },
      { privacyPolicyUrl: "http://example.com/privacy" }, { privacyPolicyUrl: "javascript:alert(1)" },
      { privacyPolicyUrl: "not a url" }, { privacyPolicyUrl: `https://example.com/${"p".repeat(2100)}` },
    ]) {
      const res = await edge.patchApp(app.publicId, { options });
      assert.equal(res.status, 400, `${JSON.stringify(options).slice(0, 80)}: ${show(res)}`);
    }
    assertOk(await edge.patchApp(app.publicId, { options: { termsText: null, privacyPolicyUrl: null } }));
    assert.equal("termsText" in assertOk(await app.session("enroll")).policy, false);
  });

  test("minAge null allows minors", async () => {
    const app = await edge.createApp({ minAge: null });
    assertOk(await app.enroll([F.obama[0]], { details: { age: 9, gender: "male" } }), "minor allowed");
  });

  test("liveness required: failed evidence → PAD_ATTACK at enroll and authenticate", async () => {
    const app = await edge.createApp({ livenessMode: "passive" });
    assertError(await app.enroll(F.obama.slice(0, 2), { liveness: SPOOF }), "PAD_ATTACK");
    assertError(await app.enroll(F.obama.slice(0, 2), { liveness: { score: 0.1, passed: true, actions: [] } }), "PAD_ATTACK");
    assertError(await app.enroll(F.obama.slice(0, 2), { liveness: { score: 0.95, passed: false, actions: [] } }), "PAD_ATTACK");
    assert.equal((await app.listAll()).length, 0);
    const enrolled = assertOk(await app.enroll(F.obama.slice(0, 2)), "live enrollment");
    const spoofed = await app.authenticate(F.obama[3], { liveness: SPOOF });
    assertError(spoofed, "PAD_ATTACK");
    assert.ok(!spoofed.text.includes(enrolled.facialId), "PAD answer leaks the facial ID");
    assertOk(await app.authenticate(F.obama[3]), "live authentication");
  });

  test("livenessMode off: failed evidence is ignored", async () => {
    const app = await edge.createApp({ livenessMode: "off" });
    assert.equal(assertOk(await app.session("enroll")).policy.livenessMode, "off");
    const e = assertOk(await app.enroll(F.obama.slice(0, 2), { liveness: SPOOF }), "enroll without liveness");
    assert.equal(assertOk(await app.authenticate(F.obama[3], { liveness: SPOOF })).facialId, e.facialId);
  });

  test("livenessMode active: the challenge's actions must be performed", async () => {
    const app = await edge.createApp({ livenessMode: "active" });
    const s = assertOk(await app.session("enroll"));
    assert.equal(s.policy.livenessMode, "active");
    assert.ok(Array.isArray(s.policy.actions) && s.policy.actions.length > 0, `no actions: ${JSON.stringify(s.policy)}`);
    assertError(
      await app.enroll(F.obama.slice(0, 2), { challengeId: s.challengeId, liveness: { score: 0.97, passed: true, actions: [] } }),
      "PAD_ATTACK",
    );
    const s2 = assertOk(await app.session("enroll"));
    const res = await app.enroll(F.obama.slice(0, 2), {
      challengeId: s2.challengeId,
      liveness: liveFor(s2.policy.actions),
    });
    assertOk(res, "enroll with the prompted actions");
    const a = assertOk(await app.session("authenticate"));
    assert.ok(a.policy.actions.length > 0);
    assertOk(await app.authenticate(F.obama[3], { challengeId: a.challengeId, liveness: liveFor(a.policy.actions) }));
  });

  test("new apps default to active liveness with prompts", async () => {
    const res = await edge.admin("POST", "/admin/apps", { name: "defaults", options: {} });
    const body = assertOk(res, "create without options");
    assert.equal(body.options.livenessMode, "active");
  });

  test("the edge re-decides on the widget's liveness report", async () => {
    const passive = await edge.createApp({ livenessMode: "passive" });
    const noBlink = { ...LIVE, report: { ...LIVE.report, blinks: 0 } };
    assertError(await passive.enroll(F.obama.slice(0, 2), { liveness: noBlink }), "PAD_ATTACK");
    const { report: _omit, ...noReport } = LIVE;
    assertError(await passive.enroll(F.obama.slice(0, 2), { liveness: noReport }), "PAD_ATTACK");
    const lowPassive = { ...LIVE, report: { ...LIVE.report, passive: 0.2 } };
    assertError(await passive.enroll(F.obama.slice(0, 2), { liveness: lowPassive }), "PAD_ATTACK");
    const swapped = { ...LIVE, report: { ...LIVE.report, minSimilarity: 0.1 } };
    assertError(await passive.enroll(F.obama.slice(0, 2), { liveness: swapped }), "PAD_ATTACK");
    const few = { ...LIVE, report: { ...LIVE.report, frames: 2 } };
    assertError(await passive.enroll(F.obama.slice(0, 2), { liveness: few }), "PAD_ATTACK");
    // A screen's moiré on the face (median pattern above Thresholds::pattern_max, 1.7).
    const moire = { ...LIVE, report: { ...LIVE.report, pattern: 2.3 } };
    assertError(await passive.enroll(F.obama.slice(0, 2), { liveness: moire }), "PAD_ATTACK");
    assert.equal((await passive.listAll()).length, 0);
    const skin = { ...LIVE, report: { ...LIVE.report, pattern: 1.2 } };
    assertOk(await passive.enroll(F.obama.slice(0, 2), { liveness: skin }));
    assert.equal((await passive.listAll()).length, 1);

    const active = await edge.createApp({ livenessMode: "active" });
    const s = assertOk(await active.session("enroll"));
    const wrong = liveFor(s.policy.actions);
    wrong.report.failure = { kind: "wrongAction", expected: s.policy.actions[0], seen: "lookUp" };
    assertError(await active.enroll(F.obama.slice(0, 2), { challengeId: s.challengeId, liveness: wrong }), "PAD_ATTACK");
    const s2 = assertOk(await active.session("enroll"));
    const reordered = liveFor(s2.policy.actions);
    reordered.report.actions = [...s2.policy.actions].reverse();
    assertError(await active.enroll(F.obama.slice(0, 2), { challengeId: s2.challengeId, liveness: reordered }), "PAD_ATTACK");
    assert.equal((await active.listAll()).length, 0);
    const s3 = assertOk(await active.session("enroll"));
    assertOk(await active.enroll(F.obama.slice(0, 2), { challengeId: s3.challengeId, liveness: liveFor(s3.policy.actions) }), "active enroll");
  });

  test("UNAUTHORIZED for an unknown app", async () => {
    const ghost = await edge.createApp();
    ghost.publicId = `${ghost.publicId}x`;
    assertError(await ghost.session("enroll"), "UNAUTHORIZED");
    ghost.publicId = "does-not-exist";
    assertError(await ghost.session("authenticate"), "UNAUTHORIZED");
    assertError(await ghost.widget("authenticate", { challengeId: "0".repeat(32), template: F.obama[0].template, liveness: LIVE }), "UNAUTHORIZED");
  });

  test("paused and blocked apps are UNAUTHORIZED until reactivated", async () => {
    const app = await edge.createApp();
    const e = assertOk(await app.enroll(F.obama.slice(0, 2)), "enroll");
    const pending = await app.challenge("authenticate");
    for (const status of ["paused", "blocked"]) {
      assertOk(await edge.patchApp(app.publicId, { status }), `PATCH ${status}`);
      assert.equal(assertOk(await edge.getApp(app.publicId)).status, status);
      assertError(await app.session("authenticate"), "UNAUTHORIZED");
      assertError(await app.session("enroll"), "UNAUTHORIZED");
      // A challenge issued while active does not work once the app is paused.
      assertError(await app.authenticate(F.obama[3], { challengeId: pending.challengeId }), "UNAUTHORIZED");
    }
    assertOk(await edge.patchApp(app.publicId, { status: "active" }), "PATCH active");
    assert.equal(assertOk(await app.authenticate(F.obama[3])).facialId, e.facialId);
  });

  test("PATCH options take effect on the next session", async () => {
    const app = await edge.createApp({ minAge: null });
    assertOk(await edge.patchApp(app.publicId, { options: { minAge: 21 } }), "PATCH minAge");
    assert.equal(assertOk(await edge.getApp(app.publicId)).options.minAge, 21);
    assertError(await app.enroll([F.obama[0]], { details: { age: 19, gender: "male" } }), "MINORS_NOT_ALLOWED");
  });

  test("rejectEmptyOrigin: no Origin and no Referer → EMPTY_ORIGIN; a Referer suffices", async () => {
    const app = await edge.createApp({ rejectEmptyOrigin: true });
    app.origin = null;
    assertError(await app.session("enroll"), "EMPTY_ORIGIN");
    assertOk(await app.session("enroll", { headers: { referer: "https://app.example.test/signup" } }), "referer only");
    app.origin = "https://app.example.test";
    assertOk(await app.session("enroll"), "origin");
  });

  test("without rejectEmptyOrigin a server-side caller without Origin is served", async () => {
    const app = await edge.createApp({ rejectEmptyOrigin: false });
    app.origin = null;
    assertOk(await app.session("enroll"), "no origin");
  });

  test("allowedOrigins: other origins → FORBIDDDEN_ORIGIN; the allowed one is echoed in CORS", async () => {
    const good = "https://good.example.test";
    const app = await edge.createApp({ allowedOrigins: [good] });
    app.origin = "https://evil.example.test";
    assertError(await app.session("enroll"), "FORBIDDDEN_ORIGIN");
    app.origin = "https://good.example.test.evil.example";
    assertError(await app.session("enroll"), "FORBIDDDEN_ORIGIN");
    app.origin = "https://sub.good.example.test";
    assertError(await app.session("enroll"), "FORBIDDDEN_ORIGIN");
    app.origin = "null";
    assertError(await app.session("enroll"), "FORBIDDDEN_ORIGIN");
    app.origin = null;
    assertError(await app.session("enroll", { headers: { referer: "https://evil.example.test/x" } }), "FORBIDDDEN_ORIGIN");
    // The whole origin counts: another scheme or port is another site.
    for (const other of ["http://good.example.test", "https://good.example.test:8443", "http://good.example.test:443"]) {
      app.origin = other;
      assertError(await app.session("enroll"), "FORBIDDDEN_ORIGIN");
    }
    app.origin = null;
    assertError(await app.session("enroll", { headers: { referer: "http://good.example.test/login" } }), "FORBIDDDEN_ORIGIN");
    app.origin = good;
    const res = await app.session("enroll");
    assertOk(res, "allowed origin");
    assert.equal(res.headers.get("access-control-allow-origin"), good);
    // Enrollment itself is gated the same way.
    const { challengeId } = await app.challenge("enroll");
    app.origin = "https://evil.example.test";
    assertError(await app.enroll([F.obama[0]], { challengeId }), "FORBIDDDEN_ORIGIN");
  });

  test("an app created without allowedOrigins says so loudly; one with them does not", async () => {
    const open = await edge.admin("POST", "/admin/apps", { name: "open", options: {} });
    const body = assertOk(open, "create without allowedOrigins");
    assert.ok(Array.isArray(body.warnings) && body.warnings.length > 0, `no warnings: ${show(open)}`);
    assert.ok(body.warnings.some((w) => /allowedOrigins/.test(w) && /any website/i.test(w)), show(open));
    const closed = assertOk(await edge.admin("POST", "/admin/apps", { name: "closed", options: { allowedOrigins: ["https://a.example.test"] } }));
    assert.deepEqual(closed.warnings, [], JSON.stringify(closed));
    assert.deepEqual(closed.options.allowedOrigins, ["https://a.example.test"]);
  });

  test("CORS preflight is answered for widget routes", async () => {
    const app = await edge.createApp();
    for (const route of ["session", "enroll", "authenticate"]) {
      const res = await request(`${edge.url}/v1/${app.publicId}/${route}`, {
        method: "OPTIONS",
        headers: {
          origin: "https://app.example.test",
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
      assert.ok(res.status >= 200 && res.status < 300, show(res));
      assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example.test", route);
      assert.match(res.headers.get("access-control-allow-methods") ?? "", /POST/i, route);
      assert.match(res.headers.get("access-control-allow-headers") ?? "", /content-type|\*/i, route);
    }
  });

  test("allowedCountries via CF-IPCountry: others → FORBIDDDEN_COUNTRY", async () => {
    const app = await edge.createApp({ allowedCountries: ["FR", "BE"] });
    // wrangler dev passes a client-supplied CF-IPCountry header through to the worker unchanged
    // (checked with an echo worker), while request.cf.country is a fixed placeholder ("US").
    assertError(await app.session("enroll", { headers: { "cf-ipcountry": "DE" } }), "FORBIDDDEN_COUNTRY");
    assertError(await app.session("enroll", { headers: { "cf-ipcountry": "US" } }), "FORBIDDDEN_COUNTRY");
    assertOk(await app.session("enroll", { headers: { "cf-ipcountry": "FR" } }), "FR allowed");
    assertOk(await app.session("enroll", { headers: { "cf-ipcountry": "BE" } }), "BE allowed");
    const open = await edge.createApp({ allowedCountries: [] });
    assertOk(await open.session("enroll", { headers: { "cf-ipcountry": "DE" } }), "empty list allows all");
  });

  test("ipQuotaPerMinute: TOO_MANY_REQUESTS for one IP, others still served", async () => {
    const app = await edge.createApp({ ipQuotaPerMinute: 3, quotaPerMinute: 1000 });
    await awayFromMinuteBoundary();
    for (let i = 0; i < 3; i++) assertOk(await app.session("enroll"), `request ${i + 1} of 3`);
    const over = await app.session("enroll");
    assertError(over, "TOO_MANY_REQUESTS");
    assertError(await app.session("authenticate"), "TOO_MANY_REQUESTS");
    // Another client IP has its own budget.
    app.ip = randomIp();
    assertOk(await app.session("enroll"), "another IP");
  });

  test("quotaPerMinute: TOO_MANY_REQUESTS for the app whatever the IP; other apps unaffected", async () => {
    const app = await edge.createApp({ quotaPerMinute: 5, ipQuotaPerMinute: 1000 });
    await awayFromMinuteBoundary();
    for (let i = 0; i < 5; i++) {
      app.ip = randomIp();
      assertOk(await app.session("enroll"), `request ${i + 1} of 5`);
    }
    app.ip = randomIp();
    assertError(await app.session("enroll"), "TOO_MANY_REQUESTS");
    const other = await edge.createApp({ quotaPerMinute: 5 });
    assertOk(await other.session("enroll"), "another app");
  });
});
