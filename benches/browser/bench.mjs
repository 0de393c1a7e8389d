// Browser benchmark (issue 4): run by scripts/bench-browser.sh, which builds and stages
// everything first. Not a test: prints one Markdown table and writes artifacts/bench/browser.json.
//
//   1. per-frame analysis in Chromium: wasm SIMD vs wasm no-SIMD, detection-only and full, through
//      the library's Web Worker (js/engine.js + js/engine-worker.js);
//   2. native: the same engine code (fio_wasm::engine) on the same RGBA bytes, in a helper process
//      (benches/browser/native) whose calls are interleaved with the browser's;
//   3. @vladmandic/human (npm) on the same frames in the same page, tfjs WASM backend;
//   4. bytes on the wire before the first analysed frame on the real demo page (www/ on the real
//      edge worker under wrangler dev), cold and warm cache;
//   5. new faceIO(publicId) → first analysed frame on that page, fake camera, cold and warm.
//
// Environment (set by the script): BENCH_DIR (staging: www/, pkg-nosimd/, frames/, page/),
// NATIVE_BIN, RUNS (samples per frame size and mode, default 20), WARMUP (default 5),
// VISITS (cold+warm page visits, default 3), BENCH_NOSIMD (0: no no-SIMD rows),
// BENCH_EXTRA_WASM (label=dir,...: more fio-wasm builds to time), BENCH_OUT, CHROMIUM, FIO_VIDEO.

import { spawn } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { createInterface } from "node:readline";
import { brotliCompressSync, brotliDecompressSync, constants as zc, gunzipSync, gzipSync } from "node:zlib";
import { EdgeInstance, freePort, ROOT, devVars } from "../../tests/edge/harness.mjs";

const env = process.env;
const BENCH = resolve(env.BENCH_DIR || join(ROOT, "target/bench-browser"));
const RUNS = Number(env.RUNS || 20);
const WARMUP = Number(env.WARMUP || 5);
const VISITS = Number(env.VISITS || 3);
// BENCH_NOSIMD=0 (set by the script) leaves the no-SIMD build out: its first build of tract
// takes ~15 min on 2 cores.
const NOSIMD = env.BENCH_NOSIMD !== "0";
// Other wasm-bindgen outputs of fio-wasm (same models) to time next to the shipped SIMD build:
// BENCH_EXTRA_WASM="label=dir,label2=dir2" (build-profile experiments; README ablation).
const FLAVOURS = [
  ...(NOSIMD ? [["nosimd", join(BENCH, "pkg-nosimd"), "no-SIMD"]] : []),
  ...(env.BENCH_EXTRA_WASM || "").split(",").filter(Boolean).map((x) => {
    const [label, dir] = x.split("=");
    if (!/^[a-z0-9-]+$/.test(label) || !dir) throw new Error(`BENCH_EXTRA_WASM: bad entry ${x}`);
    return [label, resolve(dir), label];
  }),
];
const OUT = resolve(env.BENCH_OUT || join(ROOT, "artifacts/bench/browser.json"));
const CHROMIUM = env.CHROMIUM || "/usr/bin/chromium";
const VIDEO = env.FIO_VIDEO || join(ROOT, "fixtures/data/video/cap12.y4m");
const NATIVE_BIN = env.NATIVE_BIN;
const HUMAN_DIR = join(ROOT, "node_modules/@vladmandic/human");
const TFJS_WASM_DIR = join(ROOT, "node_modules/@tensorflow/tfjs-backend-wasm/dist");
const MEDIAPIPE_DIR = join(ROOT, "node_modules/@mediapipe/face_mesh");

