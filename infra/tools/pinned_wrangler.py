"""The pinned wrangler (node_modules, from package-lock.json) and the environment it runs in."""

from __future__ import annotations

import os
from collections.abc import Mapping

from infra.paths import ROOT, WRANGLER
from infra.tools.errors import UserError

# Without these wrangler tries to reach Cloudflare (metrics, error reports, cf fetch) on every run.
QUIET_WRANGLER_ENV = {
    "WRANGLER_SEND_METRICS": "false",
    "WRANGLER_SEND_ERROR_REPORTS": "false",
    "CLOUDFLARE_CF_FETCH_ENABLED": "false",
}


def wrangler_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (the process environment by default) with wrangler kept offline and uncoloured."""
    return {**(os.environ if base is None else base), **QUIET_WRANGLER_ENV, "NO_COLOR": "1"}


def wrangler_path() -> str:
    """The pinned wrangler's executable; a UserError that says how to install it when it is missing."""
    if not WRANGLER.exists():
        raise UserError(f"{WRANGLER.relative_to(ROOT)} is missing: run scripts/setup.sh (npm ci) first")
    return str(WRANGLER)
