#!/usr/bin/env bash
# CI: fail early, with the list, when repository secrets the deploy needs are missing
# (instead of a state-backend or Cloudflare error further down). Names only, never values.
set -euo pipefail
missing=()
[ -n "${CLOUDFLARE_API_TOKEN:-}" ] || missing+=(CLOUDFLARE_API_TOKEN)
[ -n "${CLOUDFLARE_ACCOUNT_ID:-}" ] || missing+=(CLOUDFLARE_ACCOUNT_ID)
if [ -z "${PULUMI_ACCESS_TOKEN:-}" ] && [ -z "${PULUMI_BACKEND_URL:-}" ]; then
  missing+=("PULUMI_ACCESS_TOKEN (Pulumi Cloud) or PULUMI_BACKEND_URL (self-managed backend)")
fi
if [ -n "${PULUMI_BACKEND_URL:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ]; then
  # Needed unless the stacks use a KMS secrets provider instead of the passphrase one.
  echo "::warning title=No PULUMI_CONFIG_PASSPHRASE::a self-managed backend's passphrase-encrypted stacks need it"
fi
if [ ${#missing[@]} -gt 0 ]; then
  for name in "${missing[@]}"; do
    echo "::error title=Missing repository secret::$name: add it under Settings > Secrets and variables > Actions (docs/ci.md)"
  done
  exit 1
fi
echo "repository secrets present"