const log = (s) => process.stderr.write(`[bench-browser] ${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The flags of tests/browser/harness.mjs.
const CHROME_ARGS = [
  "--headless=new",
  "--no-sandbox",
  // No GPU: software WebGL (SwiftShader), which MediaPipe's face_mesh needs, made the warm first
  // frame 1.75 s instead of 0.92 s and the per-frame rows ~10 % slower on 2 cores (two runs), and
  // its graph aborted even then; it is reported as not run.
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
];

// ---------------------------------------------------------------------------------------------
// Statistics

function quantile(xs, q) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.max(0, Math.ceil(q * s.length) - 1)]; // nearest rank
}
const median = (xs) => quantile(xs, 0.5);
const p90 = (xs) => quantile(xs, 0.9);

// Cloudflare compresses these response types (gzip/brotli/zstd); everything else, e.g.
// application/octet-stream (the .onnx models), goes out as is.
const CF_COMPRESSIBLE = new Set(
  ("text/html text/richtext text/plain text/css text/x-script text/x-component text/x-java-source text/x-markdown " +
    "application/javascript application/x-javascript text/javascript text/js image/x-icon image/vnd.microsoft.icon " +
    "application/x-perl application/x-httpd-cgi text/xml application/xml application/rss+xml application/vnd.api+json " +
    "application/x-protobuf application/json multipart/bag multipart/mixed application/xhtml+xml font/ttf font/otf " +
    "font/x-woff image/svg+xml application/vnd.ms-fontobject application/ttf application/x-ttf application/otf " +
    "application/x-otf application/truetype application/opentype application/x-opentype application/font-woff " +
    "application/eot application/font application/font-sfnt application/wasm application/javascript-binast " +
    "application/manifest+json application/ld+json application/graphql+json application/geo+json").split(" "),
);
const baseType = (t) => String(t || "").split(";")[0].trim().toLowerCase();

const compressedMemo = new Map();
/** {gzip, br} sizes of a body (gzip -9, brotli quality 11: the best a static host can do). */
function compressedSizes(key, buf) {
  let c = compressedMemo.get(key);
  if (!c) {
    c = {
      gzip: gzipSync(buf, { level: 9 }).length,
      br: brotliCompressSync(buf, {
        params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_SIZE_HINT]: buf.length, [zc.BROTLI_PARAM_LGWIN]: 24 },
      }).length,
    };
    compressedMemo.set(key, c);
  }
  return c;
}

/** Content type Cloudflare would send, from the extension (as Workers static assets do). */
function cfType(path, type) {
  const ext = extname(path.split("?")[0]);
  if (path.endsWith("/")) return "text/html";
  if (ext && MIME[ext]) return baseType(MIME[ext]);
  return baseType(type) || "application/octet-stream";
}

/**
 * Byte totals of recorded responses: `raw` decoded bodies; `wire` what the server actually sent
 * (wrangler dev gzips every response); `cfGzip`/`cfBr` what Cloudflare would send (gzip -9 /
 * brotli 11 on the types it compresses, the rest as is); `allBr` brotli on everything.
 */
function byteTotals(responses) {
  const by = {};
  const zero = () => ({ requests: 0, notModified: 0, raw: 0, wire: 0, cfGzip: 0, cfBr: 0, allBr: 0, headers: 0 });
  const total = zero();
  for (const r of responses) {
    const b = (by[r.category] ||= zero());
    const c = r.body ? compressedSizes(`${r.path}#${r.body.length}`, r.body) : null;
    const cf = c && CF_COMPRESSIBLE.has(cfType(r.path, r.type));
    for (const t of [b, total]) {
      t.requests++;
      if (r.status === 304) t.notModified++;
      t.raw += r.bodyBytes;
      t.wire += r.wireBytes;
      t.headers += r.headerBytes;
      t.cfGzip += cf ? Math.min(c.gzip, r.bodyBytes) : r.bodyBytes;
      t.cfBr += cf ? Math.min(c.br, r.bodyBytes) : r.bodyBytes;
      t.allBr += c ? Math.min(c.br, r.bodyBytes) : r.bodyBytes;
    }
  }
  return { total, by };
}

function categoryOf(path) {
  if (path.startsWith("/models/")) return "models";
  if (/\.wasm(\?|$)/.test(path)) return "wasm";
  if (path.startsWith("/fiojs/")) return "library JS";
  if (path.startsWith("/v1/")) return "edge API";
  if (path.startsWith("/human/") || path.startsWith("/tfjs-wasm/")) return "human JS";
  if (path.startsWith("/human-models/")) return "human models";
  return "page";
}

// ---------------------------------------------------------------------------------------------
// Servers

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".onnx": "application/octet-stream",
  ".bin": "application/octet-stream",
  ".rgba": "application/octet-stream",
  ".png": "image/png",
};

/**
 * Tiny static server: `routes` maps URL prefixes to directories (longest prefix wins). No
 * COOP/COEP on purpose: the page is not cross-origin isolated, so tfjs-wasm runs single-threaded
 * like tract. Records every response (path, bytes) for the byte counts.
 */
async function staticServer(routes) {
  const prefixes = Object.keys(routes).sort((a, b) => b.length - a.length);
  const responses = [];
  const srv = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const prefix = prefixes.find((p) => path.startsWith(p));
    let file = prefix && normalize(join(routes[prefix], path.slice(prefix.length)));
    if (file && !file.startsWith(routes[prefix])) file = null;
    if (file && existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!file || !existsSync(file)) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
      return;
    }
    const type = MIME[extname(file)] || "application/octet-stream";
    const size = statSync(file).size;
    res.writeHead(200, { "content-type": type, "content-length": size, "cache-control": "no-cache" });
    const rec = { path, status: 200, type, bodyBytes: size, wireBytes: size, headerBytes: 0, encoding: null, category: categoryOf(path), file };
    responses.push(rec);
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    responses,
    close: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(() => r()); }),
  };
}

/**
 * Byte-counting HTTP proxy in front of the edge: every response body is counted as it passes,
 * and bodies are kept (once per path) to compute what gzip/brotli would make of them.
 */
async function countingProxy(target) {
  const t = new URL(target);
  let responses = [];
  const bodies = new Map();
  const srv = createServer((req, res) => {
    const up = httpRequest(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } },
      (ur) => {
        const path = new URL(req.url, "http://x").pathname;
        const rec = {
          path,
          status: ur.statusCode,
          type: ur.headers["content-type"] || "",
          encoding: ur.headers["content-encoding"] || null,
          cacheControl: ur.headers["cache-control"] || null,
          etag: ur.headers.etag || null,
          bodyBytes: 0,
          wireBytes: 0,
          headerBytes: ur.rawHeaders.reduce((s, h) => s + h.length + 2, 0) + 16,
          category: categoryOf(path),
          at: Date.now(),
        };
        const chunks = [];
        ur.on("data", (c) => {
          rec.wireBytes += c.length;
          chunks.push(c);
        });
        ur.on("end", () => {
          // The body as the browser decodes it (wrangler dev gzips every response).
          const buf = decode(Buffer.concat(chunks), rec.encoding);
          rec.bodyBytes = buf.length;
          if (ur.statusCode === 200) {
            const key = `${path}#${buf.length}`;
            if (!bodies.has(key)) bodies.set(key, buf);
            rec.body = bodies.get(key);
          }
          responses.push(rec);
        });
        res.writeHead(ur.statusCode, ur.rawHeaders);
        ur.pipe(res);
      },
    );
    up.on("error", (e) => { res.writeHead(502); res.end(String(e)); });
    req.pipe(up);
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    take: () => { const r = responses; responses = []; return r; },
    close: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(() => r()); }),
  };
}

function decode(buf, enc) {
  if (!buf.length || !enc || enc === "identity") return buf;
  if (enc === "gzip") return gunzipSync(buf);
  if (enc === "br") return brotliDecompressSync(buf);
  throw new Error(`unexpected content-encoding ${enc}`);
}

/** The edge worker (wrangler dev) serving BENCH/www as its static assets. */
class BenchEdge extends EdgeInstance {
  testConfig() {
    const dst = super.testConfig();
    const www = join(BENCH, "www");
    let text = readFileSync(dst, "utf8");
    if (/^\s*\[assets\]/m.test(text)) {
      text = text.replace(/^(\s*directory\s*=\s*)"[^"]*"/m, `$1${JSON.stringify(www)}`);
    } else {
      text += `\n\n[assets]\ndirectory = ${JSON.stringify(www)}\n`;
    }
    writeFileSync(dst, text);
    return dst;
  }
}

// ---------------------------------------------------------------------------------------------
// Native helper (long-lived, so its calls interleave with the browser's)

async function startNative(frames) {
  const args = [env.BENCH_MODELS || join(ROOT, "models"), "320", ...frames.map((f) => `${join(BENCH, "frames", f.file)}:${f.width}:${f.height}`)];
  const child = spawn(NATIVE_BIN, args, { stdio: ["pipe", "pipe", "inherit"] });
  const rl = createInterface({ input: child.stdout });
  const waiting = [];
  rl.on("line", (l) => waiting.shift()?.(JSON.parse(l)));
  const next = () => new Promise((r) => waiting.push(r));
  await next(); // {"ready":true}
  return {
    analyze: (i, full) => {
      const p = next();
      child.stdin.write(`${i} ${full ? 1 : 0}\n`);
      return p;
    },
    close: () => { child.stdin.end(); child.kill(); },
  };
}

// ---------------------------------------------------------------------------------------------
// 1-3: per-frame analysis

