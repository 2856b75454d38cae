#!/usr/bin/env bash
# Runs the project locally: installs what is missing, then hands over to `guruai-cache local`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
exec .venv/bin/guruai-cache local "$@"
