#!/usr/bin/env bash
# Deploy check without a Cloudflare account: `wrangler deploy --dry-run --outdir` builds and
# bundles the worker exactly as `edge-worker/deploy.sh` would upload it (wrangler.toml as
# committed, its [build] command included), then this checks what a real deploy would refuse
# or get wrong:
#   - the bundle's size against Cloudflare's Worker size limits (below),
#   - the static assets a working edge needs (/fiojs/, the widget's models) are in the upload,
#   - the production defaults: no open demo app, no gallery test controls, the KV id still the
#     placeholder deploy.sh refuses.
#
# Worker size limits (developers.cloudflare.com/workers/platform/limits, checked 2026-12):
# the long-standing figures are 3 MB (Workers Free) and 10 MB (Workers Paid) after gzip
# compression; in May 2026 Cloudflare announced replacing them by one 64 MiB uncompressed limit
# on every plan (cloudflare-docs#31002, workers-sdk#14001). Accounts and wrangler versions differ
# during such a change, so this checks the strictest reading: gzip size against both plans'
# compressed limits (reported), the paid one enforced, and the raw size against 64 MiB.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

FREE_GZIP_LIMIT=$((3 * 1000 * 1000))
PAID_GZIP_LIMIT=$((10 * 1000 * 1000))
RAW_LIMIT=$((64 * 1024 * 1024))

if [ ! -x node_modules/.bin/wrangler ]; then
  step "npm ci (wrangler)"
  npm ci --no-audit --no-fund
fi

step "static assets (scripts/build-js.sh: /fiojs/ and the models)"
# Runs after browser-tests.sh in scripts/test.sh, which built fio-wasm from this tree; on its
# own, a missing fio-wasm/pkg is built without wasm-opt as CI does (size and speed only).
FIO_WASM_OPT="${FIO_WASM_OPT:-0}" bash scripts/build-js.sh

out="$(mktemp -d "${TMPDIR:-/tmp}/openfio-deploy-check.XXXXXX")"
trap 'rm -rf "$out"' EXIT
step "wrangler deploy --dry-run --outdir $out"
(cd edge-worker && ../node_modules/.bin/wrangler deploy --dry-run --outdir "$out" 2>&1) | tee "$out.log"
trap 'rm -rf "$out" "$out.log"' EXIT

fail=0
bad() { echo "deploy-check: $*" >&2; fail=1; }

wasm="$(find "$out" -name '*.wasm' | head -n 1)"
[ -n "$wasm" ] || { echo "deploy-check: no .wasm in the dry-run bundle ($out)" >&2; exit 1; }
raw=$(find "$out" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.mjs' \) -printf '%s\n' | awk '{s+=$1} END {print s}')
gz=0
while IFS= read -r f; do
  gz=$((gz + $(gzip -9 -c "$f" | wc -c)))
done < <(find "$out" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.mjs' \))
mb() { awk -v b="$1" 'BEGIN {printf "%.2f MB", b / 1000000}'; }
echo
echo "bundle: $(mb "$raw") raw, $(mb "$gz") gzip -9"
if [ "$gz" -le "$FREE_GZIP_LIMIT" ]; then
  echo "  fits Workers Free (3 MB compressed) and Workers Paid (10 MB compressed)"
else
  echo "  over Workers Free's 3 MB compressed limit: needs Workers Paid (10 MB) where that limit applies"
fi
[ "$gz" -le "$PAID_GZIP_LIMIT" ] || bad "bundle is $(mb "$gz") compressed, over Workers Paid's 10 MB"
[ "$raw" -le "$RAW_LIMIT" ] || bad "bundle is $(mb "$raw") uncompressed, over the 64 MiB limit"

# The assets wrangler uploads are the [assets] directory (../www): the page, the library and the
# models must be there, or the deployed edge serves a widget that cannot start.
for f in www/index.html www/fiojs/fio.js www/models/manifest.json; do
  [ -s "$f" ] || bad "$f missing from the static assets"
done
# The models edge re-verification loads: the list edge-worker/build.sh makes sure of.
models="$(sed -n 's/^for m in \(.*\); do$/\1/p' edge-worker/build.sh)"
[ -n "$models" ] || bad "cannot read the model list of edge-worker/build.sh"
for m in $models; do
  [ -s "www/models/$m.onnx" ] || bad "www/models/$m.onnx missing (edge re-verification loads it)"
done
[ -n "$(find www/models -name '*.onnx')" ] || bad "www/models has no models for the widget"
largest=$(find www -type f -printf '%s\n' | sort -n | tail -n 1)
[ "${largest:-0}" -le $((25 * 1024 * 1024)) ] || bad "a static asset is over Cloudflare's 25 MiB per-file limit"

# Production defaults of the committed wrangler.toml.
grep -Eq '^DEMO_APP_ID = ""' edge-worker/wrangler.toml \
  || bad 'wrangler.toml must ship DEMO_APP_ID = "" (no open demo app unless the operator sets one)'
grep -Eq '^GALLERY_TEST_CONTROLS = ""' edge-worker/wrangler.toml \
  || bad 'wrangler.toml must ship GALLERY_TEST_CONTROLS = "" (synthetic seeding and shard faults are for benches)'
grep -q 'binding = "FACES"' edge-worker/wrangler.toml || bad "wrangler.toml has no FACES KV binding"

[ "$fail" = 0 ] || exit 1
echo "deploy check passed"
