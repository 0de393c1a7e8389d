// End-to-end harness: the REAL edge worker (wrangler dev / workerd) serving the demo site www/
// (with the built library in www/fiojs/ and the models in www/models/) as static assets, and
// headless Chromium (/usr/bin/chromium through playwright-core) whose webcam is a Y4M file.
//
// Environment:
//   OPENFIO_BROWSER_EDGE_URL   use an already running worker that serves www/ (no spawn)
//   OPENFIO_EDGE_ADMIN_TOKEN   its admin token (default: ADMIN_TOKEN from edge-worker/.dev.vars)
//   OPENFIO_BROWSER_WWW        assets directory (default www/)
//   OPENFIO_BROWSER_BUILD=1    run edge-worker/build.sh before spawning (default: only when
//                              edge-worker/build/worker/shim.mjs is missing)
//   CHROMIUM                   browser binary (default /usr/bin/chromium)
//   OPENFIO_BROWSER_HEADFUL=1  no --headless (debugging on a desktop)
//   OPENFIO_BROWSER_VERBOSE=1  echo the page console to stderr
//
// Artifacts: artifacts/browser/<test>/<screen>.png (one per widget screen reached, in order:
// a repeated screen gets -2, -3 …), final.png, console.log (page console, page errors, failed
// requests) and driver.log (what the driver saw and did).

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { createServer as createHttpServer, request as httpRequest } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after } from "node:test";
import { Edge, STATE_CALL, request, show } from "../edge/client.mjs";
import { EDGE_DIR, EdgeInstance, ROOT, devVars, freePort } from "../edge/harness.mjs";

export { ROOT, freePort };
export const WWW = resolve(process.env.OPENFIO_BROWSER_WWW || join(ROOT, "www"));
export const VIDEO_DIR = join(process.env.FIXTURES_DATA || join(ROOT, "fixtures/data"), "video");
export const ARTIFACTS = join(ROOT, "artifacts/browser");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

/** The 22 FACEIO error codes as FACEIO's guide defines them (tests/vectors/faceio-error-codes.json). */
export const FIO = Object.freeze(JSON.parse(readFileSync(join(ROOT, "tests/vectors/faceio-error-codes.json"), "utf8")).codes);
const FIO_NAME = new Map(Object.entries(FIO).map(([k, v]) => [v, k]));
export const codeName = (c) => FIO_NAME.get(c) ?? `not a FACEIO code: ${JSON.stringify(c)}`;

/** A Y4M feed in fixtures/data/video/ (made by fixtures/fetch.sh and make-videos.sh). */
export function video(name) {
  const f = join(VIDEO_DIR, `${name}.y4m`);
  if (!existsSync(f)) {
    const r = spawnSync("bash", [join(ROOT, "tests/browser/make-videos.sh")], { stdio: "inherit" });
    if (r.status !== 0 || !existsSync(f)) throw new Error(`${f} missing (bash tests/browser/make-videos.sh)`);
  }
  return f;
}

/** Throws a clear message when the library build or the wasm is not there yet. */
export function requireBuiltSite() {
  const missing = [];
  if (!existsSync(join(WWW, "fiojs/fio.mjs"))) missing.push(`${WWW}/fiojs/fio.mjs (bash scripts/build-js.sh)`);
  if (!existsSync(join(WWW, "models"))) missing.push(`${WWW}/models/`);
  if (!existsSync(join(EDGE_DIR, "build/worker/shim.mjs"))) missing.push("edge-worker/build/ (bash edge-worker/build.sh)");
  if (missing.length) throw new Error(`browser tests need: ${missing.join(", ")}`);
}

// ---------------------------------------------------------------------------------------------
// Edge worker with static assets

/**
 * EdgeInstance whose wrangler.toml copy also has an absolute `[assets] directory` (the copy lives
 * in a temp dir, so the relative "../www" would point nowhere); adds `[assets]` when the original
 * config has none yet.
 */
