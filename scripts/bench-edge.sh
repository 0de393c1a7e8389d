#!/usr/bin/env bash
# HTTP load benchmark of the edge worker on loopback (wrangler dev / workerd):
#   scripts/bench-edge.sh [--enroll 10000] [--concurrency 16] [--auth-requests 3000] [--duration 60]
#                         [--url http://127.0.0.1:PORT]   (default: start a private instance)
# Builds the CLI (fixture templates) and the worker first unless BENCH_SKIP_BUILD=1.
set -euo pipefail
source "$(dirname "$0")/ci/env.sh"
cd "$ROOT"
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  step "cargo build --release -p fio-cli"
  cargo build --release --locked -p fio-cli
  step "build the edge worker"
  (cd edge-worker && bash build.sh)
fi
[ -f edge-worker/.dev.vars ] || (cd edge-worker && bash dev-vars.sh)
step "edge load benchmark"
exec node benches/edge-load.mjs "$@"