async function perFrame(chromium, frames) {
  const server = await staticServer({
    "/bench/": join(BENCH, "page"),
    "/frames/": join(BENCH, "frames"),
    ...Object.fromEntries(FLAVOURS.map(([name, dir]) => [`/fiojs-${name}/wasm/`, dir])),
    "/human/": join(HUMAN_DIR, "dist"),
    "/human-models/": join(HUMAN_DIR, "models"),
    "/tfjs-wasm/": TFJS_WASM_DIR,
    "/mediapipe/": MEDIAPIPE_DIR,
    "/": join(BENCH, "www"),
  });
  const userDataDir = mkdtempSync(join(tmpdir(), "openfio-bench-chromium-"));
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: CHROME_ARGS, viewport: { width: 800, height: 600 }, timeout: 60_000,
  });
  const errors = [];
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") errors.push(`console.${m.type()}: ${m.text()}`); });
  page.setDefaultTimeout(600_000);
  const native = await startNative(frames);
  const result = { impls: {}, errors, load: {} };
  try {
    await page.goto(`${server.url}/bench/`);
    await page.waitForFunction(() => window.bench, null, { timeout: 60_000 });
    await page.evaluate((list) => window.bench.loadFrames(list), frames);
    server.responses.length = 0;

    log("loading the engine (SIMD, then no-SIMD) in the page's worker");
    result.load.simd = await page.evaluate(() => window.bench.initFio("simd", "/fiojs/wasm/"));
    // The same build with the engine's tracking option on (fio_vision::tracking; off in the widget).
    await page.evaluate(() => window.bench.initFio("track", "/fiojs/wasm/", true));
    for (const [name] of FLAVOURS) {
      result.load[name] = await page.evaluate((n) => window.bench.initFio(n, `/fiojs-${n}/wasm/`), name);
    }
    server.responses.length = 0;

    log("loading @vladmandic/human (tfjs WASM backend)");
    let human = null;
    try {
      human = await page.evaluate(
        (cfg) => window.bench.initHuman(cfg),
        { backend: "wasm", wasmPath: "/tfjs-wasm/", modelBasePath: "/human-models/" },
      );
      human.bytes = byteTotals(server.responses.map((r) => ({ ...r, body: readFileSync(r.file) })));
      human.files = server.responses.map((r) => ({ path: r.path, bytes: r.bodyBytes }));
    } catch (e) {
      result.humanError = e.message.split("\n")[0];
      log(`human failed: ${result.humanError}`);
    }
    result.human = human;

    const impls = [
      ["native", (i, full) => native.analyze(i, full)],
      ["simd", (i, full) => page.evaluate(([i, full]) => window.bench.fio("simd", i, full), [i, full])],
      ["track", (i, full) => page.evaluate(([i, full]) => window.bench.fio("track", i, full), [i, full])],
    ];
    for (const [name] of FLAVOURS) {
      impls.push([name, (i, full) => page.evaluate(([n, i, full]) => window.bench.fio(n, i, full), [name, i, full])]);
    }
    if (human) impls.push(["human", (i, full) => page.evaluate(([i, full]) => window.bench.humanDetect(i, full), [i, full])]);
    log("loading MediaPipe face_mesh (its SIMD wasm)");
    try {
      result.mediapipe = await page.evaluate(() => window.bench.initMediaPipe());
      impls.push(["mediapipe", (i) => page.evaluate((i) => window.bench.mediapipeDetect(i), i)]);
    } catch (e) {
      result.mediapipeError = e.message.split("\n")[0];
      log(`MediaPipe failed: ${result.mediapipeError}`);
    }

    const pick = (ok) => frames.map((f, i) => (ok(f) ? i : -1)).filter((i) => i >= 0);
    // Still frames rotate; the video group plays consecutive frames in order, live view only.
    const groups = [
      { name: "400x300", idx: pick((f) => f.width === 400 && !f.seq), modes: [false, true] },
      { name: "640x480", idx: pick((f) => f.width === 640 && !f.seq), modes: [false, true] },
      { name: "video640", idx: pick((f) => f.seq), modes: [false] },
    ].filter((g) => g.idx.length);
    for (const g of groups) {
      const n = Math.ceil(RUNS / g.idx.length) * g.idx.length;
      for (const full of g.modes) {
        const mode = full ? "full" : "detect";
        log(`${g.name} ${mode}: ${WARMUP} warm-up + ${n} measured rounds, each round = every implementation once (rotating order)`);
        for (let k = -WARMUP; k < n; k++) {
          const i = g.idx[((k % g.idx.length) + g.idx.length) % g.idx.length];
          const order = impls.map((_, j) => impls[(j + (k + WARMUP)) % impls.length]);
          for (const [name, fn] of order) {
            // A full analysis always detects; MediaPipe's face mesh has no full analysis.
            if (full && (name === "track" || name === "mediapipe")) continue;
            if (name === "mediapipe" && result.mediapipeError) continue;
            let r;
            try {
              r = await fn(i, full);
            } catch (e) {
              if (name !== "mediapipe") throw e;
              result.mediapipeError = e.message.split("\n")[0];
              log(`MediaPipe failed: ${result.mediapipeError}`);
              continue;
            }
            if (k < 0) continue;
            const key = `${g.name}/${mode}/${name}`;
            const rec = (result.impls[key] ||= { ms: [], roundTrip: [], faces: [], main: [], timings: [], tracked: [], extra: [] });
            rec.ms.push(r.ms);
            if (r.tracked !== undefined) rec.tracked.push(r.tracked);
            if (r.roundTrip !== undefined) rec.roundTrip.push(r.roundTrip);
            rec.faces.push(r.faces);
            rec.main.push(r.main);
            if (r.timings) rec.timings.push(r.timings);
            if (name === "human") rec.extra.push({ real: r.real, live: r.live, age: r.age });
          }
        }
      }
    }
    result.throttle = await throttleCheck(ctx, page, impls, groups);
  } finally {
    native.close();
    await ctx.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
    await server.close();
  }
  return result;
}