class AssetsEdgeInstance extends EdgeInstance {
  testConfig() {
    const dst = super.testConfig();
    const lines = readFileSync(dst, "utf8").split("\n");
    let table = "";
    let sawAssets = false;
    let sawDir = false;
    const out = lines.map((line) => {
      const header = line.match(/^\s*\[+([^\]]+)\]+\s*$/);
      if (header) {
        table = header[1].trim();
        if (table === "assets") sawAssets = true;
        return line;
      }
      const dir = table === "assets" && line.match(/^(\s*directory\s*=\s*)"([^"]+)"(.*)$/);
      if (dir) {
        sawDir = true;
        const abs = process.env.OPENFIO_BROWSER_WWW ? WWW : resolve(EDGE_DIR, dir[2]);
        return `${dir[1]}${JSON.stringify(abs)}${dir[3]}`;
      }
      return line;
    });
    let text = out.join("\n");
    if (!sawAssets) {
      // Top-level keys must precede tables: `assets = {…}` as an inline table at the end is a
      // table too, so append a proper [assets] table.
      text += `\n\n[assets]\ndirectory = ${JSON.stringify(WWW)}\n`;
    } else if (!sawDir) {
      text = text.replace(/^\s*\[assets\]\s*$/m, (h) => `${h}\ndirectory = ${JSON.stringify(WWW)}`);
    }
    writeFileSync(dst, text);
    return dst;
  }
}

/** Starts a fresh worker (temporary state) serving www/ as assets. */
export async function startEdgeWithAssets() {
  const shim = join(EDGE_DIR, "build/worker/shim.mjs");
  if (process.env.OPENFIO_BROWSER_BUILD === "1" || !existsSync(shim)) {
    const r = spawnSync("bash", [join(EDGE_DIR, "build.sh")], { cwd: EDGE_DIR, stdio: ["ignore", "inherit", "inherit"] });
    if (r.status !== 0) throw new Error(`edge-worker/build.sh failed with status ${r.status}`);
  }
  if (!existsSync(WWW)) throw new Error(`${WWW} does not exist (bash scripts/build-js.sh)`);
  devVars();
  const persistDir = mkdtempSync(join(tmpdir(), "openfio-browser-edge-"));
  const inst = new AssetsEdgeInstance({ persistDir, ownsPersistDir: true });
  await inst.start();
  return inst;
}

function adminToken() {
  if (process.env.OPENFIO_EDGE_ADMIN_TOKEN) return process.env.OPENFIO_EDGE_ADMIN_TOKEN;
  const t = devVars().ADMIN_TOKEN;
  if (!t) throw new Error("ADMIN_TOKEN missing from edge-worker/.dev.vars");
  return t;
}

