#!/usr/bin/env node
// Runs every edge spec against ONE shared wrangler dev instance:
//   node tests/edge/run.mjs [--no-build] [spec files…]
// Builds the worker (edge-worker/build.sh) unless --no-build or OPENFIO_EDGE_SKIP_BUILD=1, starts
// it, runs `node --test` on the specs with OPENFIO_EDGE_URL pointing at it, then stops it.
// persistence.test.mjs always starts its own instance (it restarts wrangler).

import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT, startEdge } from "./harness.mjs";
import { faces } from "./templates.mjs";

const args = process.argv.slice(2);
const noBuild = args.includes("--no-build") || process.env.OPENFIO_EDGE_SKIP_BUILD === "1";
const dir = join(ROOT, "tests/edge");
let specs = args.filter((a) => !a.startsWith("--"));
if (specs.length === 0) {
  specs = readdirSync(dir).filter((f) => f.endsWith(".test.mjs")).sort().map((f) => join(dir, f));
}

// Compute the fixture templates once before the spec processes start (they share the cache).
faces();
const edge = await startEdge({ build: !noBuild });
console.log(`edge worker up at ${edge.url} (state in ${edge.persistDir})`);

const concurrency = process.env.OPENFIO_EDGE_TEST_CONCURRENCY || "4";
const child = spawn(
  process.execPath,
  ["--test", `--test-concurrency=${concurrency}`, "--test-timeout=240000", ...specs],
  {
    cwd: ROOT,
    stdio: "inherit",
    env: { ...process.env, OPENFIO_EDGE_URL: edge.url, OPENFIO_EDGE_LOG_FILE: edge.logFile, OPENFIO_EDGE_SKIP_BUILD: "1" },
  },
);
const code = await new Promise((r) => child.on("exit", (c, s) => r(c ?? (s ? 1 : 0))));
if (code !== 0 && process.env.OPENFIO_EDGE_PRINT_LOG !== "0") {
  const log = edge.log();
  console.error(`\n---- wrangler log (last 8000 chars) ----\n${log.slice(-8000)}`);
}
await edge.dispose();
process.exit(code);
