#!/usr/bin/env bash
# Builds the browser module: cargo (wasm32) → wasm-bindgen --target web → wasm-opt.
#   fio-wasm/build.sh [--out DIR] [--no-simd]
# Default output: fio-wasm/pkg/ (SIMD) or fio-wasm/pkg-nosimd/ (--no-simd).
# Each flavour has its own cargo target dir, so building one does not invalidate the other.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
simd=1
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    --no-simd) simd=0; shift ;;
    -h|--help) sed -n 2,5p "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ "$simd" = 1 ]; then
  flavour=simd
  rustflags="-C target-feature=+simd128"
  opt_features=(--enable-simd)
else
  flavour=nosimd
  rustflags=""
  opt_features=()
fi
[ -n "$out" ] || { [ "$simd" = 1 ] && out="$here/pkg" || out="$here/pkg-nosimd"; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# Under the shared cargo target dir (scripts/ci/env.sh), so CI's fresh clones reuse tract's build.
target_dir="${CARGO_TARGET_DIR:-$root/target}/wasm-$flavour"

need() { command -v "$1" >/dev/null 2>&1 || { echo "build.sh: $1 not found ($2)" >&2; exit 1; }; }
need cargo "install Rust"
need wasm-bindgen "cargo install wasm-bindgen-cli --version 0.2.130"
wasm_opt="$root/node_modules/.bin/wasm-opt"
# Debian's binaryen (v108) emits modules that fail at load time; only npm's binaryen is used.
[ -x "$wasm_opt" ] || { echo "build.sh: $wasm_opt missing (npm install in $root)" >&2; exit 1; }

lock_ver="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' "$root/Cargo.lock")"
cli_ver="$(wasm-bindgen --version | awk '{print $2}')"
if [ "$lock_ver" != "$cli_ver" ]; then
  echo "build.sh: wasm-bindgen CLI $cli_ver != crate $lock_ver in Cargo.lock" >&2
  exit 1
fi

source "$root/scripts/wasm-profile.sh"
t0=$(date +%s)
echo "== cargo build ($flavour) → $target_dir"
(cd "$root" && RUSTFLAGS="$rustflags" cargo build --release --target wasm32-unknown-unknown \
  -p fio-wasm --target-dir "$target_dir")
t1=$(date +%s)

raw="$target_dir/wasm32-unknown-unknown/release/fio_wasm.wasm"
echo "== wasm-bindgen → $out"
wasm-bindgen --target web --out-dir "$out" "$raw"

bg="$out/fio_wasm_bg.wasm"
if [ "${FIO_WASM_OPT:-1}" = 0 ]; then
  # Tests may skip the 5-7 minute optimisation pass: it changes size and speed, not behaviour.
  echo "== wasm-opt skipped (FIO_WASM_OPT=0)"
else
echo "== wasm-opt -O3"
# Features the module may use: rustc's wasm32 defaults (bulk memory, non-trapping float-to-int,
# sign extension, multivalue, reference types, mutable globals) plus SIMD when enabled.
"$wasm_opt" -O3 "${opt_features[@]}" --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-multivalue --enable-reference-types \
  "$bg" -o "$bg.opt"
mv "$bg.opt" "$bg"
fi
t2=$(date +%s)

# The optimised module must still compile and instantiate (a broken wasm-opt fails here, not in
# the user's browser).
node --input-type=module -e "
import { readFileSync } from 'node:fs';
const m = await import('$out/fio_wasm.js');
m.initSync({ module: readFileSync('$bg') });
const names = m.manifest().pipeline;
if (!Array.isArray(names) || names.length === 0) throw new Error('manifest() is empty');
console.log('== loads in node: pipeline models', names.join(', '));
"

size=$(stat -c %s "$bg")
gz=$(gzip -9 -c "$bg" | wc -c)
echo "== $flavour: cargo $((t1 - t0)) s, bindgen+opt $((t2 - t1)) s; fio_wasm_bg.wasm $size bytes raw, $gz gzipped (-9)"
