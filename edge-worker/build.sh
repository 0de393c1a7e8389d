#!/usr/bin/env bash
# Builds the worker into build/ (build/worker/shim.mjs + wasm) with local tools only:
# worker-build would otherwise download wasm-bindgen, esbuild and wasm-opt from GitHub.
# Idempotent; used as wrangler's [build] command. Needs (see README.md):
#   cargo install worker-build --version 0.8.7 --locked
#   cargo install wasm-bindgen-cli --version 0.2.130 --locked   (= wasm-bindgen in Cargo.lock)
#   npm ci at the repo root (esbuild, binaryen's wasm-opt, wrangler)
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(cd .. && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

need() { command -v "$1" >/dev/null 2>&1 || { echo "build.sh: $1 not found ($2)" >&2; exit 1; }; }
need worker-build "cargo install worker-build --version 0.8.7 --locked"
need wasm-bindgen "cargo install wasm-bindgen-cli --version 0.2.130 --locked"
[ -x "$ROOT/node_modules/.bin/esbuild" ] || { echo "build.sh: run npm ci at the repo root" >&2; exit 1; }
[ -x "$ROOT/node_modules/.bin/wasm-opt" ] || { echo "build.sh: run npm ci at the repo root (binaryen)" >&2; exit 1; }

want="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' "$ROOT/Cargo.lock")"
have="$(wasm-bindgen --version | awk '{print $2}')"
if [ -n "$want" ] && [ "$want" != "$have" ]; then
  echo "build.sh: wasm-bindgen CLI $have != wasm-bindgen $want in Cargo.lock" >&2
  exit 1
fi
rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown

# Edge re-verification and /faceverify, /agecheck load the widget's models from the static
# assets (www/models/, which scripts/build-js.sh fills for the demo site); make sure the ones
# they need are there even when build-js.sh has not run (a fresh clone's edge tests), and are
# the ones the manifest compiled into the worker names (a model rebuilt since is copied again).
mkdir -p "$ROOT/www/models"
for m in retinaface_mnet025 face_landmark mobilefacenet antispoof liveness faceres; do
  cmp -s "$ROOT/models/$m.onnx" "$ROOT/www/models/$m.onnx" || cp "$ROOT/models/$m.onnx" "$ROOT/www/models/"
done

# The worker links tract (fio-vision) like fio-wasm: same RUSTFLAGS and target dir as
# fio-wasm/build.sh's SIMD flavour, and the same profile, so tract is compiled once for both.
export RUSTFLAGS="-C target-feature=+simd128"
source "$ROOT/scripts/wasm-profile.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/wasm-simd"
WASM_BINDGEN_BIN="$(command -v wasm-bindgen)" \
ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild" \
WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt" \
  worker-build --release
