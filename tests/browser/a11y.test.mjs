// Keyboard and screen-reader use of the real widget: a labelled modal dialog, focus moved into it
// and trapped there, every control operable with Tab / Shift+Tab / Enter / Space, Escape closing
// it with the documented code (TERMS_NOT_ACCEPTED on intro/terms, PROCESSING_ERR once scanning),
// a keyboard-only PIN pad, guidance in a polite live region, errors in alerts, focus given back to
// the page afterwards, and an RTL locale. Accessible names and roles come from Chromium's
// accessibility tree (Playwright's aria snapshot and getByRole), not from attributes alone.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import ar from "../../js/locales/ar.js";
import en from "../../js/locales/en.js";
import { strings } from "../../js/locales/index.js";
import {
  FIO, cameraTracks, codeName, createApp, launch, listFacialIds, openFio, settled, startCall,
  useEdge, video, waitForScreen, widgetInfo,
} from "./harness.mjs";

const DIALOG = '[data-fio="modal"]';

/** Aria snapshot of the dialog (saved next to the screenshots) and its accessible name. */
async function snapshot(ctx, name) {
  const snap = await ctx.page.locator(DIALOG).ariaSnapshot();
  writeFileSync(join(ctx.dir, `aria-${name}.yml`), `${snap}\n`);
  return snap;
}

/** Presses `key` `n` times; returns the data-fio of the focused element after each press. */
async function pressAndTrack(page, key, n) {
  const seq = [];
  for (let i = 0; i < n; i++) {
    await page.keyboard.press(key);
    seq.push((await widgetInfo(page)).focus);
  }
  return seq;
}

/** Tabs (at most 8 times) until the focused control is `target`. */
async function tabTo(page, target) {
  for (let i = 0; i < 8; i++) {
    if ((await widgetInfo(page)).focus === target) return;
    await page.keyboard.press("Tab");
  }
  assert.fail(`Tab never reached ${target} (at ${(await widgetInfo(page)).focus})`);
}

