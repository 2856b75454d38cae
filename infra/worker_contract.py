"""What the Worker and the Python side agree on: KV keys, the user-id rule, statuses,
binding and variable names, the variables' defaults, the routes and the scopes they need, the
Analytics Engine data point each request writes and the outcomes whose log line is sampled.

This module is their one home. The Worker reads the values in WORKER_EXPORTS from
worker/src/contract.js, which `guruai-cache worker build` writes from here (its one writer;
`--check` fails while it is stale, and the test suite runs the check).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal, get_args

from pydantic import BaseModel

from infra import platform

# KV keys. The stack seeds the tier config and the catalog (tiers, flags, fallback tier: the
# CATALOG binding's JSON) for readers other than the Worker, and the per-flag keys only with
# the deprecated `legacyFlagKeys`; subscriptions are cached by the Worker.
TIERS_KEY = "config:tiers"
CATALOG_KEY = "config:catalog"
FLAG_KEY_PREFIX = "flags:"
SUBSCRIPTION_KEY_PREFIX = "subscription:"

# A user id can spell no other key (no ":", "/", ".."), and stays within KV's key size.
USER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

SubscriptionStatus = Literal["active", "trialing", "past_due", "canceled"]
SUBSCRIPTION_STATUSES: tuple[str, ...] = get_args(SubscriptionStatus)
# The statuses that entitle a user; others are "no active subscription" (404, cached negatively).
ACTIVE_STATUSES: tuple[str, ...] = ("active", "trialing")

# How long the Worker caches "no active subscription" (KV's minimum expirationTtl).
NEGATIVE_CACHE_TTL_S = 60

# Binding names, as the Worker reads them from `env`.
KV_BINDING = "KV"
DB_BINDING = "DB"
RATE_LIMITER_BINDING = "RATE_LIMITER"
# The per-client limiter on every authenticated route (clientRateLimit).
CLIENT_LIMITER_BINDING = "CLIENT_LIMITER"
ENVIRONMENT_VAR = "ENVIRONMENT"
# The tier config and flags, as a `json` binding: it changes with the script upload, atomically.
CATALOG_BINDING = "CATALOG"
# The clients: name -> {"sha256": hex digest of the token, "scopes": [...]}, one secret binding.
CLIENTS_SECRET = "CLIENTS"
# Workers Analytics Engine: one data point per request (METRICS_DATA_POINT below).
METRICS_BINDING = "METRICS"

# What a client may do. read: subscriptions, tiers, entitlements; usage: count usage;
# write: change subscriptions.
Scope = Literal["read", "usage", "write"]
SCOPES: tuple[str, ...] = get_args(Scope)
# The client the deprecated `serviceToken` (or its generated default) becomes: every scope.
LEGACY_CLIENT = "service"

# Outcomes whose log line is sampled at ROUTINE_LOG_SAMPLE_RATE: answers from the cache or from
# memory on the hot path, and the answers a flood is made of (a 401, a 404, a 405, the client
# limiter's 429), so that nobody can buy a billed log line per request. Every other outcome (a
# miss, an error, a denial, a write, any outcome not listed here) is logged every time, and so is
# a routine request that met an error or fell back to another tier. Analytics Engine counts every
# request either way.
ROUTINE_OUTCOMES = (
    "health",
    "tiers_get",
    "tiers_not_modified",
    "subscription_get_hit",
    "subscription_get_negative_hit",
    "entitlements_get_hit",
    "entitlements_get_negative_hit",
    "usage_post_allowed",
    "unauthorized",
    "not_found",
    "method_not_allowed",
    "client_rate_limited",
)

# The Analytics Engine data point each request writes (one `writeDataPoint`): its one index
# (AE's sampling key), its blobs (strings: the dimensions) and doubles (numbers), each field in
# this order. In SQL they are index1, blob1.. and double1.. (data_point_column).
#   route: "<METHOD> <path template>", e.g. "GET /subscriptions/{userId}" ("(no route)" for none;
#   a method no route has is "OTHER", so random methods cannot mint index values)
#   outcome: the log line's outcome; cache: hit, miss, bypass or "" (no lookup); status: the
#   HTTP status as text; client: the client's name ("" before authentication); the operation
#   counts of worker/operations.json; duration_ms: wall time as the Worker's clock sees it
#   (it advances only on I/O).
METRICS_DATA_POINT: dict[str, Any] = {
    "index": "route",
    "blobs": ["route", "outcome", "cache", "status", "client"],
    "doubles": [
        "kv_reads",
        "kv_writes",
        "kv_deletes",
        "kv_lists",
        "d1_queries",
        "d1_rows_read",
        "d1_rows_written",
        "duration_ms",
    ],
}

# Analytics Engine takes an index of at most this many bytes (platform.AE_MAX_INDEX_BYTES).
MAX_INDEX_BYTES = platform.AE_MAX_INDEX_BYTES

# The values the Worker imports from worker/src/contract.js, generated from this module (with
# ROUTES, from the API's contract, worker/openapi.yaml: infra/plan/api.py; and VAR_DEFAULTS, the
# settings' defaults of its setting-backed variables: infra/plan/worker.py SETTING_VARS).
WORKER_EXPORTS = (
    "SUBSCRIPTION_KEY_PREFIX",
    "USER_ID_PATTERN",
    "SUBSCRIPTION_STATUSES",
    "ACTIVE_STATUSES",
    "NEGATIVE_CACHE_TTL_S",
    "SCOPES",
    "ROUTINE_OUTCOMES",
    "METRICS_DATA_POINT",
    "MAX_INDEX_BYTES",
)


def data_point_column(field: str) -> str:
    """The Analytics Engine column that holds a data point field: 'route' -> 'blob1'."""
    for kind, prefix in (("blobs", "blob"), ("doubles", "double")):
        if field in METRICS_DATA_POINT[kind]:
            return f"{prefix}{METRICS_DATA_POINT[kind].index(field) + 1}"
    raise KeyError(f"the data point has no field {field!r}")


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


def flag_document(flag: BaseModel) -> dict[str, Any]:
    """A feature flag as readers see it: in the CATALOG binding, and as the `flags:*` KV value."""
    return flag.model_dump(by_alias=True, mode="json", exclude_none=True)


def flag_value(flag: BaseModel) -> str:
    return canonical_json(flag_document(flag))


# A catalog over one variable's size is bound in parts: CATALOG says {"version", "parts": n},
# and CATALOG_PART_1..n hold its canonical JSON text, cut at most this many bytes each.
CATALOG_PART_PREFIX = "CATALOG_PART_"
CATALOG_PART_MAX_BYTES = 5_000
# Variables the Worker's own settings and secrets may take (plain text, CLIENTS, CATALOG): the rest
# of platform.WORKER_ENV_VARS_MAX is the most a catalog's parts may use (tests hold the plan to it).
RESERVED_ENV_VARS = 16


def catalog_parts(document: Mapping[str, Any]) -> list[str]:
    """The catalog's canonical JSON text in pieces of at most CATALOG_PART_MAX_BYTES (never
    splitting a character); one piece when it fits one variable."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in canonical_json(document):
        width = len(char.encode())
        if size + width > CATALOG_PART_MAX_BYTES:
            parts.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    return [*parts, "".join(current)]


def catalog_document(tiers: Iterable[BaseModel], flags: Mapping[str, BaseModel], fallback_tier: str) -> dict[str, Any]:
    """The catalog as the Worker's CATALOG binding and the `config:catalog` seed hold it:
    {"version", "tiers": name -> tier, "flags": name -> flag, "fallbackTier"}. `version` names
    the content, so `GET /health` and a reader of `config:catalog` can tell which one they have."""
    body = {
        "tiers": tiers_document(tiers),
        "flags": {name: flag_document(flag) for name, flag in sorted(flags.items())},
        "fallbackTier": fallback_tier,
    }
    version = hashlib.sha256(canonical_json(body).encode()).hexdigest()[:12]
    return {"version": version, **body}
