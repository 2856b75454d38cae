"""The Worker's bindings: names and values, shared by the deployed script and wrangler.toml.

Pure data; the order is fixed (KV, DB, rate limiter, vars, secret) because
the provider compares the binding list in order, and any reordering shows up
as a diff in every preview.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi_cloudflare as cloudflare

from infra.settings import Settings

KV_BINDING = "KV"
DB_BINDING = "DB"
RATE_LIMITER_BINDING = "RATE_LIMITER"
SERVICE_TOKEN_BINDING = "SERVICE_TOKEN"
MIGRATIONS_DIR = "templates/migrations"


def plain_vars(settings: Settings, environment: str) -> dict[str, str]:
    """The Worker's plain-text variables (all strings, as Workers vars are)."""
    ttls = settings.ttls
    return {
        "ENVIRONMENT": environment,
        "SUBSCRIPTION_TTL": str(ttls.subscription),
        "TIER_CONFIG_TTL": str(ttls.tier_config),
        "USAGE_TTL": str(ttls.usage),
        "RATE_LIMIT_TTL": str(ttls.rate_limit),
        "USAGE_RETENTION_DAYS": str(settings.usage_retention_days),
    }


@dataclass(frozen=True)
class BoundResources:
    """What the bindings point at: resolved ids, or Pulumi Outputs of them."""

    kv_namespace_id: Any
    database_id: Any
    service_token: Any


def script_bindings(settings: Settings, environment: str, bound: BoundResources) -> list[cloudflare.WorkersScriptBindingArgs]:
    limiter = settings.burst_rate_limit
    return [
        cloudflare.WorkersScriptBindingArgs(type="kv_namespace", name=KV_BINDING, namespace_id=bound.kv_namespace_id),
        cloudflare.WorkersScriptBindingArgs(type="d1", name=DB_BINDING, id=bound.database_id),
        cloudflare.WorkersScriptBindingArgs(
            type="ratelimit",
            name=RATE_LIMITER_BINDING,
            namespace_id=limiter.namespace_id,
            simple=cloudflare.WorkersScriptBindingSimpleArgs(limit=limiter.limit, period=limiter.period),
        ),
        *(
            cloudflare.WorkersScriptBindingArgs(type="plain_text", name=name, text=value)
            for name, value in plain_vars(settings, environment).items()
        ),
        cloudflare.WorkersScriptBindingArgs(type="secret_text", name=SERVICE_TOKEN_BINDING, text=bound.service_token),
    ]
