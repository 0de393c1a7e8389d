#!/usr/bin/env bash
# Runs every test of the project from a fresh clone: installs what is missing, fetches the
# fixtures, then lints and tests. Each step is a script of its own under scripts/ci/.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)/ci"
for s in setup tools fixtures models lint rust-tests edge-tests browser-tests package-tests; do
  bash "$dir/$s.sh"
done
echo
echo "all test steps passed"
