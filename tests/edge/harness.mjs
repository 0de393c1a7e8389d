// Starts the REAL edge worker under `wrangler dev` (workerd) for the black-box specs.
//
// One instance per process unless OPENFIO_EDGE_URL is set: `tests/edge/run.mjs` (what
// scripts/ci/edge-tests.sh calls) starts one instance, exports OPENFIO_EDGE_URL and
// OPENFIO_EDGE_ADMIN_TOKEN, and every spec file shares it. Run alone (`node --test
// tests/edge/foo.test.mjs`), a spec starts its own instance and stops it when it finishes.
//
// Environment:
//   OPENFIO_EDGE_URL          use an already running worker (no build, no spawn)
//   OPENFIO_EDGE_ADMIN_TOKEN  its admin token (default: ADMIN_TOKEN from edge-worker/.dev.vars)
//   OPENFIO_EDGE_SKIP_BUILD=1 do not run edge-worker/build.sh before spawning
//   OPENFIO_EDGE_DIR          worker directory (default edge-worker/)
//   OPENFIO_EDGE_START_TIMEOUT_MS  how long to wait for wrangler (default 180000)

import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, createWriteStream, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const EDGE_DIR = process.env.OPENFIO_EDGE_DIR || join(ROOT, "edge-worker");
export const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");

/** A free TCP port on 127.0.0.1 (the OS picks it; tiny race before wrangler binds it). */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** Parses a dotenv-style file (KEY=value, optional quotes, # comments). */
export function parseDotenv(text) {
  const out = {};
  for (const line of text.split(/\r?\n/)) {
    const m = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (!m) continue;
    let v = m[2];
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) {
      v = v.slice(1, -1);
    }
    out[m[1]] = v;
  }
  return out;
}

/** Makes sure edge-worker/.dev.vars exists (via dev-vars.sh) and returns its variables. */
export function devVars() {
  const file = join(EDGE_DIR, ".dev.vars");
  if (!existsSync(file)) {
    const script = join(EDGE_DIR, "dev-vars.sh");
    if (!existsSync(script)) throw new Error(`${file} missing and no ${script} to generate it`);
    const r = spawnSync("bash", [script], { cwd: EDGE_DIR, stdio: "inherit" });
    if (r.status !== 0) throw new Error(`dev-vars.sh failed with status ${r.status}`);
  }
  return parseDotenv(readFileSync(file, "utf8"));
}

