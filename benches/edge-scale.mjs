#!/usr/bin/env node
// Scale benchmark of sharded galleries on one loopback edge (scripts/bench-edge.sh --scale):
//
//   node benches/edge-scale.mjs --url URL --admin-token T [--sizes 10000,100000,1000000]
//        [--shards 1,4,16] [--clients 1,16,64] [--duration 15] [--enrolls 400]
//        [--restart-at 100000x4] [--only 1000000x16,…] [--json]
//
// For every gallery size × shard count (skipping those over fio's per-shard capacity), one app:
// 1. seeds the gallery with synthetic faces through POST /admin/apps/{id}/gallery/control
//    (random unit templates sealed and paged like real ones; the edge must run with
//    GALLERY_TEST_CONTROLS=1), and enrolls every real fixture person through the widget API;
// 2. enrolls --enrolls synthetic faces through the widget API at 16 clients (session + enroll,
//    duplicate check across every shard): enrollments per second;
// 3. for each client count, session + authenticate pairs for --duration seconds, probes
//    alternating a real person (another photo → must match that person) and a stranger (→
//    UNRECOGNIZED_FACE): p50/p99 of authenticate alone, logins per second;
// 4. workerd's resident memory per face and per shard (the growth while seeding), the time a
//    shard takes to reload its faces after a restart, and deletion: a real person deleted, then
//    refused at once. The app is deleted afterwards.
// With --restart-at SIZExSHARDS, that configuration also runs 16 clients while shard 1 is
// restarted half-way, and reports what the clients saw.

import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Edge, LIVE } from "../tests/edge/client.mjs";
import { faces, rng, syntheticTemplate } from "../tests/edge/templates.mjs";
import { BENCH_APP_OPTIONS, CpuMeter, Stats, challenge, pool, post, sleep, why, workerdRssBytes } from "./edge-bench-lib.mjs";

const { values: opt } = parseArgs({
  options: {
    url: { type: "string" },
    "admin-token": { type: "string" },
    sizes: { type: "string", default: "10000,100000,1000000" },
    shards: { type: "string", default: "1,4,16" },
    clients: { type: "string", default: "1,16,64" },
    duration: { type: "string", default: "15" },
    enrolls: { type: "string", default: "400" },
    "restart-at": { type: "string", default: "100000x4" },
    only: { type: "string" },
    "per-shard-capacity": { type: "string", default: "120000" },
    json: { type: "boolean", default: false },
  },
});
const url = opt.url?.replace(/\/$/, "");
if (!url || !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(url)) {
  console.error(`edge-scale: --url must be a loopback edge, got ${url}`);
  process.exit(2);
}
const list = (s) => s.split(",").filter(Boolean).map(Number);
const SIZES = list(opt.sizes);
const SHARDS = list(opt.shards);
const CLIENTS = list(opt.clients);
const DURATION_MS = Number(opt.duration) * 1000;
const ENROLLS = Number(opt.enrolls);
const CAPACITY = Number(opt["per-shard-capacity"]);
const ONLY = opt.only ? new Set(opt.only.split(",")) : null;
const SEED_BATCH = 20_000;

const F = faces();
const edge = new Edge({ url, adminToken: opt["admin-token"] });
const PEOPLE = Object.keys(F).filter((p) => p !== "cap13"); // cap12 and cap13: one man, two sessions
const rand = rng(11);
const log = (...a) => console.error(...a);

async function control(appId, body) {
  const r = await edge.admin("POST", `/admin/apps/${appId}/gallery/control`, body);
  if (r.status !== 200) throw new Error(`gallery control ${body.control}: ${r.status} ${r.text.slice(0, 300)}`);
  return r.body.shards;
}