let shared = null;
let sharedPromise = null;
// Registered while the test file's module is evaluated, so it is a hook of the root test: the
// worker is stopped after the LAST test of the file (an `after` registered inside a test would
// run when that test ends).
after(async () => {
  const inst = shared?.instance;
  if (!inst) return;
  const dir = join(ARTIFACTS, "_wrangler");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${process.pid}.log`), inst.log());
  await inst.dispose();
});

/** The edge of this test file: `{url, adminToken, instance|null}`; stopped after the file. */
export function useEdge() {
  sharedPromise ??= startShared();
  return sharedPromise;
}

async function startShared() {
  requireBuiltSite();
  if (process.env.OPENFIO_BROWSER_EDGE_URL) {
    shared = { url: process.env.OPENFIO_BROWSER_EDGE_URL.replace(/\/$/, ""), adminToken: adminToken(), instance: null };
    return shared;
  }
  const instance = await startEdgeWithAssets();
  shared = { url: instance.url, adminToken: adminToken(), instance };
  return shared;
}

/** Pass as `options` to create an app with the edge's own defaults (active liveness). */
export const DEFAULT_OPTIONS = Object.freeze({});

/**
 * Creates an app via the operator API; returns `{publicId, apiKey, options}`.
 *
 * New apps default to active liveness (prompts), which a looping fake-camera video cannot answer,
 * and passive mode waits for a blink the clips show only now and then; so specs about other
 * features get `livenessMode: "off"` unless they ask otherwise (liveness-*.test.mjs test it).
 * Pass `DEFAULT_OPTIONS` to create an app with the edge's own defaults.
 */
export async function createApp(edge, options = {}, name = "e2e") {
  const opts = options === DEFAULT_OPTIONS ? {} : { livenessMode: "off", ...options };
  // Retried on network errors: a lost answer at worst leaves an extra, unused app.
  const r = await operator(edge).admin("POST", "/admin/apps", { name, options: opts });
  if (r.status !== 200 || !r.body?.publicId) throw new Error(show(r));
  return r.body;
}

/** Operator PATCH /admin/apps/{publicId} (`{status?, options?, name?}`); returns the app. */
export async function patchApp(edge, publicId, body) {
  const r = await operator(edge).patchApp(publicId, body);
  if (r.status !== 200) throw new Error(show(r));
  return r.body;
}

/** Operator GET /admin/apps/{publicId}. */
export async function getApp(edge, publicId) {
  const r = await operator(edge).getApp(publicId);
  return { status: r.status, body: r.body ?? null };
}

/** REST /appstats of an app (its secret key). */
export async function appStats(edge, app) {
  return (await request(`${edge.url}/appstats?key=${encodeURIComponent(app.apiKey)}`, STATE_CALL)).body;
}

/** REST /listfacialids of an app (its secret key). */
export async function listFacialIds(edge, app) {
  return (await request(`${edge.url}/listfacialids?key=${encodeURIComponent(app.apiKey)}`, STATE_CALL)).body;
}

/** The edge specs' operator client (tests/edge/client.mjs) bound to this edge. */
function operator(edge) {
  return new Edge({ url: edge.url, adminToken: edge.adminToken });
}

// ---------------------------------------------------------------------------------------------
// Chromium

let playwright = null;
async function pw() {
  if (!playwright) {
    try {
      playwright = await import("playwright-core");
    } catch (e) {
      throw new Error(`playwright-core is not installed (npm install --no-save playwright-core): ${e.message}`);
    }
  }
  return playwright.chromium ? playwright : playwright.default;
}

export function slug(s) {
  return String(s).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 80).replace(/-+$/, "") || "test";
}

/**
 * Launches Chromium with `videoFile` as the webcam and a fresh profile; registers cleanup on `t`.
 * `fakeUi: false` leaves out --use-fake-ui-for-media-stream and adds --deny-permission-prompts,
 * so getUserMedia is refused as if the user clicked "Block".
 * `phase` (e.g. "enroll") prefixes the screenshots of this browser: <test>/<phase>-<screen>.png.
 * Returns `{context, page, dir, prefix, log, close()}`; `dir` is artifacts/browser/<test>/.
 */
const cleanedDirs = new Set();
export async function launch(t, { videoFile, fakeUi = true, extraArgs = [], phase = "" } = {}) {
  const { chromium } = await pw();
  const dir = join(ARTIFACTS, slug(t.name));
  if (!cleanedDirs.has(dir)) {
    cleanedDirs.add(dir);
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  const prefix = phase ? `${phase}-` : "";
  const userDataDir = mkdtempSync(join(tmpdir(), "openfio-chromium-"));
  const headful = process.env.OPENFIO_BROWSER_HEADFUL === "1";
  const args = [
    ...(headful ? [] : ["--headless=new"]),
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--use-fake-device-for-media-stream",
    ...(fakeUi ? ["--use-fake-ui-for-media-stream"] : ["--deny-permission-prompts"]),
    ...(videoFile ? [`--use-file-for-fake-video-capture=${videoFile}`] : []),
    ...extraArgs,
  ];
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: !headful,
    args,
    viewport: { width: 1024, height: 768 },
    timeout: 60_000,
  });
  if (!fakeUi) await context.clearPermissions();
  const page = context.pages()[0] || (await context.newPage());
  const consoleLog = join(dir, `${prefix}console.log`);
  const logLine = (s) => {
    appendFileSync(consoleLog, `${new Date().toISOString()} ${s}\n`);
    if (process.env.OPENFIO_BROWSER_VERBOSE === "1") process.stderr.write(`[page] ${s}\n`);
  };
  page.on("console", (m) => logLine(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => logLine(`pageerror: ${e.stack || e.message}`));
  page.on("requestfailed", (r) => logLine(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    if (r.status() >= 400) logLine(`response ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await context.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  };
  t.after(close);
  const log = (s) => appendFileSync(join(dir, "driver.log"), `${new Date().toISOString()} ${prefix}${s}\n`);
  log(`chromium ${args.join(" ")}`);
  return { context, page, dir, prefix, log, close };
}

// ---------------------------------------------------------------------------------------------
// The page: the demo site's own index.html, served by the edge (www/index.html). The page must
// really come from the loopback edge: a document fulfilled by Playwright (page.route) has no
// IP address, Chromium then treats it as public and its Local Network Access checks block every
// request to 127.0.0.1 (the edge, the black hole, the proxy). The demo's own faceIO instance
// only acts on clicks; the tests make their own (window.__fio) from /fiojs/fio.mjs.

