#!/usr/bin/env node
// Times harness/dot-kernels' wasm builds inside workerd (Miniflare), as the edge runs its scan;
// ratios are against the portable loop the wasm scan used before its SIMD kernel.
// workerd's clock only advances across I/O, so each measurement is the difference between two
// requests (21 scans and 1 scan of the gallery) timed from outside; best of 5.
//   node benches/dot-kernels.mjs --dir DIR [--faces 100000]   (scripts/bench-dot-kernels.sh)

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";

const { values: opt } = parseArgs({ options: { dir: { type: "string" }, faces: { type: "string", default: "100000" } } });
const FACES = Number(opt.faces);
const script = `
import simd from "./simd128.wasm";
import relaxed from "./relaxed-simd.wasm";
const instances = {};
export default {
  async fetch(req) {
    const u = new URL(req.url);
    const m = u.searchParams.get("m");
    if (!instances[m]) {
      try {
        instances[m] = (await WebAssembly.instantiate(m === "relaxed-simd" ? relaxed : simd)).exports;
      } catch (e) {
        return new Response("unavailable: " + e.message);
      }
      instances[m].setup(${FACES});
    }
    const k = Number(u.searchParams.get("k"));
    const reps = Number(u.searchParams.get("reps"));
    return new Response(String(k === 99 ? instances[m].scan_index(reps) : instances[m].scan(k, reps)));
  },
};`;
const mf = new Miniflare({
  modules: [
    { type: "ESModule", path: "w.mjs", contents: script },
    { type: "CompiledWasm", path: "simd128.wasm", contents: readFileSync(join(opt.dir, "simd128.wasm")) },
    { type: "CompiledWasm", path: "relaxed-simd.wasm", contents: readFileSync(join(opt.dir, "relaxed-simd.wasm")) },
  ],
  compatibilityDate: "2025-06-01",
});
const KERNELS = [
  [4, "fio_core::matching::dot_i8_portable (before: autovectorised loop)"],
  [0, "fio_core::matching::dot_i8 (shipped: dot_i16x8 kernel)"],
  [99, "fio_core TemplateIndex::search (the shipped scan, top 2)"],
  [1, "the shipped kernel with v128.load"],
  [3, "relaxed_dot_i8x16_i7x16 (7-bit rows)"],
];
const rows = [];
let shipped = null;
let reference = null;
for (const build of ["simd128", "relaxed-simd"]) {
  for (const [k, name] of KERNELS) {
    const call = async (reps) => {
      const t0 = performance.now();
      const text = await (await mf.dispatchFetch(`http://bench/?m=${build}&k=${k}&reps=${reps}`)).text();
      return { ms: performance.now() - t0, text };
    };
    const first = await call(1);
    if (first.text.startsWith("unavailable") || first.text === String(-(2 ** 31))) continue;
    // TemplateIndex::search ranks by cosine, not by raw dot: its checksum differs by design.
    if (k !== 99 && reference === null) reference = first.text;
    if (k !== 99 && first.text !== reference) throw new Error(`kernel ${k} (${build}) returned ${first.text}, the shipped one ${reference}`);
    let best = Infinity;
    for (let i = 0; i < 5; i++) {
      const one = await call(1);
      const many = await call(21);
      best = Math.min(best, (many.ms - one.ms) / 20);
    }
    if (k === 4 && build === "simd128") shipped = best;
    rows.push({ build, kernel: name, [`ms / ${FACES} faces`]: best.toFixed(2), "G MAC/s": ((FACES * 192) / best / 1e6).toFixed(1), "speed vs before": (shipped / best).toFixed(2) });
  }
}
await mf.dispose();
console.log(`\nint8 dot product in workerd (Miniflare ${process.version}), ${FACES} faces × 192, every kernel checked against the shipped one`);
console.table(rows);
