// 10, 15–18: the edge refuses to serve the widget for this app, page or client. Each rejection
// comes from the real edge (first widget request, POST /v1/{id}/session) and reaches the host
// as the bare FACEIO code; the widget shows the matching error text, then removes itself. After
// the operator fixes the app (PATCH /admin/apps), the same page is served again (the intro
// screen appears), which also proves the rejection left no session behind.
import assert from "node:assert/strict";
import { test } from "node:test";
import en from "../../js/locales/en.js";
import {
  FIO, awayFromMinuteBoundary, codeName, createApp, getApp, launch, liveTracks, openFio, patchApp,
  rewriteWidgetHeaders, settled, startCall, useApp, useEdge, video, waitForScreen, widgetInfo,
} from "./harness.mjs";

/**
 * Starts enroll() (or `method`) and waits until it settles; asserts the rejection `code`, that the
 * widget showed FACEIO's error text for it, and that nothing is left behind (no modal, no camera).
 */
async function expectRejected(ctx, code, what, { method = "enroll", params = {} } = {}) {
  const { page, log } = ctx;
  // The edge's answers during this call, so a wrong code says what the edge actually sent.
  const answers = [];
  const onResponse = async (res) => {
    if (!new URL(res.url()).pathname.startsWith("/v1/")) return;
    const entry = { url: res.url(), status: res.status(), body: null };
    answers.push(entry);
    entry.body = await res.text().catch((e) => `(unreadable: ${e.message})`);
  };
  page.on("response", onResponse);
  const id = await startCall(page, method, params);
  let sawError = null;
  const t0 = Date.now();
  let st;
  for (;;) {
    const w = await widgetInfo(page);
    if (w.present && w.screen === "error") sawError = w;
    st = await page.evaluate((i) => window.__runs[i].done, id);
    if (st || Date.now() - t0 > 30_000) break;
    await new Promise((r) => setTimeout(r, 60));
  }
  const r = await settled(page, id, { timeoutMs: 1000 });
  page.off("response", onResponse);
  const lastError = await page.evaluate(() => window.__openfioDebug?.lastError ?? null);
  log(`${what}: ${JSON.stringify(r)}; error screen ${JSON.stringify(sawError)}; edge answers ${JSON.stringify(answers)}; widget error ${JSON.stringify(lastError)}`);
  assert.equal(r.ok, false, `${what}: must reject, resolved ${JSON.stringify(r.value)}`);
  assert.equal(r.code, code, `${what}: expected ${codeName(code)} (${code}), got ${JSON.stringify(r.rejection)} (${codeName(r.code)}); edge answers ${JSON.stringify(answers)}; widget error ${JSON.stringify(lastError)}`);
  assert.equal(r.rejection.type, "number", `${what}: rejects with a bare number, like fio.js`);
  assert.ok(sawError, `${what}: the widget showed its error screen`);
  assert.equal(sawError.errorMessage, en.errors[codeName(code)], `${what}: error text`);
  const after = await widgetInfo(page);
  assert.equal(after.present, false, `${what}: the widget is removed after the rejection`);
  assert.equal(await liveTracks(page), 0, `${what}: no camera left open`);
  return r;
}

/** enroll() now gets past the edge's admission: the intro screen shows; closing it → 11. */
async function expectServed(ctx, what) {
  const { page } = ctx;
  const id = await startCall(page, "enroll", {});
  const w = await waitForScreen(page, "intro", { timeoutMs: 30_000 }).catch((e) => {
    throw new Error(`${what}: ${e.message}`);
  });
  assert.equal(w.count, 1, `${what}: one widget`);
  await page.locator('[data-fio="close"]').click();
  const r = await settled(page, id);
  assert.equal(r.code, FIO.TERMS_NOT_ACCEPTED, `${what}: closing the intro → TERMS_NOT_ACCEPTED, got ${codeName(r.code)}`);
  assert.equal((await widgetInfo(page)).present, false, `${what}: widget removed`);
}

test("unknown, paused or blocked application → UNAUTHORIZED; reactivated → served", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  const ctx = await launch(t, { videoFile: video("cap13") });
  // A well-formed public ID that was never created.
  await openFio(ctx.page, edge, `${app.publicId.slice(0, -4)}zzzz`);
  await expectRejected(ctx, FIO.UNAUTHORIZED, "unknown public ID (enroll)");
  await expectRejected(ctx, FIO.UNAUTHORIZED, "unknown public ID (authenticate)", { method: "authenticate" });
  // A malformed one (the edge refuses it before any lookup).
  await useApp(ctx.page, edge, "no such app!");
  await expectRejected(ctx, FIO.UNAUTHORIZED, "malformed public ID");

  await useApp(ctx.page, edge, app.publicId);
  await patchApp(edge, app.publicId, { status: "paused" });
  assert.equal((await getApp(edge, app.publicId)).body.status, "paused");
  await expectRejected(ctx, FIO.UNAUTHORIZED, "paused app", { method: "authenticate" });
  await patchApp(edge, app.publicId, { status: "blocked" });
  await expectRejected(ctx, FIO.UNAUTHORIZED, "blocked app");
  await patchApp(edge, app.publicId, { status: "active" });
  await expectServed(ctx, "reactivated app");
});

