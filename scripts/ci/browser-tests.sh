#!/usr/bin/env bash
# End-to-end tests in real headless Chromium: the edge worker (wrangler dev) serves the demo site
# www/ (library in www/fiojs/, models in www/models/) and the widget API; Chromium's webcam is a
# Y4M video of a real face (--use-file-for-fake-video-capture). Runs tests/browser/*.test.mjs.
#
#   OPENFIO_BROWSER_SKIP_BUILD=1  reuse existing www/fiojs/ and edge-worker/build/ (local iteration)
#   OPENFIO_BROWSER_TEST_TIMEOUT  per-test timeout in ms (default 900000)
# Screenshots of every widget screen: artifacts/browser/<test>/<screen>.png.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

PLAYWRIGHT_CORE_VERSION=1.65.1   # keep equal to devDependencies["playwright-core"] in package.json

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v ffmpeg >/dev/null || need_apt+=(ffmpeg)
if ((${#need_apt[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "browser-tests.sh: missing ${need_apt[*]}; run scripts/ci/setup.sh as root" >&2
    exit 1
  fi
  step "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x node_modules/.bin/wrangler ]; then
  step "npm ci"
  npm ci --no-audit --no-fund
fi
have_pw="$(node -e 'try{console.log(require("playwright-core/package.json").version)}catch{}' 2>/dev/null || true)"
if [ "$have_pw" != "$PLAYWRIGHT_CORE_VERSION" ]; then
  if grep -q '"playwright-core"' package.json; then
    step "npm ci (playwright-core is a devDependency)"
    npm ci --no-audit --no-fund
  else
    step "npm install --no-save playwright-core@$PLAYWRIGHT_CORE_VERSION"
    npm install --no-save --no-audit --no-fund "playwright-core@$PLAYWRIGHT_CORE_VERSION"
  fi
fi

if [ ! -f fixtures/data/video/cap12.y4m ] || [ ! -f fixtures/data/video/cap13.y4m ]; then
  step "fetch fixtures"
  bash fixtures/fetch.sh
fi
# --workspace: the same feature set as `cargo test --workspace`, so this reuses its build instead
# of recompiling tract with `-p fio-cli`'s narrower features. make-videos.sh runs
# `fio-eval occlude`.
step "cargo build --workspace --bins"
cargo build --locked --workspace --bins
step "derive the test videos"
FIO_EVAL_BIN="$CARGO_TARGET_DIR/debug/fio-eval" bash tests/browser/make-videos.sh

if [ "${OPENFIO_BROWSER_SKIP_BUILD:-0}" != 1 ]; then
  step "build the library and the demo site (scripts/build-js.sh)"
  # Rebuild the wasm from this tree (fio-wasm/pkg may be stale); skip wasm-opt, which only
  # changes size and speed, to keep CI well inside its time limit.
  FIO_WASM_OPT="${FIO_WASM_OPT:-0}" bash fio-wasm/build.sh
  bash scripts/build-js.sh
  step "build the edge worker"
  (cd edge-worker && bash build.sh)
fi
[ -f edge-worker/.dev.vars ] || (cd edge-worker && bash dev-vars.sh)

step "fio-wasm in Node: real models and photos, wasm vs native templates"
FIO_BIN="$CARGO_TARGET_DIR/debug/fio" FIO_WASM_PKG=fio-wasm/pkg node --test fio-wasm/tests/node.test.mjs

step "browser end-to-end tests (node --test tests/browser/)"
mkdir -p artifacts/browser
# One file at a time: every file starts its own worker and Chromium runs the wasm face pipeline.
status=0
node --test --test-concurrency=1 \
  --test-timeout="${OPENFIO_BROWSER_TEST_TIMEOUT:-900000}" tests/browser/ || status=$?
echo "screenshots and logs: $ROOT/artifacts/browser/"
exit "$status"
