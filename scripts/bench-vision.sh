#!/usr/bin/env bash
# Per-stage pipeline times (tract, native) on a real photo, then every model in tract and in
# onnxruntime on the same input tensors, side by side in one run. Not a test: prints a table.
set -euo pipefail
source "$(dirname "$0")/ci/env.sh"
cd "$ROOT"
runs="${RUNS:-20}"
bash fixtures/fetch.sh >/dev/null
venv="$ROOT/.venv/bench"
if [[ ! -x "$venv/bin/python" ]]; then
  step "python venv for onnxruntime"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q onnxruntime==1.32.0 numpy==2.4.6
fi
out="$(mktemp)"
step "tract (cargo bench, release)"
cargo bench -q -p fio-vision --bench stages -- --runs "$runs" --json "$out"
step "onnxruntime"
"$venv/bin/python" benches/ort_models.py "$out" models "$runs"
rm -f "$out"
