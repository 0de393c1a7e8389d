#!/usr/bin/env bash
# Creates (or reuses) models/.venv with the pinned requirements and prints its python. Shared by
# models/reproduce.sh and the evaluation scripts that run the conversion tools.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PYTHON:-python3}"
VENV="$HERE/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV" >&2
fi
# pip is fast when everything is already installed at the pinned versions
if ! "$VENV/bin/pip" freeze 2>/dev/null | sort | diff -q - <(grep -v '^#' "$HERE/requirements.txt" | sort) >/dev/null; then
  "$VENV/bin/pip" install -q --upgrade pip >&2
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt" >&2
fi
echo "$VENV/bin/python"
