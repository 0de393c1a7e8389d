// The operator console (/console/) driven like a person: sign in with the operator token, create
// an app, change its options (a refused value is explained next to its field), run a widget
// ceremony against it, delete the facial ID, delete the app — checking the edge's state through
// the operator API after each step.
import assert from "node:assert/strict";
import { test } from "node:test";
import { describe, enrollVia, getApp, launch, listFacialIds, useEdge } from "./harness.mjs";

test("console: create an app, edit its options, enroll through the widget, delete the facial ID and the app", async (t) => {
  const edge = await useEdge();
  const ctx = await launch(t, { phase: "console" });
  const { page } = ctx;
  const violations = [];
  page.on("console", (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text()); });
  page.on("dialog", (d) => d.accept());
  const status = () => page.locator("#status").textContent();

  await page.goto(`${edge.url}/console/`);
  // A wrong token is refused and said so.
  await page.fill("#token", "not-the-token");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => /refused/.test(document.querySelector("#status").textContent));
  // Keyboard only: type the token, Enter.
  await page.fill("#token", "");
  await page.focus("#token");
  await page.keyboard.type(edge.adminToken);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#apps:not([hidden])");
  assert.equal(await page.evaluate(() => document.activeElement.id), "new-name", "focus moves to the next task");
  await page.screenshot({ path: `${ctx.dir}/signed-in.png` });

  // Create: the secrets are shown once.
  await page.fill("#new-name", "Console app");
  await page.fill("#new-shards", "4");
  await page.click("#create button[type=submit]");
  await page.waitForSelector("#secrets:not([hidden])");
  const secrets = await page.$$eval("#secrets dd", (dds) => Object.fromEntries(dds.map((d) => [d.dataset.secret, d.textContent])));
  const publicId = secrets["Public ID"];
  assert.match(publicId, /^fioa[0-9a-f]{8}$/, JSON.stringify(secrets));
  assert.match(secrets["API key"], new RegExp(`^${publicId}\\.`));
  assert.match(secrets["Webhook secret"], /^whsec_/);
  const created = (await getApp(edge, publicId)).body;
  assert.equal(created.name, "Console app");
  assert.equal(created.status, "active");
  assert.equal(created.galleryShards, 4, "the gallery shards chosen at creation");

  // Edit options: a bad value is explained at its field; then a good change is saved.
  await page.click(`button[aria-label="Open Console app"]`);
  await page.waitForSelector("#app:not([hidden])");
  assert.equal(await page.textContent("#app-shards"), "4");
  await page.fill("#opt-webhookUrl", "ftp://example.com/hook");
  await page.click("#options-form button[type=submit]");
  await page.waitForSelector("#opt-webhookUrl-err:not([hidden])");
  assert.match(await page.textContent("#opt-webhookUrl-err"), /webhookUrl/);
  assert.equal(await page.getAttribute("#opt-webhookUrl", "aria-invalid"), "true");
  assert.equal(await page.evaluate(() => document.activeElement.id), "opt-webhookUrl");
  assert.equal((await getApp(edge, publicId)).body.options.webhookUrl, null, "nothing saved");
  await page.fill("#opt-webhookUrl", "");
  await page.selectOption("#opt-livenessMode", "off");
  await page.fill("#opt-quotaPerMinute", "1000");
  await page.click("#options-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#status").textContent === "Saved.");
  const edited = (await getApp(edge, publicId)).body;
  assert.equal(edited.options.livenessMode, "off");
  assert.equal(edited.options.quotaPerMinute, 1000);

  // A real widget ceremony against the app the console made.
  const e = await enrollVia(t, edge, { publicId }, { payload: { from: "console" } });
  assert.equal(e.ok, true, `enroll: ${describe(e)}`);
  const fid = e.value.facialId;

  // The console shows it (no biometric data), and deletes it.
  await page.click(`button[aria-label="Open Console app"]`);
  await page.waitForSelector(`#fids li[data-fid="${fid}"]`);
  assert.equal(await page.textContent('[data-stat="enrolled"]'), "1");
  assert.ok(!/template|embedding/i.test(await page.textContent("#app")));
  await page.click(`button[aria-label="Delete ${fid}"]`);
  await page.waitForFunction((f) => !document.querySelector(`#fids li[data-fid="${f}"]`), fid);
  // The list is redrawn before the status line is written: wait for the line itself.
  await page.waitForFunction((f) => document.querySelector("#status").textContent.includes(f), fid);
  assert.match(await status(), /deleted/);
  assert.equal((await listFacialIds(edge, { publicId, apiKey: secrets["API key"] })).total, 0);

  // Pause, then delete the app.
  await page.selectOption("#app-status", "paused");
  await page.click("#status-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#status").textContent === "Saved.");
  assert.equal((await getApp(edge, publicId)).body.status, "paused");
  await page.click("#delete-app");
  await page.waitForFunction(() => document.querySelector("#status").textContent === "Application deleted.");
  assert.equal(await page.locator(`#app-table tr[data-app="${publicId}"]`).count(), 0);
  const gone = await fetch(`${edge.url}/admin/apps/${publicId}`, { headers: { authorization: `Bearer ${edge.adminToken}` } });
  assert.equal(gone.status, 404);
  await page.screenshot({ path: `${ctx.dir}/deleted.png` });
  assert.deepEqual(violations, [], "the console runs under its own strict CSP");
});