function pageHelpers() {
  // Shadow-piercing querySelector (open shadow roots), for the driver's polling.
  window.__deepQuery = function (sel, root) {
    root = root || document;
    const hit = root.querySelector(sel);
    if (hit) return hit;
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot) {
        const h = window.__deepQuery(sel, el.shadowRoot);
        if (h) return h;
      }
    }
    return null;
  };
  window.__runs = [];
  // Every camera stream handed to the page, so tests can check the widget released the camera.
  window.__streams = [];
  const md = navigator.mediaDevices;
  if (md && md.getUserMedia) {
    const gum = md.getUserMedia.bind(md);
    md.getUserMedia = (c) => gum(c).then((s) => { window.__streams.push(s); return s; });
  }
  window.__describeRejection = function (e) {
    let s;
    try { s = JSON.stringify(e); } catch { s = String(e); }
    return {
      type: typeof e,
      value: typeof e === "number" ? e : e && typeof e.code === "number" ? e.code : null,
      isError: e instanceof Error,
      text: e instanceof Error ? `${e.name}: ${e.message}` : s,
    };
  };
}

/**
 * Opens the edge's demo page and constructs `new faceIO(publicId, {edgeUrl})` as window.__fio
 * (the default export of <edge>/fiojs/fio.mjs). `edgeUrl` defaults to the edge itself.
 */
export async function openFio(page, edge, publicId, { edgeUrl = edge.url, options = {} } = {}) {
  await page.addInitScript(pageHelpers);
  const r = await page.goto(`${edge.url}/`);
  if (!r || r.status() !== 200) throw new Error(`GET ${edge.url}/ → ${r && r.status()} (www/index.html)`);
  await page.evaluate(
    async ({ publicId, edgeUrl, options }) => {
      const mod = await import("/fiojs/fio.mjs");
      window.__faceIO = mod.default;
      window.__fio = new mod.default(publicId, { ...options, edgeUrl });
    },
    { publicId, edgeUrl, options },
  );
}

/**
 * Opens the page at `url` with the harness's page helpers; the page must set window.__fio. With
 * `html`, Playwright serves it at `url` (only for the edge's own origin: Chromium treats an
 * intercepted page as public, so it may not call a loopback edge on another origin).
 */
export async function openPage(page, url, html) {
  await page.addInitScript(pageHelpers);
  if (html !== undefined) {
    await page.route(url, (route) => route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: html }));
  }
  const r = await page.goto(url);
  if (!r || r.status() !== 200) throw new Error(`GET ${url} → ${r && r.status()}`);
}

/** Replaces window.__fio by `new faceIO(publicId, {edgeUrl, ...options})` on the open page. */
export async function useApp(page, edge, publicId, { edgeUrl = edge.url, options = {} } = {}) {
  await page.evaluate(
    ({ publicId, edgeUrl, options }) => {
      window.__fio = new window.__faceIO(publicId, { ...options, edgeUrl });
    },
    { publicId, edgeUrl, options },
  );
}

/** Starts `window.__fio[method](params)` in the page without awaiting it; returns a run id. */
export async function startCall(page, method, params) {
  return page.evaluate(
    ({ method, params }) => {
      const id = window.__runs.length;
      const run = { done: false, ok: null, value: undefined, rejection: null, t0: performance.now(), t1: null };
      window.__runs.push(run);
      let p;
      try {
        p = window.__fio[method](params);
      } catch (e) {
        p = Promise.reject(e);
        run.threwSync = true;
      }
      Promise.resolve(p).then(
        (v) => Object.assign(run, { done: true, ok: true, value: v, t1: performance.now() }),
        (e) => Object.assign(run, { done: true, ok: false, rejection: window.__describeRejection(e), t1: performance.now() }),
      );
      return id;
    },
    { method, params },
  );
}

/**
 * Runs one ceremony and drives the widget like a user until the promise settles:
 *   intro → clicks intro-continue; terms → consent-accept (or consent-decline when
 *   `acceptTerms: false`); pin → types the next PIN of `pins` (in pin-input and, when present,
 *   pin-confirm-input) and clicks pin-submit.
 * Saves a screenshot of every screen reached. Returns
 *   `{ok, value, code, rejection, elapsedMs, screens: [{screen, atMs}], pinsTyped, pinErrors, firstScreenAt}`.
 * `runId` continues a call started with startCall(); otherwise `method`/`params` start one.
 */