/** Records every text of the guidance live region (MutationObserver, set up before mounting). */
async function recordGuidance(page) {
  await page.evaluate(() => {
    window.__guidance = [];
    new MutationObserver(() => {
      const g = document.querySelector('[data-fio="guidance"]');
      const t = g && g.textContent.trim();
      if (t && window.__guidance.at(-1) !== t) window.__guidance.push(t);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

test("keyboard only: dialog semantics, focus trap, Enter/Space, PIN pad, live guidance, focus restored", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  const ctx = await launch(t, { videoFile: video("cap12") });
  const { page, log } = ctx;
  await openFio(page, edge, app.publicId);
  await recordGuidance(page);
  // The host's button that started the ceremony has focus, as after a real click.
  await page.focus("#enroll");
  const id = await startCall(page, "enroll", { payload: { kb: true } });

  // Intro: a modal dialog named by its title, focus on the primary action.
  let w = await waitForScreen(page, "intro");
  assert.equal(w.role, "dialog");
  assert.equal(w.ariaModal, "true");
  assert.equal(w.labelledBy, en.introTitle, "aria-labelledby → the screen title");
  assert.equal(w.describedBy, en.dialogLabel, "aria-describedby → what the dialog is for");
  assert.equal(w.lang, "en");
  assert.equal(w.dir, "ltr");
  assert.equal(w.focus, "intro-continue", "focus moved into the dialog, on Continue");
  assert.equal(await page.getByRole("dialog", { name: en.introTitle }).count(), 1, "one dialog with that accessible name");
  let snap = await snapshot(ctx, "intro");
  log(`aria intro:\n${snap}`);
  assert.match(snap, new RegExp(`- dialog "${en.introTitle}"`));
  assert.match(snap, new RegExp(`- button "${en.close}"`), "× has an accessible name");
  assert.match(snap, new RegExp(`- button "${en.continue}"`));
  assert.match(snap, new RegExp(`- heading "${en.introTitle}" \\[level=2\\]`));

  // Tab / Shift+Tab cycle inside the dialog only.
  const fwd = await pressAndTrack(page, "Tab", 4);
  assert.deepEqual(fwd, ["close", "intro-continue", "close", "intro-continue"], "Tab wraps within the dialog");
  const back = await pressAndTrack(page, "Shift+Tab", 3);
  assert.deepEqual(back, ["close", "intro-continue", "close"], "Shift+Tab wraps within the dialog");
  // Focus sent outside (a script, a click on the page behind) comes back into the dialog.
  await page.evaluate(() => document.getElementById("payload").focus());
  assert.equal((await widgetInfo(page)).focusInside, true, "focus pulled back into the dialog");

  // Enter on Continue.
  await tabTo(page, "intro-continue");
  await page.keyboard.press("Enter");
  w = await waitForScreen(page, "terms");
  assert.equal(w.labelledBy, en.termsTitle, "the dialog's name follows the screen");
  assert.ok(["consent-decline", "consent-accept"].includes(w.focus), `focus on a consent button: ${w.focus}`);
  snap = await snapshot(ctx, "terms");
  assert.match(snap, new RegExp(`- button "${en.accept}"`));
  assert.match(snap, new RegExp(`- button "${en.decline}"`));
  const cycle = await pressAndTrack(page, "Tab", 3);
  assert.deepEqual([...cycle].sort(), ["close", "consent-accept", "consent-decline"], `Tab visits all three buttons: ${cycle}`);

  // Space on "I agree".
  await tabTo(page, "consent-accept");
  await page.keyboard.press(" ");
  w = await waitForScreen(page, ["permission", "camera"]);
  assert.equal(w.focusInside, true, `focus stays in the dialog on ${w.screen}: ${w.focus}`);
  w = await waitForScreen(page, "camera");
  const live = await page.evaluate(() => {
    const g = document.querySelector('[data-fio="guidance"]');
    const p = document.querySelector('[data-fio="progress"]');
    return {
      role: g.getAttribute("role"), live: g.getAttribute("aria-live"), atomic: g.getAttribute("aria-atomic"),
      progressRole: p.getAttribute("role"), progressLabel: p.getAttribute("aria-label"),
      videoHidden: document.querySelector('[data-fio="camera"]').getAttribute("aria-hidden"),
    };
  });
  assert.deepEqual(live, { role: "status", live: "polite", atomic: "true", progressRole: "progressbar", progressLabel: en.capturing, videoHidden: "true" });
  snap = await snapshot(ctx, "camera");
  assert.match(snap, /- status/, "the guidance is a status (live) region in the tree");
  assert.match(snap, /- progressbar/);

  // PIN pad, keyboard only.
  w = await waitForScreen(page, "pin", { timeoutMs: 90_000 });
  assert.equal(w.labelledBy, en.pinChooseTitle);
  assert.equal(w.focus, "pin-input", "focus on the PIN field");
  snap = await snapshot(ctx, "pin");
  assert.match(snap, new RegExp(`- textbox "${en.pinLabel}"`), "PIN field labelled");
  assert.match(snap, new RegExp(`- textbox "${en.pinConfirmLabel}"`), "confirmation field labelled");
  assert.match(snap, new RegExp(`- button "${en.submit}"`));
  const pinOrder = await pressAndTrack(page, "Tab", 4);
  assert.deepEqual(pinOrder, ["pin-confirm-input", "pin-submit", "close", "pin-input"], "PIN screen tab order, wrapping");

  // Mismatch, submitted with Enter from the confirmation field.
  await page.keyboard.type("4096");
  await page.keyboard.press("Tab");
  await page.keyboard.type("4097");
  await page.keyboard.press("Enter");
  await page.waitForFunction((t) => document.querySelector('[data-fio="pin-error"]').textContent.trim() === t, en.pinMismatch, { timeout: 10_000 });
  w = await widgetInfo(page);
  assert.equal(w.focus, "pin-input", "after an error, focus back on the PIN field");
  const alert = await page.evaluate(() => document.querySelector('[data-fio="pin-error"]').getAttribute("role"));
  assert.equal(alert, "alert", "PIN errors are announced (role=alert)");
  snap = await snapshot(ctx, "pin-error");
  assert.match(snap, new RegExp(`- alert: ${en.pinMismatch.replace(/\./g, "\\.")}`));

  // A weak PIN, submitted with Enter in the first field.
  await page.keyboard.type("1234");
  await page.keyboard.press("Tab");
  await page.keyboard.type("1234");
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Enter");
  await page.waitForFunction((t) => document.querySelector('[data-fio="pin-error"]').textContent.trim() === t, en.pinWeak, { timeout: 10_000 });

  // A good PIN, submitted with Space on the Submit button.
  await page.keyboard.type("4096");
  await page.keyboard.press("Tab");
  await page.keyboard.type("4096");
  await page.keyboard.press("Tab");
  assert.equal((await widgetInfo(page)).focus, "pin-submit");
  await page.keyboard.press(" ");
  const r = await settled(page, id, { timeoutMs: 60_000 });
  assert.equal(r.ok, true, `keyboard-only enrollment: ${JSON.stringify(r)}`);
  const list = await listFacialIds(edge, app);
  assert.equal(list.total, 1, "enrolled on the edge");
  assert.equal(list.facialIds[0].facialId, r.value.facialId);

  const heard = await page.evaluate(() => window.__guidance);
  log(`guidance texts: ${JSON.stringify(heard)}`);
  const known = new Set([en.loading, en.capturing, en.processing, ...Object.values(en.guidance)]);
  assert.ok(heard.length >= 2, `the live region was updated during the scan: ${JSON.stringify(heard)}`);
  for (const h of heard) assert.ok(known.has(h), `guidance text "${h}" is a localized guidance string`);

  // Dialog gone, focus back where it was.
  w = await widgetInfo(page);
  assert.equal(w.present, false);
  assert.equal(w.focusId, "enroll", "focus returned to the host's button");
});

test("Escape closes with the documented code: intro/terms → 11, scanning → 9; keyboard-operable ×", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  const ctx = await launch(t, { videoFile: video("cap13") });
  const { page } = ctx;
  await openFio(page, edge, app.publicId);

  const escOn = async (method, params, screen, code, prep) => {
    await page.focus("#authenticate");
    const id = await startCall(page, method, params);
    await waitForScreen(page, screen);
    if (prep) await prep();
    await page.keyboard.press("Escape");
    const r = await settled(page, id, { timeoutMs: 10_000 });
    assert.equal(r.code, code, `Escape on ${screen}: expected ${codeName(code)}, got ${JSON.stringify(r)}`);
    const w = await widgetInfo(page);
    assert.equal(w.present, false, `widget removed after Escape on ${screen}`);
    assert.equal(w.focusId, "authenticate", "focus returned to the page");
    return r;
  };

  await escOn("enroll", {}, "intro", FIO.TERMS_NOT_ACCEPTED);
  await escOn("enroll", { enrollIntroTimeout: 0 }, "terms", FIO.TERMS_NOT_ACCEPTED);
  await escOn("authenticate", {}, "camera", FIO.PROCESSING_ERR);
  assert.equal((await cameraTracks(page)).live, 0, "camera released after Escape");
  // Escape still works after a click on plain text inside the dialog took focus off the controls.
  await escOn("enroll", {}, "intro", FIO.TERMS_NOT_ACCEPTED, async () => {
    const text = page.locator(`${DIALOG} .fio-text`).first();
    await text.click();
    assert.equal((await widgetInfo(page)).focus, "none", "clicking text leaves focus on <body>");
    await page.keyboard.press("Tab");
    assert.equal((await widgetInfo(page)).focusInside, true, "Tab from <body> lands in the dialog");
    await text.click();
  });
  // Enter and Space on the focused × close it.
  for (const key of ["Enter", " "]) {
    const id = await startCall(page, "enroll", {});
    await waitForScreen(page, "intro");
    await tabTo(page, "close");
    await page.keyboard.press(key);
    const r = await settled(page, id, { timeoutMs: 10_000 });
    assert.equal(r.code, FIO.TERMS_NOT_ACCEPTED, `${JSON.stringify(key)} on ×: ${JSON.stringify(r)}`);
  }
});

test("RTL locale (ar): dir=rtl, lang=ar, Arabic accessible names; unsupported locale → en", async (t) => {
  const edge = await useEdge();
  const app = await createApp(edge, {});
  const ctx = await launch(t, { videoFile: video("cap13") });
  const { page } = ctx;
  await openFio(page, edge, app.publicId);
  const s = strings("ar");

  const id = await startCall(page, "enroll", { locale: "ar" });
  let w = await waitForScreen(page, "intro");
  assert.equal(w.dir, "rtl");
  assert.equal(w.lang, "ar");
  assert.equal(w.labelledBy, ar.introTitle);
  const cs = await page.evaluate(() => getComputedStyle(document.querySelector('[data-fio="modal"] .fio-card')).direction);
  assert.equal(cs, "rtl", "the card is laid out right-to-left");
  const snap = await snapshot(ctx, "intro-ar");
  assert.match(snap, new RegExp(`- dialog "${ar.introTitle}"`));
  assert.match(snap, new RegExp(`- button "${ar.close}"`));
  assert.match(snap, new RegExp(`- button "${ar.continue}"`));
  await page.keyboard.press("Enter");
  w = await waitForScreen(page, "terms");
  assert.equal(w.labelledBy, s.termsTitle);
  await page.keyboard.press("Escape");
  const r = await settled(page, id);
  assert.equal(r.code, FIO.TERMS_NOT_ACCEPTED);

  const id2 = await startCall(page, "authenticate", { locale: "xx" });
  w = await waitForScreen(page, ["permission", "camera"]);
  assert.equal(w.dir, "ltr");
  assert.equal(w.lang, "en");
  await page.keyboard.press("Escape");
  await settled(page, id2);
});
