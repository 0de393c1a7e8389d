#!/usr/bin/env bash
# Writes edge-worker/.dev.vars (the local secrets wrangler dev reads) with random values, unless
# it already exists. Git-ignored. In production the same names are Worker secrets
# (`wrangler secret put ADMIN_TOKEN`, …).
set -euo pipefail
cd "$(dirname "$0")"
if [ -f .dev.vars ]; then
  exit 0
fi
rand() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
umask 077
cat > .dev.vars <<VARS
ADMIN_TOKEN=$(rand)
TEMPLATE_KEY=$(rand)
PIN_PEPPER=$(rand)
VARS
echo "dev-vars.sh: wrote $(pwd)/.dev.vars"
