#!/usr/bin/env bash
# ISO/IEC 30107-3 figures of the liveness decision: APCER per attack species and BPCER, for
# (a) the passive model alone, (b) passive + temporal + screen cues, (c) the active challenge. Not a test:
# prints a Markdown table (`fio-eval liveness-eval`, harness/fio-eval). Analyses are cached in
# artifacts/liveness/ (delete to re-analyse).
#
#   bash scripts/bench-liveness.sh [--json]
#   FIO_LIVENESS_THRESHOLDS='{"turnYawDeg": 10}' bash scripts/bench-liveness.sh   # sweep a value
set -euo pipefail
source "$(dirname "$0")/ci/env.sh"
cd "$ROOT"
bash fixtures/fetch.sh >/dev/null
bash fixtures/attacks/make.sh >/dev/null
step "fio-eval liveness-eval (release)"
cargo run -q --release --locked -p fio-eval -- liveness-eval fixtures/data fixtures/segments.json "$@"