/** Session + authenticate pairs from `clients` workers for DURATION_MS; `during` runs alongside. */
async function authLoad(appId, realIds, clients, during) {
  const pair = new Stats(`auth ${clients}`);
  const only = new Stats("authenticate only");
  const throttled = { n: 0 };
  let wrong = 0;
  const deadline = performance.now() + DURATION_MS;
  pair.cpu = new CpuMeter();
  pair.cpu.begin();
  const side = during?.();
  await pool(Number.MAX_SAFE_INTEGER, clients, deadline, async (i) => {
    const person = i % 2 === 0 ? PEOPLE[(i / 2) % PEOPLE.length] : null;
    const template = person ? F[person][F[person].length > 1 ? 1 : 0].template : syntheticTemplate(rand);
    const t0 = performance.now();
    let cid;
    try {
      cid = await challenge(url, appId, "authenticate", deadline + 10_000, throttled);
    } catch {
      pair.record(performance.now() - t0, false, "session");
      return;
    }
    const t1 = performance.now();
    const r = await post(url, `/v1/${appId}/authenticate`, { challengeId: cid, template, liveness: LIVE });
    const t2 = performance.now();
    const ok = person ? r.status === 200 && r.body?.facialId === realIds[person] : r.body?.error === "UNRECOGNIZED_FACE";
    if (r.status === 200 && (!person || r.body?.facialId !== realIds[person])) wrong++;
    pair.record(t2 - t0, ok, why(r));
    only.record(t2 - t1, ok, why(r));
  });
  pair.stop();
  only.stop();
  pair.cpu.end(pair.lat.length);
  const sideResult = await side;
  return { pair: pair.row(), only: only.row(), wrong, side: sideResult };
}

async function runConfig(size, shards, restart) {
  const label = `${size}x${shards}`;
  const rss0 = workerdRssBytes();
  const app = await edge.createApp({ ...BENCH_APP_OPTIONS }, `scale-${label}-${Date.now()}`, { galleryShards: shards });
  const appId = app.publicId;
  const realIds = {};
  for (const p of PEOPLE) {
    const r = await post(url, `/v1/${appId}/enroll`, {
      challengeId: await challenge(url, appId, "enroll", performance.now() + 60_000, { n: 0 }),
      templates: [F[p][0].template],
      liveness: LIVE,
      details: { age: 40, gender: "male" },
      pin: String(200000 + PEOPLE.indexOf(p)),
    });
    if (r.status !== 200) throw new Error(`enroll ${p}: ${r.text}`);
    realIds[p] = r.body.facialId;
  }
  const synthetic = size - PEOPLE.length - ENROLLS;
  const seedStart = performance.now();
  for (let done = 0, batch = 0; done < synthetic; batch++) {
    const count = Math.min(SEED_BATCH, synthetic - done);
    await control(appId, { control: "seed", count, seed: size * 1000 + batch });
    done += count;
    if (batch % 10 === 9) log(`  ${label}: seeded ${done}/${synthetic}`);
  }
  const seedSecs = (performance.now() - seedStart) / 1000;

  // Widget-API enrollments at 16 clients: the duplicate check fans out to every shard.
  const enroll = new Stats("enroll");
  const throttled = { n: 0 };
  const enrollDeadline = performance.now() + 300_000;
  await pool(ENROLLS, 16, enrollDeadline, async (i) => {
    const t0 = performance.now();
    const cid = await challenge(url, appId, "enroll", enrollDeadline, throttled);
    const r = await post(url, `/v1/${appId}/enroll`, {
      challengeId: cid,
      templates: [syntheticTemplate(rand)],
      liveness: LIVE,
      details: { age: 30, gender: "female" },
      pin: String(300000 + i),
    });
    enroll.record(performance.now() - t0, r.status === 200, why(r));
  });
  enroll.stop();
  const inspected = await control(appId, { control: "inspect" });
  const faces = inspected.reduce((n, s) => n + s.faces, 0);
  const heap = inspected.reduce((n, s) => n + s.heapBytes, 0);
  const rss = workerdRssBytes() - rss0;

  const loads = [];
  for (const c of CLIENTS) {
    log(`  ${label}: ${c} clients…`);
    loads.push({ clients: c, ...(await authLoad(appId, realIds, c)) });
  }
  let restartRun = null;
  if (restart) {
    const k = Math.min(1, shards - 1);
    log(`  ${label}: 16 clients, shard ${k} restarted half-way…`);
    restartRun = await authLoad(appId, realIds, 16, async () => {
      await sleep(DURATION_MS / 2);
      const t0 = performance.now();
      const [s] = await control(appId, { control: "restart", shard: k });
      return { shard: k, reloadMs: s.loadMs, controlMs: performance.now() - t0, faces: s.faces };
    });
  }
  const [reloaded] = await control(appId, { control: "restart", shard: 0 });

  // Deletion at this size: the person is refused at once.
  const del = await app.rest("deletefacialid", { fid: realIds.obama });
  const after = await post(url, `/v1/${appId}/authenticate`, {
    challengeId: await challenge(url, appId, "authenticate", performance.now() + 60_000, { n: 0 }),
    template: F.obama[1].template,
    liveness: LIVE,
  });
  const deletedOk = del.status === 200 && after.body?.error === "UNRECOGNIZED_FACE";
  const gone = await edge.admin("DELETE", `/admin/apps/${appId}`);
  return {
    size,
    shards,
    faces,
    seedSecs,
    enroll: enroll.row(),
    rssPerFace: rss / faces,
    heapPerFace: heap / faces,
    heapPerShard: heap / shards,
    rssPerShard: rss / shards,
    reloadMs: reloaded.loadMs,
    reloadFaces: reloaded.faces,
    loads,
    restartRun,
    deletedOk,
    appDeleted: gone.status === 200,
  };
}