test("allowedOrigins not matching the page → FORBIDDDEN_ORIGIN; the page's origin added → served", async (t) => {
  const edge = await useEdge();
  // The page is http://127.0.0.1:<port>/ (the edge serves the demo site).
  const app = await createApp(edge, { allowedOrigins: ["example.com", "*.127.0.0.1"] });
  const ctx = await launch(t, { videoFile: video("cap13") });
  await openFio(ctx.page, edge, app.publicId);
  await expectRejected(ctx, FIO.FORBIDDDEN_ORIGIN, "page origin not allowed");
  await expectRejected(ctx, FIO.FORBIDDDEN_ORIGIN, "page origin not allowed (authenticate)", { method: "authenticate" });
  // Origins are compared whole (scheme, host, port): the page's own origin is what is allowed.
  await patchApp(edge, app.publicId, { options: { allowedOrigins: ["example.com", new URL(edge.url).origin] } });
  await expectServed(ctx, "page host allowed");
});

test("rejectEmptyOrigin: Origin and Referer stripped → EMPTY_ORIGIN; with them → served", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, { rejectEmptyOrigin: true });
  const ctx = await launch(t, { videoFile: video("cap13") });
  await openFio(ctx.page, edge, app.publicId);
  // A browser always sends Origin on a POST; a privacy proxy or extension may strip both
  // headers. Playwright removes them on the way to the edge.
  let strip = true;
  const route = await rewriteWidgetHeaders(ctx.page, edge.url, (h) => {
    if (strip) {
      delete h.origin;
      delete h.referer;
    }
    return h;
  });
  await expectRejected(ctx, FIO.EMPTY_ORIGIN, "no Origin, no Referer");
  const sent = route.seen.filter((s) => s.method === "POST");
  assert.ok(sent.length >= 1 && sent.every((s) => !("origin" in s.headers) && !("referer" in s.headers)), `headers stripped: ${JSON.stringify(sent)}`);
  strip = false;
  await expectServed(ctx, "Origin sent");
  const last = route.seen.filter((s) => s.method === "POST").at(-1);
  assert.ok(last.headers.origin, `the served request carried Origin: ${JSON.stringify(last)}`);
});

test("allowedCountries: CF-IPCountry of another country or none → FORBIDDDEN_COUNTRY; allowed → served", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, { allowedCountries: ["FR", "BE"] });
  const ctx = await launch(t, { videoFile: video("cap13") });
  await openFio(ctx.page, edge, app.publicId);
  // No Cloudflare in front of wrangler dev: without the header the edge sees no country, which
  // an allow-list refuses.
  await expectRejected(ctx, FIO.FORBIDDDEN_COUNTRY, "no CF-IPCountry");
  // Cloudflare's header, injected on the browser's requests towards the edge.
  let country = "DE";
  const route = await rewriteWidgetHeaders(ctx.page, edge.url, (h) => ({ ...h, "cf-ipcountry": country }));
  await expectRejected(ctx, FIO.FORBIDDDEN_COUNTRY, "CF-IPCountry DE", { method: "authenticate" });
  assert.ok(route.seen.some((s) => s.headers["cf-ipcountry"] === "DE"));
  country = "be";
  await expectServed(ctx, "CF-IPCountry be (allowed, case-insensitive)");
});

test("quotaPerMinute spent → TOO_MANY_REQUESTS for the app; another app is still served", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, { quotaPerMinute: 2, ipQuotaPerMinute: 1000 });
  const other = await createApp(edge, {});
  const ctx = await launch(t, { videoFile: video("cap13") });
  await openFio(ctx.page, edge, app.publicId);
  await awayFromMinuteBoundary(); // the edge counts per calendar minute
  await expectServed(ctx, "request 1 of 2");
  await expectServed(ctx, "request 2 of 2");
  await expectRejected(ctx, FIO.TOO_MANY_REQUESTS, "request 3 (quota 2/min)");
  await expectRejected(ctx, FIO.TOO_MANY_REQUESTS, "request 4 (quota 2/min)", { method: "authenticate" });
  await useApp(ctx.page, edge, other.publicId);
  await expectServed(ctx, "another app");
});

test("ipQuotaPerMinute spent → TOO_MANY_REQUESTS for that client IP only", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, { quotaPerMinute: 1000, ipQuotaPerMinute: 1 });
  const ctx = await launch(t, { videoFile: video("cap13") });
  await openFio(ctx.page, edge, app.publicId);
  let ip = "203.0.113.7";
  await rewriteWidgetHeaders(ctx.page, edge.url, (h) => ({ ...h, "cf-connecting-ip": ip }));
  await awayFromMinuteBoundary();
  await expectServed(ctx, `client ${ip}, request 1 of 1`);
  await expectRejected(ctx, FIO.TOO_MANY_REQUESTS, `client ${ip}, request 2`);
  ip = "203.0.113.8";
  await expectServed(ctx, `client ${ip}`);
});
