#!/usr/bin/env bash
# The test suite, from a fresh clone: installs what is missing, then the linters and the
# type checks (ruff, mypy; configured in pyproject.toml; tsc for the Worker), then pytest. Arguments go to
# pytest, and with arguments the linters are skipped (a quick run of a few tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
if [ $# -eq 0 ]; then
  echo "==> ruff check, ruff format --check, mypy"
  .venv/bin/ruff check --quiet .
  .venv/bin/ruff format --check --quiet .
  .venv/bin/mypy
  echo "==> tsc: the Worker's JSDoc types (worker/tsconfig.json)"
  bash scripts/worker-types.sh
  node_modules/.bin/tsc -p worker
fi
exec .venv/bin/pytest "$@"
