// Shared by the edge benches (edge-load.mjs, edge-scale.mjs): HTTP helpers against a loopback
// edge, latency statistics, a bounded worker pool, and workerd's CPU and memory from /proc.

import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

export const ORIGIN = "https://bench.example.test";

/** Options of a bench app: quotas out of the way, duplicates checked, no PIN prompts. */
export const BENCH_APP_OPTIONS = Object.freeze({
  quotaPerMinute: 1_000_000_000,
  ipQuotaPerMinute: 1_000_000_000,
  preventDuplicates: true,
  livenessMode: "passive",
  alwaysAskPin: false,
  rejectWeakPins: false,
});

/** POST JSON to the edge as a widget on ORIGIN would; `{status, body, text}`. */
export async function post(url, path, json, headers = {}) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: ORIGIN, "cf-connecting-ip": "10.77.0.1", ...headers },
    body: JSON.stringify(json),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** PIDs of the running workerd processes. */
function workerdPids() {
  let pids = [];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return []; // not Linux
  }
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "workerd";
    } catch {
      return false;
    }
  });
}

/** Resident memory of every workerd process together (bytes; 0 when not on Linux). */
export function workerdRssBytes() {
  let total = 0;
  for (const pid of workerdPids()) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // ended meanwhile
    }
  }
  return total;
}

/** CPU ticks (utime+stime, 1/100 s) of every thread of every workerd process, by "pid/tid". */
function workerdThreadTicks() {
  const ticks = new Map();
  for (const pid of workerdPids()) {
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        // Fields after the parenthesised name (which may hold spaces): utime, stime are 14, 15.
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        ticks.set(`${pid}/${tid}`, Number(f[11]) + Number(f[12]));
      }
    } catch {
      // the process or thread ended between readdir and read
    }
  }
  return ticks;
}

/** Busy and total ticks of the whole machine (all cores) from /proc/stat. */
function machineTicks() {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] || 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/**
 * CPU use between `begin()` and `end()`: workerd's busiest thread, all of workerd (also as CPU ms
 * per request), this process, and the whole machine (100 % = every core busy).
 */
export class CpuMeter {
  begin() {
    this.t0 = performance.now();
    this.w0 = workerdThreadTicks();
    this.m0 = machineTicks();
    this.c0 = process.cpuUsage();
  }
  end(requests) {
    const secs = (performance.now() - this.t0) / 1000;
    const w1 = workerdThreadTicks();
    const m1 = machineTicks();
    const c = process.cpuUsage(this.c0);
    let busiest = 0;
    let total = 0;
    for (const [k, v] of w1) {
      const d = (v - (this.w0.get(k) ?? 0)) / 100;
      busiest = Math.max(busiest, d);
      total += d;
    }
    const pct = (x) => `${((100 * x) / secs).toFixed(0)} %`;
    const machine = m1 && this.m0 ? `${((100 * (m1.busy - this.m0.busy)) / (m1.total - this.m0.total)).toFixed(0)} %` : "?";
    this.cols = w1.size
      ? {
          "workerd busiest thread": pct(busiest),
          "workerd all": pct(total),
          "workerd CPU ms/req": ((1000 * total) / requests).toFixed(2),
          "load gen": pct((c.user + c.system) / 1e6),
          machine,
        }
      : {};
  }
}

export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export class Stats {
  constructor(name) {
    this.name = name;
    this.lat = [];
    this.ok = 0;
    this.errors = new Map();
    this.t0 = performance.now();
    this.t1 = this.t0;
  }
  record(ms, ok, why) {
    this.lat.push(ms);
    if (ok) this.ok++;
    else this.errors.set(why, (this.errors.get(why) ?? 0) + 1);
  }
  stop() {
    this.t1 = performance.now();
  }
  row() {
    const s = Float64Array.from(this.lat).sort();
    const cpu = this.cpu?.cols ?? {};
    const secs = (this.t1 - this.t0) / 1000;
    return {
      phase: this.name,
      requests: s.length,
      ok: this.ok,
      errors: [...this.errors].map(([k, v]) => `${k}×${v}`).join(" ") || "-",
      "ops/s": (s.length / secs).toFixed(1),
      "p50 ms": quantile(s, 0.5).toFixed(1),
      "p90 ms": quantile(s, 0.9).toFixed(1),
      "p99 ms": quantile(s, 0.99).toFixed(1),
      "max ms": (s.length ? s[s.length - 1] : NaN).toFixed(1),
      ...cpu,
    };
  }
}

/** Runs `fn(i)` for i in [0, count) on `concurrency` workers until done or `deadline`. */
export async function pool(count, concurrency, deadline, fn) {
  let next = 0;
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return next;
}

export const why = (r) => (r.body?.error ? `${r.status}:${r.body.error}` : `${r.status}`);

/** A session challenge, retrying on 429 (ledger full / quota) with backoff until `deadline`. */
export async function challenge(url, appId, ceremony, deadline, throttled) {
  for (let backoff = 200; ; backoff = Math.min(backoff * 2, 5000)) {
    const r = await post(url, `/v1/${appId}/session`, { ceremony });
    if (r.status === 200) return r.body.challengeId;
    if (r.status !== 429 || performance.now() > deadline) throw new Error(`session: ${r.status} ${r.text.slice(0, 200)}`);
    throttled.n++;
    await sleep(backoff);
  }
}

