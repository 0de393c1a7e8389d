#!/usr/bin/env bash
# The main job: builds the edge worker and serves it, with the demo site, on
# http://127.0.0.1:${PORT:-8788} under wrangler dev (workerd) with local KV and Durable Object
# state persisted in .state/. Installs whatever it needs first (once). Ctrl-C stops it.
set -euo pipefail
source "$(dirname "$0")/ci/env.sh"
cd "$ROOT"
port="${PORT:-8788}"
bash scripts/ci/tools.sh
# The browser library, its wasm pipeline (built once; ~15 min cold) and the models, into www/.
bash scripts/build-js.sh
bash edge-worker/dev-vars.sh
mkdir -p .state
step "wrangler dev on http://127.0.0.1:$port (state in .state/wrangler)"
cd edge-worker
# --local: never reach Cloudflare. wrangler runs edge-worker/build.sh ([build] in wrangler.toml).
../node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port "$port" \
  --persist-to "$ROOT/.state/wrangler" --show-interactive-dev-session=false \
  --var DEMO_APP_ID:demo &
wrangler_pid=$!
trap 'kill $wrangler_pid 2>/dev/null; wait $wrangler_pid 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 120); do
  if curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' -H "Origin: http://127.0.0.1:$port" \
      -d '{"ceremony":"enroll"}' "http://127.0.0.1:$port/v1/demo/session"; then
    break
  fi
  kill -0 $wrangler_pid 2>/dev/null || { echo "wrangler dev exited" >&2; exit 1; }
  sleep 1
done
cat <<MSG

  OpenFIO is running.
    demo site     http://127.0.0.1:$port/
    edge API      http://127.0.0.1:$port/v1/demo/…   (see docs/edge-api.md)
    demo app      public ID: demo
    operator API  Authorization: Bearer \$(grep ADMIN_TOKEN edge-worker/.dev.vars | cut -d= -f2)
  Ctrl-C to stop; state survives restarts in .state/wrangler.

MSG
wait $wrangler_pid
