#!/usr/bin/env bash
# Builds the browser library (@openfio/fiojs) into dist/ and populates the demo site:
#   dist/fio.js           ES module, default export faceIO
#   dist/fio.iife.js      classic <script>, global `faceIO`
#   dist/engine-worker.js the face engine Web Worker (module worker)
#   dist/wasm/            fio-wasm's wasm-bindgen output (fio_wasm.js + fio_wasm_bg.wasm)
#   dist/index.d.ts       TypeScript declarations
#   www/fiojs/            copy of dist/ (served by the edge worker at /fiojs/)
#   www/models/           the pipeline's .onnx files + manifest.json (served at /models/)
# Builds fio-wasm first (fio-wasm/build.sh) when fio-wasm/pkg is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
ESBUILD="$ROOT/node_modules/.bin/esbuild"
[ -x "$ESBUILD" ] || { echo "build-js.sh: run npm ci at the repo root (esbuild)" >&2; exit 1; }

# FIO_WASM_PKG: use another wasm-bindgen output directory (default fio-wasm/pkg).
PKG="${FIO_WASM_PKG:-fio-wasm/pkg}"
if [ ! -f "$PKG/fio_wasm.js" ] || [ ! -f "$PKG/fio_wasm_bg.wasm" ]; then
  [ -z "${FIO_WASM_PKG:-}" ] || { echo "build-js.sh: $PKG has no fio_wasm.js/fio_wasm_bg.wasm" >&2; exit 1; }
  echo "==> fio-wasm/pkg missing: bash fio-wasm/build.sh"
  bash fio-wasm/build.sh
fi
PKG="$(cd "$PKG" && pwd)"

rm -rf dist
mkdir -p dist/wasm
common=(--bundle --target=es2020 --legal-comments=none --log-level=warning)
minify=${FIOJS_MINIFY:-1}
[ "$minify" = 1 ] && common+=(--minify)
"$ESBUILD" js/index.js "${common[@]}" --format=esm --outfile=dist/fio.js
"$ESBUILD" js/iife.js "${common[@]}" --format=iife --global-name=faceIO \
  --footer:js='faceIO=faceIO.default;' --log-override:empty-import-meta=silent --outfile=dist/fio.iife.js
"$ESBUILD" js/engine-worker.js "${common[@]}" --format=esm --outfile=dist/engine-worker.js
cp "$PKG/fio_wasm.js" "$PKG/fio_wasm_bg.wasm" dist/wasm/
if [ -f "$PKG/fio_wasm.d.ts" ]; then cp "$PKG/fio_wasm.d.ts" dist/wasm/; fi
cp index.d.ts dist/index.d.ts

# Demo site (both directories are git-ignored: www/.gitignore).
rm -rf www/fiojs www/models
mkdir -p www/fiojs www/models
cp -R dist/. www/fiojs/
# The models fio-wasm's pipeline uses (its manifest), plus the manifest itself.
node --input-type=module - "$ROOT" "$PKG" <<'JS'
import { copyFileSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
const [root, pkg] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(join(root, "models/manifest.json"), "utf8"));
let pipeline = null;
try {
  const wasm = await import(join(pkg, "fio_wasm.js"));
  const bytes = readFileSync(join(pkg, "fio_wasm_bg.wasm"));
  wasm.initSync({ module: bytes });
  const m = wasm.manifest();
  pipeline = m.pipeline.map((p) => m.models.find((x) => x.name === p || x.file === p)).filter(Boolean);
} catch (e) {
  console.warn(`build-js.sh: could not read fio-wasm's manifest (${e.message}); copying every model`);
}
const wanted = pipeline || manifest.models;
for (const m of wanted) {
  const src = join(root, "models", m.file);
  if (!existsSync(src)) throw new Error(`models/${m.file} missing`);
  const got = createHash("sha256").update(readFileSync(src)).digest("hex");
  if (m.sha256 && got !== m.sha256) throw new Error(`models/${m.file}: sha256 ${got} != ${m.sha256}`);
  copyFileSync(src, join(root, "www/models", m.file));
}
writeFileSync(join(root, "www/models/manifest.json"), JSON.stringify(manifest, null, 2));
console.log(`www/models: ${wanted.map((m) => m.file).join(", ")}`);
JS
ls -la dist dist/wasm | sed 's/^/  /'
echo "==> dist/ and www/fiojs, www/models ready"
