#!/usr/bin/env node
// HTTP load benchmark of the edge worker under `wrangler dev` (workerd) on loopback.
//
//   node benches/edge-load.mjs [--url http://127.0.0.1:8788] [--enroll 10000] [--concurrency 16]
//                              [--auth-requests 3000] [--duration 60] [--enroll-timeout 900]
//
// 1. creates an app with raised quotas (preventDuplicates on, liveness passive, no PIN prompts);
// 2. enrolls --enroll synthetic templates (random unit vectors quantised exactly like
//    fio_core::template) plus one real person (obama, from the native pipeline's templates);
// 3. authenticates under concurrent load: each iteration is a fresh `session` + `authenticate`
//    pair; probes alternate between the real person (a photo not used at enrollment → a match)
//    and a random stranger (→ UNRECOGNIZED_FACE, a full 1:N scan too);
// 4. runs two baselines under the same load: GET /status (front worker only, no Durable Object)
//    and POST session (one small Durable Object call), so the gap to authenticate shows where
//    the time goes;
// 5. prints p50/p90/p99/max latency and throughput per phase (ops/s: a "session+X" op is two
//    HTTP requests; "X only" times the second request of each pair), and per phase the CPU used
//    by workerd's busiest thread, by all its threads, and by this load generator (Linux /proc):
//    a busiest thread near 100 % is the single thread that bounds throughput.
//
// Without --url it builds nothing and starts its own wrangler dev on a free loopback port with a
// temporary persist dir (scripts/bench-edge.sh builds first). Bounded by request counts and time.

import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Edge, LIVE } from "../tests/edge/client.mjs";
import { connectProfiler } from "./v8-profile.mjs";
import { BENCH_APP_OPTIONS, CpuMeter, Stats, challenge as challengeAt, pool as poolOf, post as postTo, why } from "./edge-bench-lib.mjs";
import { devVars, startEdge } from "../tests/edge/harness.mjs";
import { faces, rng, syntheticTemplate } from "../tests/edge/templates.mjs";

const { values: opt } = parseArgs({
  options: {
    url: { type: "string" },
    "admin-token": { type: "string" },
    enroll: { type: "string", default: "10000" },
    concurrency: { type: "string", default: "16" },
    "auth-requests": { type: "string", default: "3000" },
    duration: { type: "string", default: "60" },
    "enroll-timeout": { type: "string", default: "900" },
    seed: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
    "inspector-port": { type: "string" },
  },
});
const N = Number(opt.enroll);
const C = Number(opt.concurrency);
const AUTH_N = Number(opt["auth-requests"]);
const DURATION_MS = Number(opt.duration) * 1000;
const ENROLL_TIMEOUT_MS = Number(opt["enroll-timeout"]) * 1000;


let instance = null;
let url = opt.url?.replace(/\/$/, "");
let adminToken = opt["admin-token"] ?? process.env.OPENFIO_EDGE_ADMIN_TOKEN;
if (!url) {
  instance = await startEdge({ build: false });
  url = instance.url;
}
adminToken ??= devVars().ADMIN_TOKEN;
if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(url)) {
  console.error(`refusing to load-test a non-loopback URL: ${url}`);
  process.exit(2);
}

const post = (path, json, headers) => postTo(url, path, json, headers);
const pool = (count, deadline, fn) => poolOf(count, C, deadline, fn);
const challenge = (appId, ceremony, deadline, throttled) => challengeAt(url, appId, ceremony, deadline, throttled);

// --- setup ------------------------------------------------------------------------------------
const F = faces();
const edge = new Edge({ url, adminToken });
/** A bench app (the specs' operator client) with quotas out of the way; exits on failure. */
async function createApp(label) {
  try {
    const app = await edge.createApp({ ...BENCH_APP_OPTIONS }, `bench-${label}-${Date.now()}`);
    return app.publicId;
  } catch (e) {
    console.error("cannot create the app:", e.message);
    await instance?.dispose();
    process.exit(1);
  }
}
const appId = await createApp("gallery");
console.error(`app ${appId} on ${url}; enrolling ${N} synthetic + 1 real template with ${C} workers…`);

// --- phase 1: enrollment -------------------------------------------------------------------------
const rand = rng(Number(opt.seed));
const synth = Array.from({ length: N }, () => syntheticTemplate(rand));
const enrollPair = new Stats("enroll (session+enroll)");
const enrollOnly = new Stats("enroll only");
const throttled = { n: 0 };
const enrollDeadline = performance.now() + ENROLL_TIMEOUT_MS;
let lastReport = performance.now();
const real = await post(`/v1/${appId}/enroll`, {
  challengeId: await challenge(appId, "enroll", enrollDeadline, throttled),
  templates: F.obama.slice(0, 3).map((f) => f.template),
  liveness: LIVE,
  details: { age: 47, gender: "male" },
  payload: { who: "real person" },
  pin: "2749",
});
if (real.status !== 200) throw new Error(`real enrollment failed: ${real.text}`);
const realId = real.body.facialId;

