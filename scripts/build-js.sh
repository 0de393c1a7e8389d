#!/usr/bin/env bash
# Builds the browser library (@openfio/fiojs) into dist/ and populates the demo site:
#   dist/fio.js           classic <script> (FACEIO's drop-in): globals `faceIO` and `fioErrCode`
#   dist/fio.mjs          ES module, default export faceIO
#   dist/fio.cjs          CommonJS (require), same exports
#   dist/globals.d.ts     TypeScript declarations of the classic script's globals
#   dist/engine-worker.js the face engine Web Worker (module worker)
#   dist/wasm/            fio-wasm's wasm-bindgen output (fio_wasm.js + fio_wasm_bg.wasm)
#   dist/index.d.ts       TypeScript declarations
#   www/fiojs/            copy of dist/ (served by the edge worker at /fiojs/)
#   www/models/           the pipeline's .onnx files, their .onnx.gz copies (what the widget
#                         downloads) + manifest.json (served at /models/)
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
"$ESBUILD" js/index.js "${common[@]}" --format=esm --outfile=dist/fio.mjs
# import.meta is empty in the classic script and in CommonJS: js/faceio.js then uses
# document.currentScript, or asks for edgeUrl.
"$ESBUILD" js/iife.js "${common[@]}" --format=iife --log-override:empty-import-meta=silent \
  --outfile=dist/fio.js
"$ESBUILD" js/index.js "${common[@]}" --format=cjs --platform=neutral \
  --log-override:empty-import-meta=silent --outfile=dist/fio.cjs
"$ESBUILD" js/engine-worker.js "${common[@]}" --format=esm --outfile=dist/engine-worker.js
cp "$PKG/fio_wasm.js" "$PKG/fio_wasm_bg.wasm" dist/wasm/
if [ -f "$PKG/fio_wasm.d.ts" ]; then cp "$PKG/fio_wasm.d.ts" dist/wasm/; fi
cp index.d.ts dist/index.d.ts
cp globals.d.ts dist/globals.d.ts

# The npm package as published (npm-package/, git-ignored; `npm publish npm-package`): the root
# package.json without its contributor-only fields, the integrator README (js/README.md; the
# repository README is the contributors'), the licence, the types and dist/.
rm -rf npm-package
mkdir -p npm-package
node -e '
const p = JSON.parse(require("fs").readFileSync("package.json", "utf8"));
for (const k of ["devDependencies", "scripts", "private"]) delete p[k];
process.stdout.write(JSON.stringify(p, null, 2) + "\n");
' > npm-package/package.json
cp js/README.md npm-package/README.md
cp LICENSE index.d.ts globals.d.ts npm-package/
cp -R dist npm-package/dist

# Demo site (both directories are git-ignored: www/.gitignore).
rm -rf www/fiojs www/models
mkdir -p www/fiojs www/models
cp -R dist/. www/fiojs/
# The models fio-wasm's pipeline uses (its manifest), their .gz copies, and the manifest.
node scripts/stage-models.mjs "$ROOT" "$PKG" "$ROOT/www/models"
ls -la dist dist/wasm | sed 's/^/  /'
echo "==> dist/ and www/fiojs, www/models ready"
