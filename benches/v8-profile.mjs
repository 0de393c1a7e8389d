// A V8 CPU profile of workerd over its inspector (Chrome DevTools Protocol), summarised as the
// functions and the kinds of work that took the CPU. Used by benches/edge-load.mjs --profile.
// EDGE_PROFILE_OUT=FILE also writes the raw .cpuprofile.

import { writeFileSync } from "node:fs";
import WebSocket from "ws";

/** Kinds of work, by function name (the worker's wasm keeps Rust names in its name section). */
const KINDS = [
  ["1:N scan", /matching|dot_i8|best_two/],
  ["ES256 / P-256", /p256|ecdsa|elliptic_curve|primeorder|crypto_bigint/],
  ["AES-GCM / HKDF / SHA-2 / HMAC", /aes|gcm|ghash|polyval|hkdf|sha2|hmac|digest/i],
  ["JSON (serde_json)", /serde_json|serde::|serde_wasm_bindgen/],
  ["base64", /base64/],
  ["wasm-bindgen / JS glue", /wasm_bindgen|js_sys|web_sys|__wbg|__wbindgen/],
  ["allocator / memcpy", /dlmalloc|alloc::|memcpy|memmove|memset|RawVec/],
  ["garbage collector", /^\(garbage collector\)$/],
  ["idle", /^\(idle\)$/],
  ["V8 / workerd runtime (no JS frame)", /^\((program|root)\)$/],
];

function kindOf(name) {
  for (const [kind, re] of KINDS) if (re.test(name)) return kind;
  return null;
}

/** Rust legacy-mangled names (`_ZN...E`) to `a::b::c`, hash dropped; others unchanged. */
export function demangle(name) {
  const m = /^_ZN(.*)E$/.exec(name);
  if (!m) return name;
  const parts = [];
  let rest = m[1];
  while (rest.length) {
    const len = /^(\d+)/.exec(rest);
    if (!len) break;
    const n = Number(len[1]);
    parts.push(rest.slice(len[1].length, len[1].length + n));
    rest = rest.slice(len[1].length + n);
  }
  if (parts.length && /^h[0-9a-f]{16}$/.test(parts[parts.length - 1])) parts.pop();
  return parts.join("::").replace(/\$LT\$/g, "<").replace(/\$GT\$/g, ">").replace(/\$u20\$/g, " ")
    .replace(/\$RF\$/g, "&").replace(/\$C\$/g, ",").replace(/\.\./g, "::");
}

/** Connects to the first inspector target at `port`; `start()` then `stop()` → summary. */
export async function connectProfiler(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl) ?? null;
  if (!target) throw new Error(`no inspector target on port ${port}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((res, rej) => {
    ws.once("open", res);
    ws.once("error", rej);
  });
  let next = 1;
  const pending = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.id && pending.has(msg.id)) {
      const { res, rej } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) rej(new Error(`${msg.error.message}`));
      else res(msg.result);
    }
  });
  const call = (method, params = {}) =>
    new Promise((res, rej) => {
      const id = next++;
      pending.set(id, { res, rej });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    target: target.title ?? target.id,
    async start() {
      await call("Profiler.enable");
      await call("Profiler.setSamplingInterval", { interval: 200 });
      await call("Profiler.start");
    },
    async stop() {
      const { profile } = await call("Profiler.stop");
      ws.close();
      // The raw profile opens in Chrome DevTools (Performance → Load profile).
      if (process.env.EDGE_PROFILE_OUT) writeFileSync(process.env.EDGE_PROFILE_OUT, JSON.stringify(profile));
      return summarise(profile);
    },
  };
}

/** Self time per function and per kind of work, ms and share of the sampled time. */
export function summarise(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  const deltas = profile.timeDeltas ?? [];
  profile.samples.forEach((id, i) => {
    const dt = deltas[i + 1] ?? 0; // a sample's time runs until the next one
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  });
  const fn = new Map();
  let total = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    const cf = node.callFrame;
    const name = demangle(cf.functionName || `(anonymous ${cf.url.split("/").pop() || "?"})`);
    fn.set(name, (fn.get(name) ?? 0) + us);
    total += us;
  }
  const kinds = new Map();
  for (const [name, us] of fn) {
    const kind = kindOf(name) ?? (/^[a-z_][\w]*::/.test(name) ? "other Rust" : "other JS / runtime");
    kinds.set(kind, (kinds.get(kind) ?? 0) + us);
  }
  const busy = total - (kinds.get("idle") ?? 0);
  const row = ([name, us]) => ({
    what: name.length > 110 ? `${name.slice(0, 107)}…` : name,
    "self ms": (us / 1000).toFixed(0),
    "% of busy": name === "idle" ? "-" : `${((100 * us) / busy).toFixed(1)} %`,
  });
  return {
    sampledMs: total / 1000,
    busyMs: busy / 1000,
    kinds: [...kinds].sort((a, b) => b[1] - a[1]).map(row),
    functions: [...fn].filter(([n]) => n !== "(idle)").sort((a, b) => b[1] - a[1]).slice(0, 25).map(row),
  };
}