const results = [];
for (const size of SIZES) {
  for (const shards of SHARDS) {
    const label = `${size}x${shards}`;
    if (ONLY && !ONLY.has(label)) continue;
    if (size / shards > CAPACITY) {
      results.push({ size, shards, skipped: `${Math.ceil(size / shards)} faces per shard > capacity ${CAPACITY}` });
      continue;
    }
    log(`${label}: seeding ${size} faces over ${shards} shard(s)…`);
    results.push(await runConfig(size, shards, opt["restart-at"] === label));
  }
}

if (opt.json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const rows = [];
  for (const r of results) {
    if (r.skipped) {
      rows.push({ faces: r.size, shards: r.shards, clients: "-", note: r.skipped });
      continue;
    }
    for (const l of r.loads) {
      rows.push({
        faces: r.faces,
        shards: r.shards,
        clients: l.clients,
        "logins/s": l.pair["ops/s"],
        "auth p50 ms": l.only["p50 ms"],
        "auth p99 ms": l.only["p99 ms"],
        errors: l.pair.errors,
        wrong: l.wrong,
        "workerd busiest": l.pair["workerd busiest thread"],
        "enroll/s (16)": r.enroll["ops/s"],
        "enrolled ok": `${r.enroll.ok}/${r.enroll.requests}`,
        "heap MB/shard": (r.heapPerShard / 2 ** 20).toFixed(1),
        "heap B/face": r.heapPerFace.toFixed(0),
        "RSS growth B/face": r.rssPerFace.toFixed(0),
        "reload ms": `${r.reloadMs} (${r.reloadFaces})`,
        "seed s": r.seedSecs.toFixed(0),
        "delete ok": r.deletedOk && r.appDeleted,
      });
    }
  }
  console.log(`\nedge scale benchmark — ${url}, ${DURATION_MS / 1000} s per load, ${PEOPLE.length} real people among synthetic faces`);
  console.table(rows);
  for (const r of results.filter((x) => x.restartRun)) {
    const rr = r.restartRun;
    console.log(
      `\nshard restart mid-load (${r.faces} faces, ${r.shards} shards, 16 clients): shard ${rr.side.shard} reloaded ` +
        `${rr.side.faces} faces in ${rr.side.reloadMs} ms (control call ${rr.side.controlMs.toFixed(0)} ms); ` +
        `clients saw ${rr.pair.requests} logins, ${rr.pair.ok} ok, errors: ${rr.pair.errors}, wrong matches: ${rr.wrong}, ` +
        `authenticate p50 ${rr.only["p50 ms"]} ms, p99 ${rr.only["p99 ms"]} ms, max ${rr.only["max ms"]} ms`,
    );
  }
}
