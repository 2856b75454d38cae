"""What worker/worker.js and the Python side agree on: KV keys, the user-id rule, statuses,
binding and variable names, the variables' defaults, the routes and the scopes they need.

The Worker is one ES module uploaded as is (no build step, no imports), so it keeps its own
copy of the values in SHARED_WITH_WORKER under the same names; tests/test_worker_contract.py
reads worker.js and holds each copy equal to this one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal, get_args

from pydantic import BaseModel

# KV keys. The tier config and the flags are seeded by the stack; subscriptions are cached by the Worker.
TIERS_KEY = "config:tiers"
FLAG_KEY_PREFIX = "flags:"
SUBSCRIPTION_KEY_PREFIX = "subscription:"

# A user id can spell no other key (no ":", "/", ".."), and stays within KV's key size.
USER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

SubscriptionStatus = Literal["active", "trialing", "past_due", "canceled"]
SUBSCRIPTION_STATUSES: tuple[str, ...] = get_args(SubscriptionStatus)

# How long the Worker caches "no active subscription" (KV's minimum expirationTtl).
NEGATIVE_CACHE_TTL_S = 60

# Binding names, as the Worker reads them from `env`.
KV_BINDING = "KV"
DB_BINDING = "DB"
RATE_LIMITER_BINDING = "RATE_LIMITER"
ENVIRONMENT_VAR = "ENVIRONMENT"
# The tier config and flags, as a `json` binding: it changes with the script upload, atomically.
CATALOG_BINDING = "CATALOG"
# The clients: name -> {"sha256": hex digest of the token, "scopes": [...]}, one secret binding.
CLIENTS_SECRET = "CLIENTS"

# What a client may do. read: subscriptions, tiers, entitlements; usage: count usage;
# write: change subscriptions.
Scope = Literal["read", "usage", "write"]
SCOPES: tuple[str, ...] = get_args(Scope)
# The client the deprecated `serviceToken` (or its generated default) becomes: every scope.
LEGACY_CLIENT = "service"

# Every route the Worker serves: path (OpenAPI's template syntax) -> method -> the scope it
# needs (None: no token). worker/openapi.yaml describes exactly these (tests/test_openapi.py).
ROUTES: dict[str, dict[str, str | None]] = {
    "/health": {"GET": None, "HEAD": None},
    "/tiers": {"GET": "read"},
    "/subscriptions/{userId}": {"GET": "read", "PUT": "write"},
    "/usage/{userId}": {"POST": "usage"},
    "/entitlements/{userId}": {"GET": "read"},
}

# The Worker's plain-text variables that come from settings, with the settings' defaults
# (the Worker falls back to these when a variable is missing).
VAR_DEFAULTS = {
    "SUBSCRIPTION_TTL": 300,
    "TIER_CONFIG_TTL": 3600,
    "RATE_LIMIT_TTL": 86400,
    "USAGE_RETENTION_DAYS": 35,
}

# The names above that worker.js declares as `const NAME = ...;` too.
SHARED_WITH_WORKER = (
    "SUBSCRIPTION_KEY_PREFIX",
    "USER_ID_PATTERN",
    "SUBSCRIPTION_STATUSES",
    "NEGATIVE_CACHE_TTL_S",
    "VAR_DEFAULTS",
    "SCOPES",
    "ROUTES",
)


# --- how the seeded values are encoded ----------------------------------------------------


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces: the provider compares strings, so any other form never settles."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def flag_key(flag_name: str) -> str:
    return f"{FLAG_KEY_PREFIX}{flag_name}"


def tiers_document(tiers: Iterable[BaseModel]) -> dict[str, dict[str, Any]]:
    """`config:tiers` as the Worker reads it: tier name -> tier (the settings' Tier models)."""
    dumped = [tier.model_dump(by_alias=True, mode="json") for tier in tiers]
    return {tier["name"]: tier for tier in dumped}


def tiers_value(tiers: Iterable[BaseModel]) -> str:
    return canonical_json(tiers_document(tiers))


def flag_value(flag: BaseModel) -> str:
    return canonical_json(flag.model_dump(by_alias=True, mode="json", exclude_none=True))