export async function ceremony(ctx, { method, params = {}, pins = [], acceptTerms = true, runId, timeoutMs = 180_000, shotPrefix = ctx.prefix || "" }) {
  const { page, dir, log } = ctx;
  const id = runId ?? (await startCall(page, method, params));
  log(`run ${id}: ${method ?? "(started before)"}(${JSON.stringify(params)}) pins=${JSON.stringify(pins)}`);
  const t0 = Date.now();
  const screens = [];
  const shotCount = new Map();
  let last = undefined;
  let pinQueue = [...pins];
  let pinsTyped = 0;
  const pinErrors = []; // the widget's PIN notice each time it asked again after a submit
  let pinPending = null; // {at, error, value}
  let clickedFor = null; // screen-visit index an intro/terms click was made for
  let visit = 0;
  const states = []; // data-fio-state changes on the modal (e.g. "loading" while the models load)
  let lastState;
  let liveShotFor = null;

  const shot = async (name) => {
    const n = (shotCount.get(name) ?? 0) + 1;
    shotCount.set(name, n);
    const file = join(dir, `${shotPrefix}${name}${n > 1 ? `-${n}` : ""}.png`);
    await page.screenshot({ path: file }).catch((e) => log(`screenshot ${file} failed: ${e.message}`));
  };

  while (true) {
    if (Date.now() - t0 > timeoutMs) {
      await shot("timeout");
      throw new Error(`ceremony did not settle within ${timeoutMs} ms; screens: ${screens.map((s) => s.screen).join(" → ")}`);
    }
    const st = await page.evaluate((id) => {
      const q = window.__deepQuery;
      const modal = q('[data-fio="modal"]');
      const pin = q('[data-fio="pin-input"]');
      const confirm = q('[data-fio="pin-confirm-input"]');
      const err = q('[data-fio="pin-error"]');
      const visible = (el) => !!el && !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) && getComputedStyle(el).visibility !== "hidden";
      const run = window.__runs[id];
      return {
        run: { done: run.done, ok: run.ok, value: run.value, rejection: run.rejection, ms: run.t1 ? run.t1 - run.t0 : null },
        screen: modal ? modal.getAttribute("data-fio-screen") : null,
        fioState: modal ? modal.getAttribute("data-fio-state") : null,
        pinValue: pin ? pin.value : null,
        pinDisabled: pin ? pin.disabled : null,
        hasConfirm: visible(confirm),
        pinError: err && visible(err) ? err.textContent.trim() : "",
        guidance: (q('[data-fio="guidance"]')?.textContent || "").trim().slice(0, 120),
        errorMessage: (q('[data-fio="error-message"]')?.textContent || "").trim().slice(0, 200),
      };
    }, id);

    if (st.screen !== last) {
      visit++;
      screens.push({ screen: st.screen, atMs: Date.now() - t0 });
      log(`screen ${last} → ${st.screen} at ${Date.now() - t0} ms (guidance "${st.guidance}", error "${st.errorMessage}")`);
      last = st.screen;
      if (st.screen) await shot(st.screen);
    }
    // The camera screen appears before the first frame: a second shot once the video runs.
    const camAt = screens.findLast((s) => s.screen === "camera")?.atMs;
    if (st.screen === "camera" && camAt !== undefined && Date.now() - t0 - camAt > 2000 && liveShotFor !== camAt) {
      liveShotFor = camAt;
      await shot("camera-live");
    }

    const stateKey = `${st.screen}/${st.fioState}`;
    if (stateKey !== lastState) {
      lastState = stateKey;
      states.push({ screen: st.screen, state: st.fioState, atMs: Date.now() - t0 });
    }

    if (st.run.done) {
      await shot("final");
      const code = st.run.ok ? null : st.run.rejection?.value ?? null;
      log(`run ${id} settled: ${st.run.ok ? `resolved ${JSON.stringify(st.run.value)}` : `rejected ${JSON.stringify(st.run.rejection)} (${codeName(code)})`} after ${Math.round(st.run.ms)} ms`);
      return {
        ok: st.run.ok,
        value: st.run.value,
        code,
        rejection: st.run.rejection,
        elapsedMs: st.run.ms,
        screens,
        states,
        pinsTyped,
        pinErrors,
        screenAt: (name) => screens.find((s) => s.screen === name)?.atMs ?? null,
        // When the camera screen started scanning: the first camera poll whose modal state is
        // not "loading" (the models were ready), else when the camera screen appeared.
        scanAt: () =>
          states.find((s) => s.screen === "camera" && s.state !== "loading")?.atMs ??
          screens.find((s) => s.screen === "camera")?.atMs ??
          null,
      };
    }

    try {
      if (st.screen === "intro" && clickedFor !== visit) {
        clickedFor = visit;
        log("click intro-continue");
        await page.locator('[data-fio="intro-continue"]').click({ timeout: 5000 });
      } else if (st.screen === "terms" && clickedFor !== visit) {
        clickedFor = visit;
        const which = acceptTerms ? "consent-accept" : "consent-decline";
        log(`click ${which}`);
        await page.locator(`[data-fio="${which}"]`).click({ timeout: 5000 });
      } else if (st.screen === "pin") {
        if (pinPending) {
          // Wait for the widget to react to the last PIN: it clears the field, shows a new error
          // text, or (fallback) 3 s passed with an error visible.
          const reacted =
            st.pinValue === "" ||
            (st.pinError && st.pinError !== pinPending.error) ||
            (st.pinError && Date.now() - pinPending.at > 3000);
          if (reacted) {
            log(`widget asks for a PIN again (value "${st.pinValue}", error "${st.pinError}")`);
            pinErrors.push(st.pinError);
            pinPending = null;
          }
        }
        if (!pinPending && !st.pinDisabled && pinQueue.length) {
          const pin = pinQueue.shift();
          pinsTyped++;
          log(`type PIN ${pin}${st.hasConfirm ? " (+confirm)" : ""}`);
          await page.locator('[data-fio="pin-input"]').fill(pin, { timeout: 5000 });
          if (st.hasConfirm) await page.locator('[data-fio="pin-confirm-input"]').fill(pin, { timeout: 5000 });
          await shot(`pin-typed`);
          pinPending = { at: Date.now(), error: st.pinError };
          await page.locator('[data-fio="pin-submit"]').click({ timeout: 5000 });
        }
      } else {
        pinPending = null;
      }
    } catch (e) {
      log(`driver action failed on screen ${st.screen}: ${e.message.split("\n")[0]}`);
    }
    await new Promise((r) => setTimeout(r, 120));
  }
}

