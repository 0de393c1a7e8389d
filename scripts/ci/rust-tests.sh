#!/usr/bin/env bash
# Unit and integration tests of the Rust workspace, on the real models and fetched photos.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
step "cargo test"
cargo test --workspace --locked
