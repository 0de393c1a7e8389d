#!/usr/bin/env bash
# Installs the wasm toolchain and JS tooling the worker and browser builds need, skipping what is
# already there. Versions come from Cargo.lock / package-lock.json so they always match.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
# wasm-bindgen's CLI must be exactly the crate version in Cargo.lock.
wbg=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $NF}')" != "$wbg" ]]; then
  step "cargo install wasm-bindgen-cli $wbg (~8 min once)"
  cargo install -q wasm-bindgen-cli --version "$wbg"
fi
wb=$(awk '/^name = "worker"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
# `worker-build --version` prints the bare version, unlike wasm-bindgen.
if [[ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "$wb" ]]; then
  step "cargo install worker-build $wb (~7 min once)"
  cargo install -q worker-build --version "$wb" --locked
fi
if [[ ! -x node_modules/.bin/wrangler || package-lock.json -nt node_modules/.package-lock.json ]]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