/** Human-readable summary of a ceremony result, for assertion messages. */
export function describe(res) {
  const path = res.screens.map((s) => `${s.screen}@${s.atMs}`).join(" → ");
  return res.ok
    ? `resolved ${JSON.stringify(res.value)} in ${Math.round(res.elapsedMs)} ms; screens ${path}`
    : `rejected with ${JSON.stringify(res.rejection)} (${codeName(res.code)}) in ${Math.round(res.elapsedMs)} ms; screens ${path}`;
}

// ---------------------------------------------------------------------------------------------
// Misbehaving servers

/** A TCP server that accepts connections and never answers. `{url, close()}`. */
export async function blackHole() {
  const sockets = new Set();
  const srv = createNetServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); srv.close(() => r()); }),
  };
}

/**
 * An HTTP proxy to `target` that forwards everything (CORS preflights included) except the
 * requests `hold(req)` selects, which it never answers. `{url, held: [paths], close()}`.
 */
export async function holdingProxy(target, hold) {
  const t = new URL(target);
  const held = [];
  const pending = new Set();
  const srv = createHttpServer((req, res) => {
    if (hold(req)) {
      held.push(`${req.method} ${req.url}`);
      pending.add(res);
      req.resume();
      res.on("close", () => pending.delete(res));
      return;
    }
    const up = httpRequest(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } },
      (ur) => {
        res.writeHead(ur.statusCode, ur.headers);
        ur.pipe(res);
      },
    );
    up.on("error", (e) => { res.writeHead(502); res.end(String(e)); });
    req.pipe(up);
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    held,
    close: () => new Promise((r) => { for (const p of pending) p.destroy(); srv.closeAllConnections?.(); srv.close(() => r()); }),
  };
}

// ---------------------------------------------------------------------------------------------
// Common flows

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s) => typeof s === "string" && UUID.test(s);

/**
 * Enrolls the person of `videoName` (default cap12) in `app` through a real browser ceremony
 * (terms accepted, PIN typed twice) and closes that browser. Returns the ceremony result.
 */
export async function enrollVia(t, edge, app, { videoName = "cap12", payload = null, pin = "4096", method = "enroll", phase = "enroll", params = {} } = {}) {
  const ctx = await launch(t, { videoFile: video(videoName), phase });
  try {
    await openFio(ctx.page, edge, app.publicId);
    return await ceremony(ctx, { method, params: { payload, ...params }, pins: [pin] });
  } finally {
    await ctx.close();
  }
}

