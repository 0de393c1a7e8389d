#!/usr/bin/env node
// Self-hosts the edge outside Cloudflare, without a development server: the worker bundle
// `wrangler deploy` would upload, run by workerd (the open-source Workers runtime) through
// Miniflare, which supplies what workerd alone does not: Workers KV, the static-assets router
// and the ASSETS binding. Durable Object storage (SQLite) and KV persist under --state, so a
// restart keeps every app, template and challenge. No file watching, no rebuilds, no inspector.
//
//   node scripts/self-host.mjs --secrets FILE [--state DIR] [--host H] [--port P]
//                              [--bundle DIR] [--var NAME=VALUE]...
//
//   --secrets FILE  dotenv file with ADMIN_TOKEN, TEMPLATE_KEY, PIN_PEPPER (required; keep it
//                   outside the repo, mode 600; edge-worker/.dev.vars.example shows the format)
//   --state DIR     durable state (default .state/self-host)
//   --bundle DIR    a `wrangler deploy --dry-run --outdir DIR` output, or edge-worker/build
//                   (default: builds one into STATE/bundle with wrangler deploy --dry-run)
//   --var N=V       overrides a [vars] entry of edge-worker/wrangler.toml (e.g.
//                   CLIENT_IP_HEADER=x-forwarded-for behind a reverse proxy)
//   --inspector-port P  opens workerd's V8 inspector on loopback port P (CPU profiles:
//                   `scripts/bench-edge.sh --self-host --profile`); never expose it
// Prints "openfio edge listening on http://HOST:PORT" once it serves; SIGTERM/SIGINT stop it.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const EDGE = join(ROOT, "edge-worker");

function fail(msg) {
  console.error(`self-host: ${msg}`);
  process.exit(2);
}

const opts = { state: join(ROOT, ".state/self-host"), host: "127.0.0.1", port: 8787, vars: {} };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => argv[++i] ?? fail(`${a} needs a value`);
  if (a === "--secrets") opts.secrets = resolve(val());
  else if (a === "--state") opts.state = resolve(val());
  else if (a === "--inspector-port") opts.inspectorPort = Number(val());
  else if (a === "--bundle") opts.bundle = resolve(val());
  else if (a === "--host") opts.host = val();
  else if (a === "--port") opts.port = Number(val());
  else if (a === "--var") {
    const kv = val();
    const eq = kv.indexOf("=");
    if (eq <= 0) fail(`--var wants NAME=VALUE, got ${kv}`);
    opts.vars[kv.slice(0, eq)] = kv.slice(eq + 1);
  } else fail(`unknown argument ${a}`);
}
if (!opts.secrets) fail("--secrets FILE is required (ADMIN_TOKEN, TEMPLATE_KEY, PIN_PEPPER)");
if (!existsSync(opts.secrets)) fail(`${opts.secrets} does not exist`);
if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) fail("--port must be 0..65535");
if (opts.inspectorPort !== undefined && !(Number.isInteger(opts.inspectorPort) && opts.inspectorPort > 0 && opts.inspectorPort < 65536)) {
  fail("--inspector-port must be 1..65535");
}

/** KEY=value lines (# comments, optional quotes). */
function dotenv(text) {
  const out = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (!m) continue;
    out[m[1]] = m[2].replace(/^(['"])(.*)\1$/, "$2");
  }
  return out;
}

/**
 * What the worker needs from wrangler.toml: compatibility date, [vars] (flat `NAME = "value"`
 * lines) and the assets directory. The bindings' names are fixed by the code (FACES, APP_INDEX,
 * ASSETS), and checked below against the file so the two cannot drift.
 */
function wranglerConfig() {
  const text = readFileSync(join(EDGE, "wrangler.toml"), "utf8");
  const cfg = { vars: {}, compatibilityDate: null, assets: null };
  let table = "";
  for (const line of text.split("\n")) {
    const header = line.match(/^\s*\[+([^\]]+)\]+\s*$/);
    if (header) {
      table = header[1].trim();
      continue;
    }
    const kv = line.match(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"([^"]*)"\s*(#.*)?$/);
    if (!kv) continue;
    if (table === "" && kv[1] === "compatibility_date") cfg.compatibilityDate = kv[2];
    if (table === "vars") cfg.vars[kv[1]] = kv[2];
    if (table === "assets" && kv[1] === "directory") cfg.assets = resolve(EDGE, kv[2]);
  }
  for (const needle of ['binding = "FACES"', 'name = "APP_INDEX", class_name = "AppIndex"', 'binding = "ASSETS"']) {
    if (!text.includes(needle)) fail(`edge-worker/wrangler.toml no longer has ${needle}: update scripts/self-host.mjs`);
  }
  if (!cfg.compatibilityDate || !cfg.assets) fail("cannot read compatibility_date / [assets] directory from wrangler.toml");
  return cfg;
}

const cfg = wranglerConfig();
let bundle = opts.bundle;
if (!bundle) {
  bundle = join(opts.state, "bundle");
  console.log(`self-host: bundling with wrangler deploy --dry-run --outdir ${bundle}`);
  const r = spawnSync(join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", bundle], {
    cwd: EDGE,
    stdio: "inherit",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  if (r.status !== 0) fail("wrangler deploy --dry-run failed");
}
const entry = ["shim.js", "index.js"].map((f) => join(bundle, f)).find(existsSync);
if (!entry) fail(`${bundle} holds neither shim.js (wrangler --dry-run) nor index.js (edge-worker/build)`);
if (!readdirSync(bundle).some((f) => f.endsWith(".wasm"))) fail(`${bundle} has no .wasm`);
if (!existsSync(join(cfg.assets, "models"))) {
  fail(`${cfg.assets} lacks models/: run edge-worker/build.sh (or scripts/build-js.sh)`);
}
if (!existsSync(join(cfg.assets, "fiojs", "fio.js"))) {
  // The API works without it; only pages that load the widget from this edge need it.
  console.warn(`self-host: ${cfg.assets}/fiojs/fio.js missing: the widget library is not served (run scripts/build-js.sh)`);
}

mkdirSync(opts.state, { recursive: true });
const secrets = dotenv(readFileSync(opts.secrets, "utf8"));
const mf = new Miniflare({
  name: "openfio-edge",
  modules: true,
  scriptPath: entry,
  modulesRoot: bundle,
  modulesRules: [
    { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
    { type: "CompiledWasm", include: ["**/*.wasm"] },
  ],
  compatibilityDate: cfg.compatibilityDate,
  bindings: { ...cfg.vars, ...opts.vars, ...secrets },
  kvNamespaces: ["FACES"],
  durableObjects: { APP_INDEX: { className: "AppIndex", useSQLite: true } },
  assets: {
    directory: cfg.assets,
    binding: "ASSETS",
    routerConfig: { has_user_worker: true },
    assetConfig: { not_found_handling: "none" },
  },
  kvPersist: join(opts.state, "kv"),
  durableObjectsPersist: join(opts.state, "do"),
  cachePersist: join(opts.state, "cache"),
  host: opts.host,
  port: opts.port,
  inspectorPort: opts.inspectorPort,
});
const url = await mf.ready;
console.log(`openfio edge listening on ${url.origin} (state in ${opts.state})`);

let stopping = false;
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    await mf.dispose();
    process.exit(0);
  });
}
