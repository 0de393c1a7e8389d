#!/usr/bin/env node
// Runs every edge spec against ONE shared wrangler dev instance:
//   node tests/edge/run.mjs [--no-build] [spec files…]
// Builds the worker (edge-worker/build.sh) unless --no-build or OPENFIO_EDGE_SKIP_BUILD=1, starts
// it, runs `node --test` on the specs with OPENFIO_EDGE_URL pointing at it, then stops it.
// persistence.test.mjs always starts its own instance (it restarts wrangler). A full run then runs
// the consistency specs (SHARDED) again with every app on 4 gallery shards.

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

// Specs whose requests run the face models inside the worker (edge re-verification) run after
// the others, alone: under wrangler dev a request that overlaps several seconds of synchronous
// inference in the same isolate can be answered 503 "Your worker restarted mid-request" by the
// dev proxy (seen in 5 of 6 full runs once the replay spec added concurrent evidence requests).
const SOLO = new Set(["reverify.test.mjs", "images.test.mjs"]);
const isSolo = (f) => SOLO.has(f.split("/").pop());
const concurrency = process.env.OPENFIO_EDGE_TEST_CONCURRENCY || "4";
// The consistency specs run a second time with every app they create spread over 4 gallery
// shards (parallel duplicate enrollments, deletion, replays, PIN attempts and uniqueness).
const SHARDED = ["duplicates.test.mjs", "delete.test.mjs", "challenge.test.mjs", "pin.test.mjs", "enroll-auth.test.mjs"];
const runSpecs = (files, conc, extraEnv = {}) =>
  files.length === 0
    ? Promise.resolve(0)
    : new Promise((resolve) => {
        const child = spawn(
          process.execPath,
          ["--test", `--test-concurrency=${conc}`, "--test-timeout=240000", ...files],
          {
            cwd: ROOT,
            stdio: "inherit",
            env: { ...process.env, OPENFIO_EDGE_URL: edge.url, OPENFIO_EDGE_LOG_FILE: edge.logFile, OPENFIO_EDGE_SKIP_BUILD: "1", ...extraEnv },
          },
        );
        child.on("exit", (c, sig) => resolve(c ?? (sig ? 1 : 0)));
      });
const shared = await runSpecs(specs.filter((f) => !isSolo(f)), concurrency);
const solo = await runSpecs(specs.filter(isSolo), "1");
const fullRun = args.every((a) => a.startsWith("--"));
let sharded = 0;
if (fullRun && !process.env.OPENFIO_TEST_SHARDS) {
  console.log("\n# consistency specs again, every app on 4 gallery shards");
  sharded = await runSpecs(SHARDED.map((f) => join(dir, f)), concurrency, { OPENFIO_TEST_SHARDS: "4" });
}
const code = shared || solo || sharded;
if (code !== 0 && process.env.OPENFIO_EDGE_PRINT_LOG !== "0") {
  const log = edge.log();
  console.error(`\n---- wrangler log (last 8000 chars) ----\n${log.slice(-8000)}`);
}
await edge.dispose();
process.exit(code);
