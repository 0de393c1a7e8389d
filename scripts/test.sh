#!/usr/bin/env bash
# Runs every test of the project from a fresh clone: installs what is missing, fetches the
# fixtures, then lints and tests. Each step is a script of its own under scripts/ci/.
#
#   bash scripts/test.sh           everything (what .ci/run and CI run; ~25 min warm)
#   bash scripts/test.sh --quick   the contributor's loop (a few minutes warm): fmt, clippy
#                                  (native and wasm32), the pure crates' unit tests (fio-core and
#                                  the worker's native modules) and the npm package's tests; no
#                                  models, no workerd, no Chromium
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)/ci"
if [ "${1:-}" = "--quick" ]; then
  source "$dir/env.sh"
  bash "$dir/setup.sh"
  bash "$dir/tools.sh"
  bash "$dir/lint.sh"
  step "cargo test (fio-core, edge-worker without its models feature: pure logic, no tract)"
  (cd "$ROOT" && cargo test --locked -p fio-core -p edge-worker --no-default-features)
  bash "$dir/package-tests.sh"
  echo
  echo "quick test steps passed (run bash scripts/test.sh for everything)"
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: bash scripts/test.sh [--quick]" >&2; exit 2; }
for s in setup tools fixtures models lint rust-tests edge-tests browser-tests deploy-check package-tests; do
  bash "$dir/$s.sh"
done
echo
echo "all test steps passed"
