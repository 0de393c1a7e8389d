#!/usr/bin/env bash
# The 1:N scan's int8 dot product in wasm, timed in workerd (Miniflare): the shipped
# fio_core::matching::dot_i8 and its portable loop against candidate kernels (harness/dot-kernels), SIMD and relaxed-SIMD
# builds. Prints one table (ms per 100,000 faces, G multiply-adds/s, ratio to the portable loop).
#   scripts/bench-dot-kernels.sh [--faces 100000]
set -euo pipefail
source "$(dirname "$0")/ci/env.sh"
cd "$ROOT"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
target="${CARGO_TARGET_DIR:-$ROOT/target}/wasm-dot"
for flavour in simd128 relaxed-simd; do
  feats="+simd128"
  [ "$flavour" = relaxed-simd ] && feats="+simd128,+relaxed-simd"
  step "cargo build dot-kernels (wasm32, $feats)"
  RUSTFLAGS="-C target-feature=$feats" CARGO_TARGET_DIR="$target-$flavour" \
    cargo build --release --locked -p dot-kernels --target wasm32-unknown-unknown
  cp "$target-$flavour/wasm32-unknown-unknown/release/dot_kernels.wasm" "$out/$flavour.wasm"
done
step "time the kernels in workerd"
node benches/dot-kernels.mjs --dir "$out" "$@"