const enrollCpu = new CpuMeter();
enrollPair.cpu = enrollCpu;
enrollCpu.begin();
const enrolled = await pool(N, enrollDeadline, async (i) => {
  const t0 = performance.now();
  let cid;
  try {
    cid = await challenge(appId, "enroll", enrollDeadline, throttled);
  } catch (e) {
    enrollPair.record(performance.now() - t0, false, "session");
    return;
  }
  const t1 = performance.now();
  const r = await post(`/v1/${appId}/enroll`, {
    challengeId: cid,
    templates: [synth[i]],
    liveness: LIVE,
    details: { age: 20 + (i % 50), gender: i % 2 ? "male" : "female" },
    payload: { i },
    pin: String(100000 + i),
  });
  const t2 = performance.now();
  enrollPair.record(t2 - t0, r.status === 200, why(r));
  enrollOnly.record(t2 - t1, r.status === 200, why(r));
  if (t2 - lastReport > 10_000) {
    lastReport = t2;
    console.error(`  … ${enrollPair.ok} enrolled (${throttled.n} throttled sessions)`);
  }
});
enrollPair.stop();
enrollOnly.stop();
enrollCpu.end(enrollPair.lat.length);
console.error(`enrolled ${enrollPair.ok}/${N} synthetic (${enrolled} attempted, ${throttled.n} throttled sessions)`);

// --- phase 2: authentication under load ----------------------------------------------------------
const authPair = new Stats("auth (session+authenticate)");
const authOnly = new Stats("authenticate only");
const authMatch = new Stats("authenticate only: match");
const authMiss = new Stats("authenticate only: no match");
const authThrottled = { n: 0 };
let wrongMatches = 0;
const authDeadline = performance.now() + DURATION_MS;
const probeReal = F.obama[3].template;
const authCpu = new CpuMeter();
authPair.cpu = authCpu;
// With --inspector-port (scripts/bench-edge.sh --self-host --profile): a V8 CPU profile of
// workerd over the authentication phase only.
const profiler = opt["inspector-port"] ? await connectProfiler(Number(opt["inspector-port"])) : null;
await profiler?.start();
authCpu.begin();
await pool(AUTH_N, authDeadline, async (i) => {
  const isReal = i % 2 === 0;
  const template = isReal ? probeReal : syntheticTemplate(rand);
  const t0 = performance.now();
  let cid;
  try {
    cid = await challenge(appId, "authenticate", authDeadline, authThrottled);
  } catch {
    authPair.record(performance.now() - t0, false, "session");
    return;
  }
  const t1 = performance.now();
  const r = await post(`/v1/${appId}/authenticate`, { challengeId: cid, template, liveness: LIVE });
  const t2 = performance.now();
  const ok = isReal ? r.status === 200 && r.body?.facialId === realId : r.body?.error === "UNRECOGNIZED_FACE";
  if (isReal && r.status === 200 && r.body?.facialId !== realId) wrongMatches++;
  authPair.record(t2 - t0, ok, why(r));
  authOnly.record(t2 - t1, ok, why(r));
  (isReal ? authMatch : authMiss).record(t2 - t1, ok, why(r));
});
for (const s of [authPair, authOnly, authMatch, authMiss]) s.stop();
authCpu.end(authPair.lat.length);
const profile = await profiler?.stop();

// --- phase 3: baselines under the same load -------------------------------------------------------
// The front worker alone (no Durable Object, no KV), then one small Durable Object call (a
// challenge: admission, ledger insert, one storage put), each as many requests as authenticate.
async function baseline(name, fn) {
  const stats = new Stats(name);
  stats.cpu = new CpuMeter();
  stats.cpu.begin();
  const deadline = performance.now() + DURATION_MS;
  await pool(AUTH_N, deadline, async () => {
    const t0 = performance.now();
    const r = await fn();
    stats.record(performance.now() - t0, r.status === 200, why(r));
  });
  stats.stop();
  stats.cpu.end(stats.lat.length);
  return stats;
}
const statusOnly = await baseline("baseline: GET /status (front worker only)", async () => {
  const res = await fetch(`${url}/status`);
  return { status: res.status, body: await res.json().catch(() => undefined) };
});
// On an app of its own, so that its unused challenges (open until they expire, and bounded by
// fio_core::challenge::MAX_LIVE_CHALLENGES) stay out of the gallery app's ledger.
const emptyAppId = await createApp("baseline");
const sessionOnly = await baseline("baseline: session (one Durable Object call)", () =>
  post(`/v1/${emptyAppId}/session`, { ceremony: "authenticate" }),
);

// --- report ---------------------------------------------------------------------------------------
const rows = [enrollPair, enrollOnly, authPair, authOnly, authMatch, authMiss, statusOnly, sessionOnly].map((s) =>
  s.row(),
);
const meta = {
  url,
  enrolledSynthetic: enrollPair.ok,
  enrolledReal: 1,
  concurrency: C,
  throttledSessions: throttled.n + authThrottled.n,
  wrongMatches,
  node: process.version,
};
if (opt.json) {
  console.log(JSON.stringify({ meta, rows, profile }, null, 2));
} else {
  console.log(`\nedge load benchmark — ${meta.enrolledSynthetic} synthetic + 1 real enrolled, ${C} concurrent clients, ${url}`);
  console.table(rows);
  if (meta.throttledSessions) console.log(`sessions answered 429 and retried: ${meta.throttledSessions}`);
  if (wrongMatches) console.log(`WRONG MATCHES for the real probe: ${wrongMatches}`);
  if (profile) {
    console.log(
      `\nV8 CPU profile of workerd (${profiler.target}) over the authentication phase: ` +
        `${profile.busyMs.toFixed(0)} ms busy of ${profile.sampledMs.toFixed(0)} ms sampled, ` +
        `${(profile.busyMs / authPair.lat.length).toFixed(2)} ms busy per session+authenticate pair`,
    );
    console.table(profile.kinds);
    console.table(profile.functions);
  }
}
await instance?.dispose();