/** One authenticate ceremony (`method` may be an alias) in a fresh browser; closes it after. */
export async function authenticateVia(t, edge, app, { videoName = "cap13", pins = [], method = "authenticate", phase = "auth", params = {}, edgeUrl } = {}) {
  const ctx = await launch(t, { videoFile: video(videoName), phase });
  try {
    await openFio(ctx.page, edge, app.publicId, edgeUrl ? { edgeUrl } : {});
    return await ceremony(ctx, { method, params, pins });
  } finally {
    await ctx.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Widget inspection (tests that drive the widget themselves: keyboard, consent, admission)

/**
 * The widget as the page sees it: `{present, screen, state, role, ariaModal, labelledBy (the
 * text of the aria-labelledby element), describedBy, dir, lang, title, focus (data-fio of the
 * focused element, "outside" when focus is outside the modal, "none" on <body>), focusInside,
 * guidance, pinError, errorMessage}`; `{present: false}` when no modal is mounted.
 */
export async function widgetInfo(page) {
  return page.evaluate(() => {
    const modal = document.querySelector('[data-fio="modal"]');
    const a = document.activeElement;
    if (!modal) return { present: false, focusId: a && a.id ? a.id : null };
    const byId = (id) => (id ? document.getElementById(id) : null);
    const txt = (el) => (el ? el.textContent.trim() : null);
    const focusInside = !!a && modal.contains(a);
    return {
      present: true,
      count: document.querySelectorAll('[data-fio="modal"]').length,
      screen: modal.getAttribute("data-fio-screen"),
      state: modal.getAttribute("data-fio-state"),
      role: modal.getAttribute("role"),
      ariaModal: modal.getAttribute("aria-modal"),
      labelledBy: txt(byId(modal.getAttribute("aria-labelledby"))),
      describedBy: txt(byId(modal.getAttribute("aria-describedby"))),
      dir: modal.getAttribute("dir"),
      lang: modal.getAttribute("lang"),
      title: txt(modal.querySelector(".fio-title")),
      focus: !a || a === document.body ? "none" : focusInside ? a.getAttribute("data-fio") || a.tagName.toLowerCase() : "outside",
      focusInside,
      guidance: txt(modal.querySelector('[data-fio="guidance"]')),
      pinError: txt(modal.querySelector('[data-fio="pin-error"]')),
      errorMessage: txt(modal.querySelector('[data-fio="error-message"]')),
    };
  });
}

/** Polls until the widget shows `screen` (or one of several); returns widgetInfo(). */
export async function waitForScreen(page, screen, { timeoutMs = 60_000 } = {}) {
  const want = Array.isArray(screen) ? screen : [screen];
  const t0 = Date.now();
  let info;
  while (Date.now() - t0 < timeoutMs) {
    info = await widgetInfo(page);
    if (info.present && want.includes(info.screen)) return info;
    await new Promise((r) => setTimeout(r, 80));
  }
  throw new Error(`widget did not show ${want.join("|")} within ${timeoutMs} ms (last: ${JSON.stringify(info)})`);
}

/**
 * Records, in the page's own clock, when the widget shows each screen (a MutationObserver on
 * `data-fio-screen`): durations measured this way do not depend on how fast this process polls
 * a loaded machine. Read them with `screenTimes`.
 */
export async function recordScreens(page) {
  await page.evaluate(() => {
    const log = (window.__fioScreens = []);
    let last = null;
    const note = () => {
      const m = document.querySelector('[data-fio="modal"]');
      const screen = m ? m.getAttribute("data-fio-screen") : null;
      if (screen !== last) log.push({ screen, t: performance.now() });
      last = screen;
    };
    new MutationObserver(note).observe(document.documentElement, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["data-fio-screen"],
    });
  });
}

/** The screens `recordScreens` saw, in order: `[{screen, t}]` (t: page ms). */
export async function screenTimes(page) {
  return page.evaluate(() => window.__fioScreens || []);
}

/** The state of run `id` (startCall): `{done, ok, value, code, rejection, ms}`. */
export async function runState(page, id) {
  return page.evaluate((id) => {
    const r = window.__runs[id];
    return {
      done: r.done,
      ok: r.ok,
      value: r.value,
      code: r.done && !r.ok ? r.rejection?.value ?? null : null,
      rejection: r.rejection,
      ms: r.t1 ? r.t1 - r.t0 : null,
    };
  }, id);
}

/** Waits for run `id` to settle; returns runState(). */
export async function settled(page, id, { timeoutMs = 60_000 } = {}) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const st = await runState(page, id);
    if (st.done) return st;
    await new Promise((r) => setTimeout(r, 80));
  }
  throw new Error(`run ${id} did not settle within ${timeoutMs} ms (widget: ${JSON.stringify(await widgetInfo(page))})`);
}

/**
 * Camera tracks the page got from getUserMedia: `{opened, live}` (live is 0 once every ceremony
 * has released the camera).
 */
