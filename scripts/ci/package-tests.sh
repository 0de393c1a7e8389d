#!/usr/bin/env bash
# The npm package @openfio/fiojs as users get it:
#   1. tsc --noEmit --strict on tests/package/types-check.ts against the source index.d.ts
#      (FACEIO's API as the integration guide uses it, plus @ts-expect-error lines for misuse);
#   2. tests/package/pack.test.mjs: build (scripts/build-js.sh), npm pack, offline install of the
#      tarball into a fresh project, Node import + API shape, tarball contents and size, and the
#      same tsc check against the installed package.
# Builds fio-wasm only when fio-wasm/pkg is missing (build-js.sh does); ~30 s otherwise.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

have_ts="$(node -e 'try{console.log(require("typescript/package.json").version)}catch{}' 2>/dev/null || true)"
want_ts="$(node -p 'require("./package.json").devDependencies.typescript')"
if [ "$have_ts" != "$want_ts" ]; then
  step "npm ci (typescript $want_ts is a devDependency)"
  npm ci --no-audit --no-fund
fi

step "tsc --noEmit --strict (tests/package/types-check.ts against index.d.ts)"
node_modules/.bin/tsc -p tests/package --noEmit --strict

step "build the library (scripts/build-js.sh)"
bash scripts/build-js.sh >/dev/null

step "npm pack + install + import (node --test tests/package/)"
OPENFIO_PACKAGE_SKIP_BUILD=1 node --test tests/package/
