// Strict and branded sites: the widget completes a ceremony on a page served with a strict
// Content-Security-Policy (no inline script or style, no blob: or eval) without a single
// violation, shows the app's own consent text and privacy link and the page's own wording;
// it follows the page's theme (CSS custom properties), dark mode, and fills a phone's screen.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import {
  FIO, ceremony, createApp, describe, isUuid, launch, openFio, openPage, startCall, settled, useEdge, video, waitForScreen,
} from "./harness.mjs";

// What the README documents as the policy a site needs (same-origin edge): nothing inline,
// 'wasm-unsafe-eval' for the face engine's WebAssembly, no blob: and no eval.
export const STRICT_CSP = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "media-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TERMS = "Acme keeps your face template for 12 months after your last login, then deletes it.";
const PRIVACY = "https://acme.example/privacy";

test("strict CSP: a ceremony completes with no violation; the app's terms, privacy link and the page's wording show", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, { termsText: TERMS, privacyPolicyUrl: PRIVACY, alwaysAskPin: false });
  const ctx = await launch(t, { videoFile: video("cap12"), phase: "csp" });
  const violations = [];
  ctx.page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(`console: ${m.text()}`);
  });
  await ctx.page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  // The page and its script, served on the edge's origin with the strict policy.
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Acme</title>
<script type="module" src="/acme-login.mjs?app=${app.publicId}"></script></head><body><h1>Acme</h1></body></html>`;
  const script = `
const app = new URL(import.meta.url).searchParams.get("app");
const { default: faceIO } = await import("/fiojs/fio.mjs");
window.__faceIO = faceIO;
window.__fio = new faceIO(app, { strings: { en: { introTitle: "Sign in to Acme with your face" } } });
window.__seen = {};
setInterval(() => {
  const modal = document.querySelector('[data-fio="modal"]');
  if (!modal) return;
  const terms = document.querySelector('[data-fio="terms-text"]');
  const link = document.querySelector('[data-fio="privacy-link"]');
  if (terms) window.__seen.terms = terms.textContent;
  if (link) window.__seen.privacy = link.getAttribute("href");
  if (modal.getAttribute("data-fio-screen") === "intro") window.__seen.introTitle = document.querySelector(".fio-title").textContent;
}, 50);
`;
  await ctx.page.route(`${edge.url}/acme-login.mjs*`, (r) => r.fulfill({
    status: 200, contentType: "text/javascript", headers: { "content-security-policy": STRICT_CSP }, body: script,
  }));
  await ctx.page.route(`${edge.url}/acme.html`, (r) => r.fulfill({
    status: 200, contentType: "text/html; charset=utf-8", headers: { "content-security-policy": STRICT_CSP }, body: html,
  }));
  await openPage(ctx.page, `${edge.url}/acme.html`);
  await ctx.page.waitForFunction(() => window.__fio, null, { timeout: 30_000 });

  const e = await ceremony(ctx, { method: "enroll", params: { payload: { site: "acme" } }, pins: ["4096"] });
  assert.equal(e.ok, true, `enroll under a strict CSP: ${describe(e)}`);
  assert.ok(isUuid(e.value.facialId));
  const seen = await ctx.page.evaluate(() => window.__seen);
  assert.equal(seen.terms, TERMS, "the app's own consent text");
  assert.equal(seen.privacy, PRIVACY, "the app's privacy policy link");
  assert.equal(seen.introTitle, "Sign in to Acme with your face", "the page's own wording");
  const inPage = await ctx.page.evaluate(() => window.__violations);
  assert.deepEqual([...inPage, ...violations], [], "no Content-Security-Policy violation");

  // A typo in the page's wording is loud: every ceremony rejects with PROCESSING_ERR.
  const typo = await ctx.page.evaluate(async () => {
    const f = new window.__faceIO("x", { strings: { en: { introTitel: "Hi" } } });
    return f.enroll().then(() => "resolved", (c) => c);
  });
  assert.equal(typo, FIO.PROCESSING_ERR);
});

test("theme: custom properties and dark mode apply; on a phone the widget fills the screen", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge);
  const ctx = await launch(t, { videoFile: video("cap12"), phase: "phone" });
  await ctx.page.setViewportSize({ width: 390, height: 844 });
  await ctx.page.emulateMedia({ colorScheme: "dark" });
  await openFio(ctx.page, edge, app.publicId);
  await ctx.page.evaluate(() => document.documentElement.style.setProperty("--fio-accent", "rgb(233, 30, 99)"));
  const run = await startCall(ctx.page, "enroll", {});
  await waitForScreen(ctx.page, "intro");
  const look = await ctx.page.evaluate(() => {
    const card = document.querySelector(".fio-card").getBoundingClientRect();
    const button = document.querySelector('[data-fio="intro-continue"]');
    return {
      card: [card.x, card.y, card.width, card.height].map(Math.round),
      view: [innerWidth, innerHeight],
      accent: getComputedStyle(button).backgroundColor,
      bg: getComputedStyle(document.querySelector(".fio-card")).backgroundColor,
    };
  });
  await ctx.page.screenshot({ path: join(ctx.dir, "phone-dark-intro.png") });
  assert.equal(look.accent, "rgb(233, 30, 99)", "the page's --fio-accent colours the buttons");
  assert.equal(look.bg, "rgb(27, 31, 46)", "dark mode background");
  assert.deepEqual(look.card.slice(0, 3), [0, 0, 390], `full width on a phone: ${JSON.stringify(look)}`);
  assert.ok(look.card[3] >= 844, `full height on a phone: ${JSON.stringify(look)}`);

  // Light mode on a desktop: the default card.
  await ctx.page.setViewportSize({ width: 1024, height: 768 });
  await ctx.page.emulateMedia({ colorScheme: "light" });
  const desk = await ctx.page.evaluate(() => ({
    w: Math.round(document.querySelector(".fio-card").getBoundingClientRect().width),
    bg: getComputedStyle(document.querySelector(".fio-card")).backgroundColor,
  }));
  await ctx.page.screenshot({ path: join(ctx.dir, "desktop-light-intro.png") });
  assert.deepEqual(desk, { w: 400, bg: "rgb(255, 255, 255)" });
  await ctx.page.click('[data-fio="close"]');
  const r = await settled(ctx.page, run);
  assert.equal(r.rejection?.value, FIO.TERMS_NOT_ACCEPTED, JSON.stringify(r));
});
