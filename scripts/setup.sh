#!/usr/bin/env bash
# Installs what the project needs, and only what is missing: uv (pinned and hash-checked),
# the Python virtualenv from uv.lock, and the npm packages (the pinned wrangler) from
# package-lock.json. Safe to re-run; every later step of local.sh and test.sh starts here.
set -euo pipefail
cd "$(dirname "$0")/.."

# requirements-uv.txt pins uv and the hash of every wheel of that release: pip refuses
# any other file (hash-checking mode), and --only-binary never builds from source.
UV_REQUIREMENTS=requirements-uv.txt
UV_VERSION=$(sed -nE 's/^uv==([^ ]+).*/\1/p' "$UV_REQUIREMENTS")
if [ -z "$UV_VERSION" ]; then
  echo "error: $UV_REQUIREMENTS pins no uv==<version> (regenerate it: docs/ci.md)" >&2
  exit 2
fi
export UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy

node_major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/' || true)
if [ -z "$node_major" ] || [ "$node_major" -lt 20 ]; then
  echo "error: Node.js 20 or newer is needed for wrangler (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 2
fi

uv_version() { "$1" --version 2>/dev/null | cut -d' ' -f2; }

if command -v uv >/dev/null 2>&1 && [ "$(uv_version uv)" = "$UV_VERSION" ]; then
  uv=uv
else
  uv=.tools/bin/uv
  if [ ! -x "$uv" ] || [ "$(uv_version "$uv")" != "$UV_VERSION" ]; then
    echo "==> installing uv $UV_VERSION into .tools/ (hash-checked, $UV_REQUIREMENTS)"
    [ -x .tools/bin/pip ] || python3 -m venv .tools
    .tools/bin/pip install --quiet --disable-pip-version-check \
      --require-hashes --only-binary :all: -r "$UV_REQUIREMENTS"
  fi
fi

echo "==> Python environment (.venv, from uv.lock)"
# Precompiled bytecode: pulumi_cloudflare's generated modules take ~4 s to compile on each
# import when Python may not write .pyc files (PYTHONDONTWRITEBYTECODE), ~1.4 s compiled.
"$uv" sync --frozen --quiet --compile-bytecode

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm packages (from package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi
