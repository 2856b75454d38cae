#!/usr/bin/env bash
# CI: fail early, with the list, when a GitHub environment lacks a secret its job needs
# (instead of a state-backend or Cloudflare error further down). Names only, never values.
# Usage: scripts/ci-secrets.sh [--outputs-only] [--require NAME]... ENVIRONMENT
#   ENVIRONMENT: the job's GitHub environment (preview-dev, dev, prod, wrangler-toml; docs/ci.md)
#   --outputs-only: the job only reads the stacks' outputs, so it needs no Cloudflare secret
#   --require NAME: the job needs the secret NAME too (e.g. WRANGLER_PR_TOKEN)
set -euo pipefail
usage="usage: $0 [--outputs-only] [--require NAME]... ENVIRONMENT (the GitHub environment of the job)"
needs_cloudflare=1
required=()
while [ $# -gt 0 ]; do
  case $1 in
    --outputs-only) needs_cloudflare=0 ;;
    --require)
      [ $# -ge 2 ] && [[ $2 =~ ^[A-Z][A-Z0-9_]*$ ]] || { echo "$usage" >&2; exit 2; }
      required+=("$2")
      shift
      ;;
    -*) echo "$usage" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
environment=${1:-}
if [ -z "$environment" ] || [ $# -ne 1 ]; then
  echo "$usage" >&2
  exit 2
fi

missing=()
for name in ${required[@]+"${required[@]}"}; do
  [ -n "${!name:-}" ] || missing+=("$name")
done
if [ "$needs_cloudflare" = 1 ]; then
  [ -n "${CLOUDFLARE_API_TOKEN:-}" ] || missing+=(CLOUDFLARE_API_TOKEN)
  [ -n "${CLOUDFLARE_ACCOUNT_ID:-}" ] || missing+=(CLOUDFLARE_ACCOUNT_ID)
fi
if [ -z "${PULUMI_ACCESS_TOKEN:-}" ] && [ -z "${PULUMI_BACKEND_URL:-}" ]; then
  missing+=("PULUMI_ACCESS_TOKEN (Pulumi Cloud) or PULUMI_BACKEND_URL (self-managed backend)")
fi
# Reading outputs decrypts nothing, so an outputs-only job needs no passphrase (docs/ci.md).
if [ "$needs_cloudflare" = 1 ] && [ -n "${PULUMI_BACKEND_URL:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ]; then
  # Needed unless the stacks use a KMS secrets provider instead of the passphrase one.
  echo "::warning title=No PULUMI_CONFIG_PASSPHRASE::a self-managed backend's passphrase-encrypted stacks need it in the '$environment' environment"
fi
if [ ${#missing[@]} -gt 0 ]; then
  for name in "${missing[@]}"; do
    echo "::error title=Missing environment secret::$name: add it to the GitHub environment '$environment' (Settings > Environments > $environment > Environment secrets; docs/ci.md)"
  done
  exit 1
fi
echo "the '$environment' environment's secrets are present"
