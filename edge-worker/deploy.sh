#!/usr/bin/env bash
# Deploys the edge to Cloudflare with everything a working edge needs:
#   1. the browser library and the models into ../www (scripts/build-js.sh): the static assets
#      served at /fiojs/ and /models/, which the widget and edge re-verification load;
#   2. the worker (build.sh, also wrangler's [build] command);
#   3. checks: the KV namespace id is not the committed placeholder, the three required
#      secrets exist on the Worker (`wrangler secret list`);
#   4. `wrangler deploy` (extra arguments are passed on, e.g. `--env production`).
# Needs `wrangler login` (or CLOUDFLARE_API_TOKEN) and the tools of README.md.
# `./deploy.sh --dry-run` stops after bundling (no account needed); CI runs that
# (scripts/ci/deploy-check.sh).
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(cd .. && pwd)"
WRANGLER="$ROOT/node_modules/.bin/wrangler"
[ -x "$WRANGLER" ] || { echo "deploy.sh: run npm ci at the repo root (wrangler)" >&2; exit 1; }
export WRANGLER_SEND_METRICS=false

dry=0
for a in "$@"; do [ "$a" = --dry-run ] && dry=1; done

bash "$ROOT/scripts/build-js.sh"
bash ./build.sh

if [ "$dry" = 0 ]; then
  if grep -q '^id = "00000000000000000000000000000000"' wrangler.toml; then
    echo "deploy.sh: wrangler.toml still has the placeholder KV id. Run" >&2
    echo "  $WRANGLER kv namespace create FACES" >&2
    echo "and put the printed id into [[kv_namespaces]] (binding FACES) of wrangler.toml." >&2
    exit 1
  fi
  if grep -Eq '^GALLERY_TEST_CONTROLS = "1"' wrangler.toml; then
    echo "deploy.sh: GALLERY_TEST_CONTROLS is on in wrangler.toml (bench-only: synthetic faces," >&2
    echo "shard faults). Set it to \"\" before deploying." >&2
    exit 1
  fi
  secrets="$("$WRANGLER" secret list 2>/dev/null || true)"
  missing=()
  for s in ADMIN_TOKEN TEMPLATE_KEY PIN_PEPPER; do
    grep -q "\"$s\"" <<<"$secrets" || missing+=("$s")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "deploy.sh: secret(s) not set on the Worker: ${missing[*]}. For each:" >&2
    echo "  openssl rand -hex 32 | $WRANGLER secret put NAME" >&2
    echo "(TEMPLATE_KEY and PIN_PEPPER must never change once users are enrolled.)" >&2
    exit 1
  fi
fi
exec "$WRANGLER" deploy "$@"