export async function cameraTracks(page) {
  return page.evaluate(() => {
    const tracks = (window.__streams || []).flatMap((s) => s.getTracks());
    return { opened: tracks.length, live: tracks.filter((t) => t.readyState === "live").length };
  });
}

/** Live camera tracks in the page (0 once a ceremony has released the camera). */
export async function liveTracks(page) {
  return (await cameraTracks(page)).live;
}

/**
 * Routes every widget API request of the page (`<edgeUrl>/v1/**`) through `edit(headers, req)`,
 * which returns the headers to send (a plain object; lower-case names). Returns `{seen}`: the
 * headers as sent, per request, for assertions.
 *
 * Chromium re-adds Origin and Referer to a request continued with fewer headers, so a request
 * whose edited headers lack one of them that the browser sent is made by Playwright instead
 * (route.fetch, exactly these headers, to the same real edge) and its real answer is handed to
 * the page (route.fulfill) — what a header-stripping proxy between browser and edge does.
 */
export async function rewriteWidgetHeaders(page, edgeUrl, edit) {
  const seen = [];
  await page.route(`${edgeUrl}/v1/**`, async (route) => {
    const req = route.request();
    const orig = await req.allHeaders();
    const headers = edit({ ...orig }, req);
    const dropped = ["origin", "referer"].filter((k) => k in orig && !(k in headers));
    seen.push({ method: req.method(), url: req.url(), headers, via: dropped.length ? "playwright" : "browser" });
    if (!dropped.length) return route.continue({ headers });
    const response = await route.fetch({ headers, maxRedirects: 0 });
    await route.fulfill({ response });
  });
  return { seen };
}

/**
 * Records the widget's API traffic on `page`: every POST to `<edgeUrl>/v1/<app>/<route>` as
 * `{route, bytes, json}` (the body as the page sent it, before any page.route rewrite) and every
 * answer as `{route, status, json}`. Returns `{requests, answers, settle()}`; settle() waits for
 * the answer bodies seen so far.
 */
export function recordWidgetTraffic(page, edgeUrl) {
  const requests = [];
  const answers = [];
  const pending = [];
  const routeOf = (r) => {
    if (r.method() !== "POST" || !r.url().startsWith(`${edgeUrl}/v1/`)) return null;
    return new URL(r.url()).pathname.match(/^\/v1\/[^/]+\/([^/]+)$/)?.[1] ?? null;
  };
  page.on("request", (r) => {
    const route = routeOf(r);
    if (!route) return;
    const text = r.postData() ?? "";
    let json = null;
    try {
      json = JSON.parse(text);
    } catch { /* not JSON: recorded as null */ }
    requests.push({ route, bytes: Buffer.byteLength(text), json });
  });
  page.on("response", (res) => {
    const route = routeOf(res.request());
    if (!route) return;
    pending.push(res.json().then(
      (json) => answers.push({ route, status: res.status(), json }),
      () => answers.push({ route, status: res.status(), json: null }),
    ));
  });
  return { requests, answers, settle: () => Promise.allSettled(pending.slice()) };
}

/** Sleeps until at least `marginMs` remain in the edge's one-minute quota window. */
export async function awayFromMinuteBoundary(marginMs = 12_000) {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 250));
}

// ---------------------------------------------------------------------------------------------
// Liveness fixtures (tests/browser/liveness-*.test.mjs; the canvas camera is in feed/feed.mjs)

export const FIXTURES_DATA = process.env.FIXTURES_DATA || join(ROOT, "fixtures/data");
/** Synthetic presentation-attack feeds (fixtures/attacks/make.sh). */
export const ATTACK_DIR = join(FIXTURES_DATA, "attacks");
/** JPEG frames of the real clips at 10 fps (make-videos.sh), for the canvas camera. */
export const FRAMES10_DIR = join(FIXTURES_DATA, "frames10");
export const ATTACK_SPECIES = Object.freeze(["still", "print", "screen", "moved_photo"]);

/** An attack Y4M, e.g. attackVideo("print", "cap12"); builds the attack videos when missing. */
export function attackVideo(species, clip = "cap12") {
  const f = join(ATTACK_DIR, `${species}_${clip}.y4m`);
  if (!existsSync(f)) {
    const r = spawnSync("bash", [join(ROOT, "fixtures/attacks/make.sh")], { stdio: "inherit" });
    if (r.status !== 0 || !existsSync(f)) throw new Error(`${f} missing (bash fixtures/attacks/make.sh)`);
  }
  return f;
}
