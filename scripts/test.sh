#!/usr/bin/env bash
# The test suite, from a fresh clone: installs what is missing, then the linters and the type
# checks (ruff, mypy; configured in pyproject.toml; tsc for the Worker), then the team's files,
# then pytest. Arguments go to pytest, and with arguments only pytest runs (a quick run).
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
  # The team's files: the committed Pulumi.<stack>.yaml and what is generated from them. The
  # tests never read them (they have stack settings of their own, tests/stacks); these
  # commands check them, so a settings change needs no test edit, only its re-render.
  echo "==> the team's files: settings check, generated files up to date"
  .venv/bin/guruai-cache settings check
  .venv/bin/guruai-cache wrangler render --check --local-only
  # The migrations against MIGRATIONS_BASE (pull-request.yml sets the pull request's base), else
  # origin/main; a clone with neither skips the checks that need a base and says so
  # (docs/deploying.md#migrations-checked-before-they-run).
  echo "==> migrations check"
  .venv/bin/guruai-cache migrations check ${MIGRATIONS_BASE:+--against "$MIGRATIONS_BASE"}
fi
exec .venv/bin/pytest "$@"
