#!/usr/bin/env bash
# Installs what the build and tests need and this kind of machine lacks; skips what is there.
set -euo pipefail
source "$(dirname "$0")/env.sh"
need_apt=()
command -v ffmpeg >/dev/null || need_apt+=(ffmpeg)
command -v curl >/dev/null || need_apt+=(curl)
# Browser end-to-end tests (scripts/ci/browser-tests.sh): Debian's Chromium, driven by playwright-core.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if ((${#need_apt[@]})); then
  step "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