// Does DevTools' CPU throttling (the usual stand-in for a phone) slow the Web Worker the engine
// runs in? The same live-view calls, and Human's (on the page's main thread), with the page's CPU
// throttled 4× and not, alternating.
async function throttleCheck(ctx, page, impls, groups) {
  const g = groups.find((x) => x.name === "640x480") || groups[0];
  if (!g) return null;
  const cdp = await ctx.newCDPSession(page);
  const out = {};
  const use = impls.filter(([name]) => name === "simd" || name === "human");
  const rounds = Math.max(6, Math.floor(RUNS / 4));
  for (let k = 0; k < rounds; k++) {
    for (const rate of [1, 4]) {
      await cdp.send("Emulation.setCPUThrottlingRate", { rate });
      for (const [name, fn] of use) {
        const r = await fn(g.idx[k % g.idx.length], false);
        ((out[name] ||= { 1: [], 4: [] })[rate]).push(r.ms);
      }
    }
  }
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
  await cdp.detach().catch(() => {});
  return out;
}

// ---------------------------------------------------------------------------------------------
// 4-5: the demo page on the real edge, cold and warm

// Runs before the demo's module: notes when faceIO's constructor publishes its debug object
// (window.__openfioDebug, `?debug`), every ceremony state change, and the first analysed frame.
function demoHooks() {
  const b = (window.__bench = { states: [] });
  let dbg;
  Object.defineProperty(window, "__openfioDebug", {
    configurable: true,
    get: () => dbg,
    set(v) {
      dbg = v;
      b.constructedAt = performance.now();
      let last = v.lastAnalysis;
      let state = v.state;
      Object.defineProperty(v, "lastAnalysis", {
        configurable: true, enumerable: true,
        get: () => last,
        set(x) {
          last = x;
          if (x && !b.firstFrameAt) {
            b.firstFrameAt = performance.now();
            b.firstFrame = { faces: (x.faces || []).length, guidance: x.guidance, workerMs: x.workerMs, width: x.width, height: x.height };
          }
        },
      });
      Object.defineProperty(v, "state", {
        configurable: true, enumerable: true,
        get: () => state,
        set(x) { state = x; b.states.push([x, performance.now()]); },
      });
    },
  });
}

