#!/usr/bin/env bash
# rustfmt and clippy, warnings as errors.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo clippy (wasm32: edge-worker) -D warnings"
cargo clippy -p edge-worker --target wasm32-unknown-unknown --locked -- -D warnings
