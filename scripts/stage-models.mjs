// Stages the models a site serves at /models/: the pipeline's files (fio-wasm's compiled-in
// manifest lists them; each is checked against it), a gzip copy of each (`<file>.gz`, what the
// widget downloads: Cloudflare does not compress application/octet-stream, and DecompressionStream
// restores the exact bytes the sha256 covers), and manifest.json.
//
//   node scripts/stage-models.mjs ROOT WASM_PKG_DIR OUT_DIR
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";

const [root, pkg, out] = process.argv.slice(2);
if (!root || !pkg || !out) throw new Error("usage: node scripts/stage-models.mjs ROOT WASM_PKG_DIR OUT_DIR");
const manifest = JSON.parse(readFileSync(join(root, "models/manifest.json"), "utf8"));
let pipeline = null;
try {
  const wasm = await import(join(pkg, "fio_wasm.js"));
  wasm.initSync({ module: readFileSync(join(pkg, "fio_wasm_bg.wasm")) });
  const m = wasm.manifest();
  pipeline = m.pipeline.map((p) => m.models.find((x) => x.name === p || x.file === p)).filter(Boolean);
} catch (e) {
  console.warn(`stage-models: could not read fio-wasm's manifest (${e.message}); staging every model`);
}
mkdirSync(out, { recursive: true });
const wanted = pipeline || manifest.models;
for (const m of wanted) {
  const src = join(root, "models", m.file);
  if (!existsSync(src)) throw new Error(`models/${m.file} missing`);
  const bytes = readFileSync(src);
  const got = createHash("sha256").update(bytes).digest("hex");
  if (m.sha256 && got !== m.sha256) throw new Error(`models/${m.file}: sha256 ${got} != ${m.sha256}`);
  copyFileSync(src, join(out, m.file));
  // Node writes no timestamp into the gzip header: the same bytes on every build.
  writeFileSync(join(out, `${m.file}.gz`), gzipSync(bytes, { level: 9 }));
}
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2));
console.log(`${out}: ${wanted.map((m) => `${m.file} (+.gz)`).join(", ")}`);