async function demoVisits(chromium) {
  devVars();
  const persistDir = mkdtempSync(join(tmpdir(), "openfio-bench-edge-"));
  const edge = new BenchEdge({ persistDir, ownsPersistDir: true });
  log("starting the edge worker (wrangler dev) with the staged demo site");
  await edge.start();
  const proxy = await countingProxy(edge.url);
  const visits = [];

  // One page visit in the browser profile `userDataDir` (new: cold cache; reused: warm).
  async function oneVisit(v, cache, userDataDir) {
    const ctx = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM, headless: true,
      args: [...CHROME_ARGS, `--use-file-for-fake-video-capture=${VIDEO}`],
      viewport: { width: 1024, height: 768 }, timeout: 60_000,
    });
    try {
      const page = ctx.pages()[0] || (await ctx.newPage());
      const errors = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.addInitScript(demoHooks);
      proxy.take();
      // The demo page (www/index.html) builds `new faceIO("demo", {debug})` when its module
      // runs; the driver then clicks "Authenticate User" as soon as the page has loaded.
      await page.goto(`${proxy.url}/?debug`, { waitUntil: "load", timeout: 120_000 });
      await page.evaluate(() => { window.__bench.clickAt = performance.now(); document.getElementById("authenticate").click(); });
      await page.waitForFunction(() => window.__bench.firstFrameAt || window.__openfioDebug?.lastError, null, { timeout: 300_000, polling: 20 });
      const responses = proxy.take();
      const b = await page.evaluate(() => ({ ...window.__bench, lastError: window.__openfioDebug?.lastError || null, engineTimings: window.__openfioDebug?.engineTimings || null }));
      await page.evaluate(() => window.faceio.restartSession()).catch(() => {});
      const st = (name) => b.states.find((s) => s[0] === name)?.[1];
      const rec = {
        visit: v, cache,
        ok: !!b.firstFrameAt, lastError: b.lastError, errors,
        firstFrame: b.firstFrame,
        // performance.now() counts from the navigation start
        navToConstructMs: b.constructedAt,
        constructToFirstFrameMs: b.firstFrameAt - b.constructedAt,
        authenticateToFirstFrameMs: b.firstFrameAt - b.clickAt,
        authenticateToScanningMs: st("capturing") - b.clickAt,
        engineTimings: b.engineTimings,
        navToFirstFrameMs: b.firstFrameAt,
        states: b.states.map(([s, t]) => [s, Math.round(t)]),
        bytes: byteTotals(responses),
        responses: responses.map((r) => ({ path: r.path, status: r.status, type: r.type, encoding: r.encoding, cacheControl: r.cacheControl, wireBytes: r.wireBytes, bodyBytes: r.bodyBytes })),
      };
      if (!rec.ok) throw new Error(`no analysed frame: ${JSON.stringify(b.lastError)}`);
      visits.push(rec);
      log(`visit ${v} ${cache}: new faceIO → first frame ${Math.round(rec.constructToFirstFrameMs)} ms, ` +
        `${(rec.bytes.total.raw / 1e6).toFixed(2)} MB decoded bodies over ${rec.bytes.total.requests} requests`);
    } finally {
      await ctx.close().catch(() => {});
    }
  }

  try {
    for (let v = 0; v < VISITS; v++) {
      let userDataDir = mkdtempSync(join(tmpdir(), "openfio-bench-profile-"));
      try {
        for (const cache of ["cold", "warm"]) {
          for (let attempt = 1; ; attempt++) {
            try {
              await oneVisit(v, cache, userDataDir);
              break;
            } catch (e) {
              const msg = e.message.split("\n")[0];
              log(`visit ${v} ${cache}, attempt ${attempt} failed: ${msg}`);
              proxy.take();
              if (attempt >= 2) {
                visits.push({ visit: v, cache, ok: false, lastError: { message: msg } });
                break;
              }
              if (cache === "cold") {
                // A cold retry needs an empty profile again.
                rmSync(userDataDir, { recursive: true, force: true });
                userDataDir = mkdtempSync(join(tmpdir(), "openfio-bench-profile-"));
              }
            }
          }
        }
      } finally {
        rmSync(userDataDir, { recursive: true, force: true });
      }
    }
  } finally {
    await proxy.close();
    await edge.dispose();
  }
  return visits;
}

// ---------------------------------------------------------------------------------------------
// Report

const f1 = (x) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) : "—");
const mb = (x) => (!Number.isFinite(x) ? "—" : x < 100e3 ? `${(x / 1e3).toFixed(1)} kB` : `${(x / 1e6).toFixed(2)} MB`);
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : "—");

