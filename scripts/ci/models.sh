#!/usr/bin/env bash
# The committed ONNX models must be exactly the ones the manifest (compiled into the pipeline) names.
set -euo pipefail
source "$(dirname "$0")/env.sh"
step "models: sha256 against models/manifest.json"
cd "$ROOT/models"
python3 - <<'PY'
import hashlib, json, sys
bad = 0
for m in json.load(open("manifest.json"))["models"]:
    h = hashlib.sha256(open(m["file"], "rb").read()).hexdigest()
    ok = h == m["sha256"]
    bad += not ok
    print(f"{'ok ' if ok else 'BAD'} {m['file']} {h}")
sys.exit(1 if bad else 0)
PY
