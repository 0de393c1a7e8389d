#!/usr/bin/env bash
# rustfmt and clippy, warnings as errors.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