function report(pf, visits, meta) {
  const rows = [];
  const row = (...c) => rows.push(`| ${c.join(" | ")} |`);
  rows.push("| # | measurement | median | p90 | n | ratio |");
  rows.push("|---|---|---|---|---|---|");
  const human = pf.human;
  const humanLabel = human ? `Human ${human.version} (tfjs ${human.tfjs}, ${human.backend}${human.wasm ? `, SIMD ${human.wasm.simd ? "on" : "off"}, threads ${human.wasm.multithread ? "on" : "off"}` : ""}, main thread)` : "Human";
  const groupLabel = { "400x300": "400×300 still frames", "640x480": "640×480 still frame", video640: "640×480 video (cap12 from 2 s, 40 consecutive frames)" };
  for (const [g, mode] of [["400x300", "detect"], ["400x300", "full"], ["640x480", "detect"], ["640x480", "full"], ["video640", "detect"]]) {
    {
      const get = (impl) => pf.impls[`${g}/${mode}/${impl}`];
      if (!get("simd")) continue;
      const m = (impl, k = "ms") => median(get(impl)?.[k] || []);
      const label = `${groupLabel[g]} ${mode === "detect" ? "live view (detect + mesh + guidance)" : "full (detect+template+liveness+age)"}`;
      const tracked = get("track")?.tracked || [];
      const share = `${tracked.filter(Boolean).length}/${tracked.length} frames tracked`;
      const line = (num, name, impl, k, r) => {
        const xs = get(impl)?.[k] || [];
        row(num, `${label}: ${name} (ms)`, f1(median(xs)), f1(p90(xs)), xs.length, r);
      };
      line("2", "native tract (fio_wasm::engine)", "native", "ms", "—");
      line("1", "wasm SIMD, in worker", "simd", "ms", `${ratio(m("simd"), m("native"))} native`);
      if (mode === "detect") line("1", `wasm SIMD with the engine's tracking on (off in the widget; ${share}), in worker`, "track", "ms", `${ratio(m("track"), m("simd"))} untracked`);
      for (const [name, , label] of FLAVOURS) line("1", `wasm ${label}, in worker`, name, "ms", `${ratio(m(name), m("simd"))} SIMD`);
      line("1", "wasm SIMD, round trip from page", "simd", "roundTrip", `${ratio(m("simd", "roundTrip"), m("simd"))} in-worker`);
      if (human) line("3", humanLabel, "human", "ms", `${ratio(m("human"), m("simd"))} wasm SIMD`);
      if (mode === "detect" && get("mediapipe")) {
        const found = (get("mediapipe").faces || []).filter((n) => n === 1).length;
        line("3", `MediaPipe face_mesh 0.4.1657299874 (its SIMD wasm, tracking on, main thread; a face on ${found}/${get("mediapipe").faces.length} frames)`, "mediapipe", "ms", `${ratio(m("mediapipe"), m("simd"))} wasm SIMD`);
      }
    }
  }
  if (!human) row("3", `@vladmandic/human: did not run (${pf.humanError || "unknown"})`, "—", "—", 0, "—");
  if (pf.mediapipeError) row("3", `MediaPipe face_mesh: did not run (${pf.mediapipeError})`, "—", "—", 0, "—");
  for (const [impl, where] of [["simd", "wasm SIMD in the Web Worker"], ["human", "Human on the main thread"]]) {
    const t = pf.throttle?.[impl];
    if (t) row("6", `DevTools CPU throttling 4× vs none, 640×480 live view, ${where} (ms, throttled; ratio = throttled / unthrottled)`, f1(median(t[4])), f1(p90(t[4])), t[4].length, `${ratio(median(t[4]), median(t[1]))}`);
  }
  // Engine start in the bench page's worker: wasm fetch + compile, then the tracker stage, then
  // every stage. SIMD goes first and fetches the models; the others read them from the Cache API.
  for (const [name, label] of [["simd", "SIMD"], ...FLAVOURS.map(([n, , l]) => [n, l])]) {
    const l = pf.load[name];
    if (l) row("1", `engine start, wasm ${label}: to the tracker stage (median col.) / to every stage (p90 col.) (ms)`, f1(l.trackerMs), f1(l.loadMs), 1, "—");
  }

  const ok = visits.filter((v) => v.ok);
  const kb = (x) => (Number.isFinite(x) ? `${(x / 1e3).toFixed(1)} kB` : "—");
  for (const cache of ["cold", "warm"]) {
    const vs = ok.filter((v) => v.cache === cache);
    const tot = (k) => median(vs.map((v) => v.bytes.total[k]));
    const req = median(vs.map((v) => v.bytes.total.requests));
    const nm = median(vs.map((v) => v.bytes.total.notModified));
    const models = median(vs.map((v) => v.bytes.by.models?.requests ?? 0));
    row("4", `${cache} cache: bytes before the first analysed frame, decoded bodies (${req} requests: ${nm} × 304, ${models} model fetches; + ${kb(tot("headers"))} response headers)`, mb(tot("raw")), "—", vs.length, "—");
    if (cache === "cold") {
      row("4", "… as wrangler dev sent them (it gzips every response, models included)", mb(tot("wire")), "—", vs.length, `${ratio(tot("wire"), tot("raw"))} raw`);
      row("4", "… as Cloudflare would serve them: brotli 11 / gzip 9 on wasm, JS, JSON, HTML, CSS; models (.onnx.gz, already gzip) as they are", `${mb(tot("cfBr"))} / ${mb(tot("cfGzip"))}`, "—", vs.length, `br ${ratio(tot("cfBr"), tot("raw"))} raw`);
      const cats = Object.keys(vs[0]?.bytes.by || {});
      const parts = cats.map((c) => `${c} ${mb(median(vs.map((v) => v.bytes.by[c]?.raw ?? 0)))} → br ${mb(median(vs.map((v) => v.bytes.by[c]?.allBr ?? 0)))}`);
      row("4", `… by kind, raw → brotli 11: ${parts.join("; ")}`, "", "", "", "");
    }
  }
  if (human?.bytes) {
    const h = human.bytes.total;
    row("4", `for comparison, Human's download (human.esm.js + tfjs-backend-wasm-simd.wasm + ${human.models.length} face models), raw → Cloudflare br / gzip (its .bin weights uncompressed)`,
      `${mb(h.raw)} → ${mb(h.cfBr)} / ${mb(h.cfGzip)}`, "—", 1, "—");
  }
  for (const cache of ["cold", "warm"]) {
    const vs = ok.filter((v) => v.cache === cache);
    const xs = vs.map((v) => v.constructToFirstFrameMs);
    row("5", `new faceIO("demo") → first analysed frame, ${cache} (ms)`, f1(median(xs)), f1(quantile(xs, 1)) + " (max)", vs.length, "—");
    const ys = vs.map((v) => v.authenticateToScanningMs);
    row("5", `… of which authenticate() → engine ready + camera running (scanning), ${cache} (ms)`, f1(median(ys)), f1(quantile(ys, 1)) + " (max)", vs.length, "—");
    const et = vs.map((v) => v.engineTimings).filter(Boolean);
    for (const [k, what] of [["wasmMs", "wasm fetch + compile + instantiate"], ["modelsMs", "tracker models: download or Cache API + sha256"], ["loadMs", "tracker models: fio-wasm's check + tract parse/optimise"]]) {
      const zs = et.map((e) => e[k]);
      if (zs.length) row("5", `… engine start, ${what}, ${cache} (ms; in the worker, overlaps the camera start)`, f1(median(zs)), f1(quantile(zs, 1)) + " (max)", zs.length, "—");
    }
  }
  const failed = visits.filter((v) => !v.ok);
  if (failed.length) row("5", `visits that never analysed a frame: ${failed.length} (${failed.map((v) => JSON.stringify(v.lastError)).join("; ")})`, "—", "—", failed.length, "—");
  return rows.join("\n");
}

