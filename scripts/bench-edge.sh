#!/usr/bin/env bash
# HTTP load benchmark of the edge worker on loopback:
#   scripts/bench-edge.sh [--self-host [--profile]] [--enroll 10000] [--concurrency 16] [--auth-requests 3000]
#                         [--duration 60] [--url http://127.0.0.1:PORT]
#   scripts/bench-edge.sh --scale [--sizes 10000,100000,1000000] [--shards 1,4,16] [--clients 1,16,64] …
# --scale: sharded galleries of growing size (benches/edge-scale.mjs), self-hosted with the
# gallery test controls on (synthetic seeding, shard restart).
# Default: a private `wrangler dev` (the development server: workerd behind wrangler's proxy and
# inspector). --self-host: the same bundle under scripts/self-host.mjs (workerd through
# Miniflare, no development server), as an operator runs it; --profile adds a V8 CPU profile of
# workerd over the authentication phase (its inspector, loopback only). Builds the CLI (fixture templates)
# and the worker first unless BENCH_SKIP_BUILD=1.
set -euo pipefail
source "$(dirname "$0")/ci/env.sh"
cd "$ROOT"
self_host=0
profile=0
scale=0
if [ "${1:-}" = "--scale" ]; then scale=1; self_host=1; shift; fi
if [ "${1:-}" = "--self-host" ]; then self_host=1; shift; fi
if [ "$self_host" = 1 ] && [ "${1:-}" = "--profile" ]; then profile=1; shift; fi
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  step "cargo build --release -p fio-cli"
  cargo build --release --locked -p fio-cli
  step "build the edge worker"
  (cd edge-worker && bash build.sh)
fi
[ -f edge-worker/.dev.vars ] || (cd edge-worker && bash dev-vars.sh)
step "edge load benchmark"
if [ "$self_host" = 0 ]; then
  exec node benches/edge-load.mjs "$@"
fi
state="$(mktemp -d)"
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port="$(free_port)"
inspect=()
load=()
if [ "$profile" = 1 ]; then
  iport="$(free_port)"
  inspect=(--inspector-port "$iport")
  load=(--inspector-port "$iport")
fi
vars=()
[ "$scale" = 1 ] && vars=(--var GALLERY_TEST_CONTROLS=1)
node scripts/self-host.mjs --secrets edge-worker/.dev.vars --state "$state" --port "$port" \
  --bundle edge-worker/build "${inspect[@]}" "${vars[@]}" >"$state.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$state" "$state.log"' EXIT
for _ in $(seq 1 120); do
  grep -q "listening" "$state.log" && break
  kill -0 "$server" 2>/dev/null || { cat "$state.log" >&2; exit 1; }
  sleep 1
done
grep -q "listening" "$state.log" || { echo "bench-edge: self-host did not start" >&2; cat "$state.log" >&2; exit 1; }
admin="$(sed -n 's/^ADMIN_TOKEN=//p' edge-worker/.dev.vars | tr -d '"')"
if [ "$scale" = 1 ]; then
  node benches/edge-scale.mjs --url "http://127.0.0.1:$port" --admin-token "$admin" "$@"
  exit
fi
node benches/edge-load.mjs --url "http://127.0.0.1:$port" --admin-token "$admin" "${load[@]}" "$@"
