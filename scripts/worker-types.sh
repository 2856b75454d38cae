#!/usr/bin/env bash
# The Workers runtime's types (KVNamespace, D1Database, Request, ...) for `tsc -p worker`, made by
# the pinned wrangler for the pinned workerd into .wrangler/types/runtime.d.ts (500 KB, so made,
# not committed); again only when package-lock.json changes.
set -euo pipefail
cd "$(dirname "$0")/.."
types=.wrangler/types/runtime.d.ts
if [ ! -f "$types" ] || [ package-lock.json -nt "$types" ]; then
  mkdir -p "$(dirname "$types")"
  if ! output=$(WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false \
    node_modules/.bin/wrangler types --include-env=false "$types" 2>&1); then
    echo "$output" >&2
    exit 1
  fi
fi