// ---------------------------------------------------------------------------------------------

async function main() {
  if (env.BENCH_RERENDER) {
    // Prints the table of a saved browser.json again (after a change to the formatting only).
    const j = JSON.parse(readFileSync(env.BENCH_RERENDER, "utf8"));
    j.table = report({ ...j.perFrame, impls: j.perFrame.samples }, j.visits, j.meta);
    writeFileSync(env.BENCH_RERENDER, JSON.stringify(j, null, 1));
    console.log(j.table);
    return;
  }
  const pwmod = await import("playwright-core");
  const chromium = (pwmod.chromium ? pwmod : pwmod.default).chromium;
  const frames = JSON.parse(readFileSync(join(BENCH, "frames/frames.json"), "utf8"));
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    chromium: CHROMIUM,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    loadavgStart: loadavg(),
    runs: RUNS,
    warmup: WARMUP,
    visits: VISITS,
    frames,
    detectorSize: 320,
    source: existsSync(join(BENCH, "src.rev")) ? readFileSync(join(BENCH, "src.rev"), "utf8").trim() : null,
  };
  const parts = (env.BENCH_PARTS || "frames,visits").split(",");
  let pf = { impls: {}, load: {}, errors: [] };
  if (parts.includes("frames")) {
    log(`per-frame analysis: ${frames.length} frames, ${RUNS}+ samples per size and mode`);
    pf = await perFrame(chromium, frames);
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(`${OUT}.partial`, JSON.stringify({ meta, perFrame: pf }, null, 1));
  }
  let visits = [];
  if (parts.includes("visits")) {
    log("demo page visits (bytes and time to first analysed frame)");
    visits = await demoVisits(chromium);
  }
  meta.loadavgEnd = loadavg();
  const table = report(pf, visits, meta);
  const summary = {};
  for (const [k, v] of Object.entries(pf.impls)) {
    const stage = {};
    if (v.timings.length) for (const s of Object.keys(v.timings[0])) stage[s] = median(v.timings.map((t) => t[s]));
    summary[k] = {
      median: median(v.ms), p90: p90(v.ms), n: v.ms.length,
      roundTripMedian: v.roundTrip.length ? median(v.roundTrip) : undefined,
      stageMedians: v.timings.length ? stage : undefined,
      facesFound: `${v.faces.filter((n) => n === 1).length}/${v.faces.length} frames with exactly one face`,
      fullResults: `${v.main.filter(Boolean).length}/${v.main.length}`,
    };
  }
  mkdirSync(dirname(OUT), { recursive: true });
  const stripBodies = (vs) => vs.map((v) => ({ ...v }));
  writeFileSync(OUT, JSON.stringify({ meta, table, perFrame: { summary, load: pf.load, throttle: pf.throttle, mediapipe: pf.mediapipe, mediapipeError: pf.mediapipeError, human: pf.human, humanError: pf.humanError, errors: pf.errors, samples: pf.impls }, visits: stripBodies(visits) }, null, 1));
  console.log(table);
  console.log(`\nload average ${meta.loadavgStart.map((x) => x.toFixed(1)).join(" ")} → ${meta.loadavgEnd.map((x) => x.toFixed(1)).join(" ")} on ${meta.cpus} cores; JSON: ${OUT}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
