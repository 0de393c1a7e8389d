# Sourced by every CI step: one shared cargo target dir outside the clone, so a fresh clone on a
# machine that has built OpenFIO before does not recompile tract (~9 min on 2 cores).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/openfio/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export WRANGLER_SEND_METRICS=false
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export ROOT
step() { printf '\n==> %s\n' "$*"; }