let built = false;
/** Builds the worker with edge-worker/build.sh (once per process; skipped when asked). */
export function buildWorker() {
  if (built || process.env.OPENFIO_EDGE_SKIP_BUILD === "1") return;
  const script = join(EDGE_DIR, "build.sh");
  if (!existsSync(script)) throw new Error(`${script} does not exist yet`);
  const r = spawnSync("bash", [script], { cwd: EDGE_DIR, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`edge-worker/build.sh failed with status ${r.status}`);
  built = true;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A wrangler dev process serving the worker, restartable on the same persist directory. */
export class EdgeInstance {
  constructor({ persistDir, ownsPersistDir }) {
    this.persistDir = persistDir;
    this.ownsPersistDir = ownsPersistDir;
    this.child = null;
    this.port = null;
    this.url = null;
    this.logFile = null;
    this.logText = "";
  }

  /**
   * A copy of edge-worker/wrangler.toml (plus .dev.vars) in the persist dir, without the `[build]`
   * table and with absolute `main` and assets `directory`: the harness builds once up front, so every start or restart
   * (and parallel instances) do not re-run build.sh and rewrite build/ under a running instance.
   * OPENFIO_EDGE_USE_BUILD_CMD=1 uses the original config instead.
   */
  testConfig() {
    const src = join(EDGE_DIR, "wrangler.toml");
    if (process.env.OPENFIO_EDGE_USE_BUILD_CMD === "1") return src;
    const out = [];
    let inBuild = false;
    for (const line of readFileSync(src, "utf8").split("\n")) {
      const header = line.match(/^\s*\[+([^\]]+)\]+\s*$/);
      if (header) inBuild = header[1].trim() === "build" || header[1].trim().startsWith("build.");
      if (inBuild) continue;
      // `main` and the static-assets `directory` are relative to the config file: make both
      // absolute, since the copy lives elsewhere.
      const path = line.match(/^(\s*(?:main|directory)\s*=\s*)"([^"]+)"(.*)$/);
      out.push(path ? `${path[1]}${JSON.stringify(resolve(EDGE_DIR, path[2]))}${path[3]}` : line);
    }
    const dst = join(this.persistDir, "wrangler.toml");
    writeFileSync(dst, out.join("\n"));
    const vars = join(EDGE_DIR, ".dev.vars");
    if (existsSync(vars)) copyFileSync(vars, join(this.persistDir, ".dev.vars"));
    return dst;
  }

  /** Spawns wrangler dev and waits until the worker answers HTTP. A port taken between
   * freePort() and wrangler's bind (another spec's process got it) is retried on fresh ports. */
  async start() {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce();
      } catch (e) {
        if (attempt >= 3 || !/Address already in use/.test(e.message)) throw e;
      }
    }
  }

  async startOnce() {
    this.port = await freePort();
    const inspectorPort = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.logFile = join(this.persistDir, `wrangler-${Date.now()}.log`);
    const log = createWriteStream(this.logFile);
    this.logText = "";
    const args = [
      "dev",
      "--config", this.testConfig(),
      "--ip", "127.0.0.1",
      "--port", String(this.port),
      "--inspector-port", String(inspectorPort),
      "--persist-to", join(this.persistDir, "state"),
      "--show-interactive-dev-session=false",
      // The webhook spec's receiver listens on http://127.0.0.1: a development-only opt-in.
      "--var", "WEBHOOK_ALLOW_LOCAL_HTTP:true",
      // POST /admin/apps/{id}/gallery/control: seed, restart and fault gallery shards.
      "--var", "GALLERY_TEST_CONTROLS:1",
      // The open demo app is off in wrangler.toml (production default); local runs opt in.
      "--var", "DEMO_APP_ID:demo",
      "--live-reload=false",
      // "log", not "info": the worker's console.log lines (which specs read) are at level "log".
      "--log-level", process.env.OPENFIO_EDGE_LOG_LEVEL || "log",
    ];
    const child = spawn(WRANGLER, args, {
      cwd: EDGE_DIR,
      // Own process group so stop() can kill wrangler *and* its workerd children.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        CI: "1",
        NO_COLOR: "1",
        FORCE_COLOR: "0",
        BROWSER: "none",
      },
    });
    this.child = child;
    const onData = (d) => {
      log.write(d);
      if (this.logText.length < 2_000_000) this.logText += d.toString();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    let exited = null;
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      log.end();
    });
    liveInstances.add(this);

    const timeout = Number(process.env.OPENFIO_EDGE_START_TIMEOUT_MS || 180_000);
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      if (exited) {
        throw new Error(
          `wrangler dev exited early (${JSON.stringify(exited)}); log:\n${this.logText}`,
        );
      }
      try {
        const r = await fetch(`${this.url}/`, { signal: AbortSignal.timeout(2000) });
        await r.arrayBuffer();
        // Any HTTP answer means workerd serves the worker (404 on / is fine).
        return this;
      } catch {
        await sleep(250);
      }
    }
    const text = this.logText;
    await this.stop();
    throw new Error(`wrangler dev did not answer within ${timeout} ms; log:\n${text}`);
  }

  /** Kills the whole process group (wrangler + workerd) and waits for it to exit. */
  async stop() {
    const child = this.child;
    this.child = null;
    liveInstances.delete(this);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    killGroup(child.pid, "SIGTERM");
    const t = setTimeout(() => killGroup(child.pid, "SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
    // workerd may outlive wrangler for a moment; make sure the group is gone.
    killGroup(child.pid, "SIGKILL");
  }

  /** Stops and starts again on the same persist directory (new port). */
  async restart() {
    await this.stop();
    await sleep(300);
    return this.start();
  }

  /** Stops and removes the temporary persist directory. */
  async dispose() {
    await this.stop();
    if (this.ownsPersistDir && !process.env.OPENFIO_EDGE_KEEP_STATE) {
      rmSync(this.persistDir, { recursive: true, force: true });
    }
  }

  log() {
    return this.logText;
  }
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

const liveInstances = new Set();
function killAllSync() {
  for (const inst of liveInstances) {
    if (inst.child) killGroup(inst.child.pid, "SIGKILL");
  }
}
process.on("exit", killAllSync);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    killAllSync();
    process.exit(130);
  });
}

/** Builds (unless skipped) and starts a fresh instance on a new temporary persist directory. */
export async function startEdge({ build = true } = {}) {
  if (build) buildWorker();
  devVars();
  const persistDir = mkdtempSync(join(tmpdir(), "openfio-edge-"));
  const inst = new EdgeInstance({ persistDir, ownsPersistDir: true });
  await inst.start();
  return inst;
}

function adminTokenFromEnvOrDevVars() {
  if (process.env.OPENFIO_EDGE_ADMIN_TOKEN) return process.env.OPENFIO_EDGE_ADMIN_TOKEN;
  const token = devVars().ADMIN_TOKEN;
  if (!token) throw new Error("ADMIN_TOKEN missing from edge-worker/.dev.vars");
  return token;
}

let shared = null;
/**
 * The edge the calling spec should use: `{url, adminToken, instance|null}`.
 * Registers an `after` hook that stops a privately started instance.
 */
/**
 * The shared edge's wrangler log (the worker's console lines): a file, or null when the edge was
 * started elsewhere (OPENFIO_EDGE_URL without OPENFIO_EDGE_LOG_FILE).
 */
export function edgeLogFile() {
  return shared?.instance?.logFile ?? process.env.OPENFIO_EDGE_LOG_FILE ?? null;
}

export async function useEdge() {
  if (shared) return shared;
  if (process.env.OPENFIO_EDGE_URL) {
    shared = {
      url: process.env.OPENFIO_EDGE_URL.replace(/\/$/, ""),
      adminToken: adminTokenFromEnvOrDevVars(),
      instance: null,
    };
    return shared;
  }
  const { after } = await import("node:test");
  const instance = await startEdge();
  after(() => instance.dispose());
  shared = { url: instance.url, adminToken: adminTokenFromEnvOrDevVars(), instance };
  return shared;
}
