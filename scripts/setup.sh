#!/usr/bin/env bash
# Installs what the project needs, and only what is missing: uv (pinned), the Python
# virtualenv from uv.lock, and the npm packages (the pinned wrangler) from package-lock.json.
# Safe to re-run; every later step of local.sh and test.sh starts here.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
export UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy

node_major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/' || true)
if [ -z "$node_major" ] || [ "$node_major" -lt 20 ]; then
  echo "error: Node.js 20 or newer is needed for wrangler (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 2
fi

if command -v uv >/dev/null 2>&1 && [ "$(uv --version | cut -d' ' -f2)" = "$UV_VERSION" ]; then
  uv=uv
else
  if [ ! -x .tools/bin/uv ]; then
    echo "==> installing uv $UV_VERSION into .tools/"
    python3 -m venv .tools
    .tools/bin/pip install --quiet "uv==$UV_VERSION"
  fi
  uv=.tools/bin/uv
fi

echo "==> Python environment (.venv, from uv.lock)"
# Precompiled bytecode: pulumi_cloudflare's generated modules take ~4 s to compile on each
# import when Python may not write .pyc files (PYTHONDONTWRITEBYTECODE), ~1.4 s compiled.
"$uv" sync --frozen --quiet --compile-bytecode

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm packages (from package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi
