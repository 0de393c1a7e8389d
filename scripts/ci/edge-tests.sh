#!/usr/bin/env bash
# Black-box tests of the edge worker under `wrangler dev` (workerd): builds the native CLI (for real
# face templates) and the worker, then runs tests/edge/*.test.mjs against one shared instance
# (tests/edge/run.mjs starts and stops it; persistence.test.mjs runs its own to restart it).
# OPENFIO_EDGE_SKIP_BUILD=1 reuses an existing edge-worker/build/ (local iteration only).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

# The test profile's build (deps at opt-level 3, see Cargo.toml) is fast enough for a few dozen
# photos and is already built by rust-tests.sh, so CI compiles tract once, not twice.
step "cargo build --workspace --bins (fio for fixture templates, fio-eval for evidence crops)"
# --workspace: the same feature set as `cargo test --workspace`, so this reuses its build instead
# of recompiling tract with `-p fio-cli`'s narrower features.
cargo build --locked --workspace --bins
export FIO_BIN="$CARGO_TARGET_DIR/debug/fio"
export FIO_EVAL_BIN="$CARGO_TARGET_DIR/debug/fio-eval"

if [ ! -d fixtures/data/face_recognition ] || [ ! -d fixtures/data/frames ]; then
  step "fetch fixtures"
  bash fixtures/fetch.sh
fi

if [ ! -x node_modules/.bin/wrangler ]; then
  step "npm ci (wrangler)"
  npm ci --no-audit --no-fund
fi

if [ "${OPENFIO_EDGE_SKIP_BUILD:-0}" != 1 ]; then
  step "build the edge worker"
  (cd edge-worker && bash build.sh)
fi
if [ ! -f edge-worker/.dev.vars ]; then
  (cd edge-worker && bash dev-vars.sh)
fi

step "edge black-box tests (node --test tests/edge/)"
export OPENFIO_EDGE_SKIP_BUILD=1
node tests/edge/run.mjs --no-build
