// 11 TERMS_NOT_ACCEPTED: the user declines FACEIO's terms, closes the widget on the intro or the
// terms, or lets termsTimeout pass; userConsent: true skips the terms; enrollIntroTimeout moves
// on by itself. None of these may open the camera or store anything on the edge.
import assert from "node:assert/strict";
import { test } from "node:test";
import en from "../../js/locales/en.js";
import {
  FIO, cameraTracks, ceremony, codeName, createApp, describe, launch, listFacialIds, openFio,
  recordScreens, screenTimes, settled, startCall, useEdge, video, waitForScreen, widgetInfo,
} from "./harness.mjs";

/** After a rejected enroll: no widget, camera never opened, nothing enrolled, page reusable. */
async function assertCleanAfter(ctx, edge, app, what) {
  const w = await widgetInfo(ctx.page);
  assert.equal(w.present, false, `${what}: widget removed`);
  const cam = await cameraTracks(ctx.page);
  assert.equal(cam.opened, 0, `${what}: the camera was never requested (${JSON.stringify(cam)})`);
  const list = await listFacialIds(edge, app);
  assert.equal(list.total, 0, `${what}: nothing enrolled: ${JSON.stringify(list)}`);
  // No session left running: a new enroll() starts (not SESSION_IN_PROGRESS).
  const id = await startCall(ctx.page, "enroll", {});
  await waitForScreen(ctx.page, "intro", { timeoutMs: 20_000 });
  await ctx.page.locator('[data-fio="close"]').click();
  const r = await settled(ctx.page, id);
  assert.equal(r.code, FIO.TERMS_NOT_ACCEPTED, `${what}: the next enroll() runs (closed again → 11, got ${codeName(r.code)})`);
}

test("declining the terms → TERMS_NOT_ACCEPTED; no camera, nothing stored", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  const ctx = await launch(t, { videoFile: video("cap12") });
  await openFio(ctx.page, edge, app.publicId);
  const r = await ceremony(ctx, { method: "enroll", params: { payload: { n: 1 } }, acceptTerms: false });
  assert.equal(r.code, FIO.TERMS_NOT_ACCEPTED, `expected TERMS_NOT_ACCEPTED: ${describe(r)}`);
  const seen = r.screens.map((s) => s.screen).filter(Boolean);
  assert.deepEqual(seen, ["intro", "terms", "error"], `screens: ${describe(r)}`);
  await assertCleanAfter(ctx, edge, app, "declined");
});

test("closing the widget (×) on the intro or on the terms → TERMS_NOT_ACCEPTED", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  const ctx = await launch(t, { videoFile: video("cap12") });
  await openFio(ctx.page, edge, app.publicId);

  const a = await startCall(ctx.page, "enroll", {});
  await waitForScreen(ctx.page, "intro");
  await ctx.page.locator('[data-fio="close"]').click();
  const ra = await settled(ctx.page, a);
  assert.equal(ra.code, FIO.TERMS_NOT_ACCEPTED, `× on the intro: ${JSON.stringify(ra)}`);
  assert.ok(ra.ms < 3000, `closing is immediate (no error screen delay): ${Math.round(ra.ms)} ms`);
  assert.equal((await widgetInfo(ctx.page)).present, false, "widget removed");

  const b = await startCall(ctx.page, "register", {});
  await waitForScreen(ctx.page, "intro");
  await ctx.page.locator('[data-fio="intro-continue"]').click();
  await waitForScreen(ctx.page, "terms");
  await ctx.page.locator('[data-fio="close"]').click();
  const rb = await settled(ctx.page, b);
  assert.equal(rb.code, FIO.TERMS_NOT_ACCEPTED, `× on the terms: ${JSON.stringify(rb)}`);
  await assertCleanAfter(ctx, edge, app, "closed");
});

test("termsTimeout passes → TERMS_NOT_ACCEPTED; enrollIntroTimeout moves past the intro by itself", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  const ctx = await launch(t, { videoFile: video("cap12") });
  await openFio(ctx.page, edge, app.publicId);
  const introS = 1.5;
  const termsMin = 0.05; // termsTimeout is in MINUTES (FACEIO): 3 s
  await recordScreens(ctx.page);
  const id = await startCall(ctx.page, "enroll", { enrollIntroTimeout: introS, termsTimeout: termsMin });
  await waitForScreen(ctx.page, "intro");
  const w = await waitForScreen(ctx.page, "terms", { timeoutMs: 15_000 });
  assert.equal(w.title, en.termsTitle);
  // The intro's duration in the page's clock (polling from here lags on a loaded machine).
  const shown = await screenTimes(ctx.page);
  const at = (screen) => shown.find((x) => x.screen === screen)?.t;
  const introMs = Math.round(at("terms") - at("intro"));
  assert.ok(introMs >= introS * 1000 - 400, `intro shown ~${introS} s (${introMs} ms; ${JSON.stringify(shown)})`);
  assert.ok(introMs <= introS * 1000 + 3000, `intro left after ~${introS} s without a click (${introMs} ms)`);
  const r = await settled(ctx.page, id, { timeoutMs: 30_000 });
  assert.equal(r.code, FIO.TERMS_NOT_ACCEPTED, `termsTimeout: ${JSON.stringify(r)}`);
  // Rejection follows the error screen (~1.2 s) shown when the timer fires; both instants in the
  // page's clock.
  const rejectedAt = await ctx.page.evaluate((id) => window.__runs[id].t1, id);
  const onTerms = Math.round(rejectedAt - at("terms"));
  assert.ok(onTerms >= termsMin * 60_000 - 500, `not before termsTimeout (${onTerms} ms on the terms)`);
  assert.ok(onTerms <= termsMin * 60_000 + 5000, `soon after termsTimeout (${onTerms} ms on the terms)`);
  await assertCleanAfter(ctx, edge, app, "terms timed out");
});

test("userConsent: true skips the terms screen (intro → camera)", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  const ctx = await launch(t, { videoFile: video("cap12") });
  await openFio(ctx.page, edge, app.publicId);
  const seen = [];
  const id = await startCall(ctx.page, "enroll", { userConsent: true, enrollIntroTimeout: 0 });
  const t0 = Date.now();
  for (;;) {
    const w = await widgetInfo(ctx.page);
    if (w.present && seen.at(-1) !== w.screen) seen.push(w.screen);
    if (w.screen === "camera" || Date.now() - t0 > 30_000) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(seen.includes("camera"), `reached the camera: ${seen.join(" → ")}`);
  assert.ok(!seen.includes("terms") && !seen.includes("intro"), `no intro (enrollIntroTimeout 0), no terms (userConsent): ${seen.join(" → ")}`);
  assert.equal((await cameraTracks(ctx.page)).live, 1, "the camera is open");
  // Closing during the scan: FACEIO has no "closed" code; OpenFIO documents PROCESSING_ERR.
  await ctx.page.locator('[data-fio="close"]').click();
  const r = await settled(ctx.page, id);
  assert.equal(r.code, FIO.PROCESSING_ERR, `× on the camera screen: ${JSON.stringify(r)}`);
  assert.equal((await widgetInfo(ctx.page)).present, false, "widget removed");
  assert.equal((await cameraTracks(ctx.page)).live, 0, "camera released");
  assert.equal((await listFacialIds(edge, app)).total, 0, "nothing enrolled");
});
