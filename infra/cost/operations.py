"""What one request does to KV and D1, per route outcome: worker/operations.json, read and checked.

The Worker measures these itself (counting wrappers around env.KV and env.DB) and the e2e
tests (tests/e2e/test_operations.py) hold the file equal to what it really does. Each entry
also says whether the Worker logs that outcome every time or samples its line (`log`), read
here as LOG_SAMPLED: 1 for a sampled line, 0 for a line every time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from infra import paths

OPERATION_KINDS = ("kv_reads", "kv_writes", "kv_deletes", "kv_lists", "d1_queries", "d1_rows_read", "d1_rows_written")
KV_KINDS = tuple(kind for kind in OPERATION_KINDS if kind.startswith("kv_"))
OUTCOMES = (
    "health",
    "subscription_get_hit",
    "subscription_get_miss",
    "subscription_get_not_found",
    "subscription_get_negative_hit",
    "subscription_get_not_found_lapsed",
    "subscription_put",
    "tiers_get",
    "entitlements_get_hit",
    "entitlements_get_hit_count_read",
    "entitlements_get_miss",
    "entitlements_get_miss_count_read",
    "entitlements_get_not_found",
    "entitlements_get_not_found_lapsed",
    "entitlements_get_negative_hit",
    "usage_post_allowed",
    "usage_post_denied",
    "usage_post_no_subscription",
    "usage_post_allowed_keyed",
    "usage_post_denied_keyed",
    "scheduled_cleanup",
)
# The cleanup's cost grows with what it deletes: scheduled_cleanup.per_deleted_row, for each usage
# row and each expired Idempotency-Key alike (tests/e2e/test_operations.py measures both on workerd).
PER_DELETED_ROW = "scheduled_cleanup.per_deleted_row"
# Beside the counts: 1.0 when the outcome's log line is sampled (`"log": "sampled"`), 0.0 when
# it is written every time (`"log": "always"`, and any entry that does not say).
LOG_SAMPLED = "log_sampled"
LOG_POLICIES = {"always": 0.0, "sampled": 1.0}

OperationsTable = Mapping[str, Mapping[str, float]]


class OperationsTableError(Exception):
    """worker/operations.json is missing or malformed."""


def load_operations(path: Path | None = None) -> dict[str, dict[str, float]]:
    """The KV and D1 operations one request performs, per route outcome, checked for shape."""
    path = path or paths.OPERATIONS_TABLE
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise OperationsTableError(f"{path} not found: the Worker's per-route operations table is needed") from None
    except (OSError, json.JSONDecodeError) as error:
        raise OperationsTableError(f"{path}: not readable JSON ({error})") from None
    routes = document.get("routes") if isinstance(document, dict) else None
    if not isinstance(routes, dict):
        raise OperationsTableError(f'{path}: expected {{"routes": {{"<outcome>": {{...}}}}}}')
    missing = [outcome for outcome in OUTCOMES if outcome not in routes]
    if missing:
        raise OperationsTableError(f"{path}: no entry for {', '.join(missing)}")
    per_row = (
        routes["scheduled_cleanup"].get("per_deleted_row") if isinstance(routes["scheduled_cleanup"], dict) else None
    )
    if not isinstance(per_row, dict):
        raise OperationsTableError(
            f"{path}: routes.scheduled_cleanup.per_deleted_row must list what each deleted row costs"
        )
    # Extra outcomes (e.g. *_cache_miss) are used as listed; kinds a per-row entry omits cost nothing.
    entries = {**routes, PER_DELETED_ROW: {**dict.fromkeys(OPERATION_KINDS, 0), **per_row}}
    table: dict[str, dict[str, float]] = {}
    for outcome, entry in entries.items():
        counts = {}
        for kind in OPERATION_KINDS:
            value = entry.get(kind) if isinstance(entry, dict) else None
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                where = outcome if outcome == PER_DELETED_ROW else f"routes.{outcome}"
                raise OperationsTableError(f"{path}: {where}.{kind} must be a number >= 0, got {value!r}")
            counts[kind] = float(value)
        policy = entry.get("log", "always") if isinstance(entry, dict) else "always"
        if policy not in LOG_POLICIES:
            raise OperationsTableError(f'{path}: routes.{outcome}.log must be "always" or "sampled", got {policy!r}')
        counts[LOG_SAMPLED] = LOG_POLICIES[policy]
        table[outcome] = counts
    return table


def kv_counter_alternative(table: OperationsTable) -> dict[str, dict[str, float]]:
    """The seed guide's Step 6 rate limiter in place of this Worker's D1 usage count.

    The guide gets `ratelimit:<user>` from KV, and when under the limit puts the count
    plus one back: one KV read and one KV write per allowed call, one read per refused
    call, nothing in D1. Every other route is unchanged.
    """
    zero = dict.fromkeys(OPERATION_KINDS, 0.0)
    # Logged as this Worker logs them: a counted use is routine (sampled), a refusal always.
    allowed = {**zero, "kv_reads": 1.0, "kv_writes": 1.0, LOG_SAMPLED: 1.0}
    denied = {**zero, "kv_reads": 1.0, LOG_SAMPLED: 0.0}
    return {
        **with_cache_miss_variants(table),
        # The guide's limiter looks up no subscription: a hit or a miss costs the same,
        # and a user without a subscription is counted like anyone else.
        # Nor does it know Idempotency-Keys: a keyed call costs what any call does.
        **dict.fromkeys(
            (
                "usage_post_allowed",
                "usage_post_allowed_cache_miss",
                "usage_post_allowed_keyed",
                "usage_post_allowed_keyed_cache_miss",
            ),
            allowed,
        ),
        **dict.fromkeys(
            (
                "usage_post_no_subscription",
                "usage_post_no_subscription_cache_miss",
                "usage_post_no_subscription_cache_miss_lapsed",
            ),
            allowed,
        ),
        **dict.fromkeys(
            (
                "usage_post_denied",
                "usage_post_denied_cache_miss",
                "usage_post_denied_keyed",
                "usage_post_denied_keyed_cache_miss",
            ),
            denied,
        ),
    }


# A usage call looks up the caller's subscription the way GET /subscriptions does; the
# table's usage outcomes are for a cache hit. On a miss the call also does what the
# matching subscription miss adds to its hit: (usage outcome, hit, miss, the variant's suffix).
USAGE_LOOKUPS = (
    ("usage_post_allowed", "subscription_get_hit", "subscription_get_miss", "_cache_miss"),
    ("usage_post_denied", "subscription_get_hit", "subscription_get_miss", "_cache_miss"),
    ("usage_post_allowed_keyed", "subscription_get_hit", "subscription_get_miss", "_cache_miss"),
    ("usage_post_denied_keyed", "subscription_get_hit", "subscription_get_miss", "_cache_miss"),
    ("usage_post_no_subscription", "subscription_get_negative_hit", "subscription_get_not_found", "_cache_miss"),
    (
        "usage_post_no_subscription",
        "subscription_get_negative_hit",
        "subscription_get_not_found_lapsed",
        "_cache_miss_lapsed",
    ),
)

# Each lookup answered from KV, and what it costs when KV does not answer (a miss).
HIT_TO_MISS = {
    "subscription_get_hit": "subscription_get_miss",
    "entitlements_get_hit_count_read": "entitlements_get_miss_count_read",
    "usage_post_allowed": "usage_post_allowed_cache_miss",
    "usage_post_denied": "usage_post_denied_cache_miss",
    "usage_post_allowed_keyed": "usage_post_allowed_keyed_cache_miss",
    "usage_post_denied_keyed": "usage_post_denied_keyed_cache_miss",
}
# A cached "no subscription" misses into a user with no row or a lapsed one (by traffic.lapsedShare).
NEGATIVE_HIT_TO_MISS = {
    "subscription_get_negative_hit": ("subscription_get_not_found", "subscription_get_not_found_lapsed"),
    "entitlements_get_negative_hit": ("entitlements_get_not_found", "entitlements_get_not_found_lapsed"),
    "usage_post_no_subscription": (
        "usage_post_no_subscription_cache_miss",
        "usage_post_no_subscription_cache_miss_lapsed",
    ),
}


def with_cache_miss_variants(table: OperationsTable) -> dict[str, dict[str, float]]:
    """The table plus each usage outcome's miss variant (hit path + miss - hit) where it lists none."""
    extended = {outcome: dict(ops) for outcome, ops in table.items()}
    for outcome, hit, miss, suffix in USAGE_LOOKUPS:
        extended.setdefault(
            f"{outcome}{suffix}",
            {
                **{kind: table[outcome][kind] + table[miss][kind] - table[hit][kind] for kind in OPERATION_KINDS},
                LOG_SAMPLED: 0.0,  # a miss is logged every time
            },
        )
    return extended


def guide_original_design(table: OperationsTable) -> dict[str, dict[str, float]]:
    """The seed guide's own Worker (its step 5; bench/guide-worker/) with its step 6 KV counter:
    cache-aside over KV and D1 as here, but an unknown user's `null` is put in KV and never hits
    (`if (!subscription)`), so every lookup of a user without a subscription reads KV, reads D1
    and writes KV; usage is the KV counter (kv_counter_alternative). It writes no log line of its
    own (every entry routine, priced with the routine rate at 0) and no data point."""
    design = kv_counter_alternative(table)
    for no_row, lapsed in NEGATIVE_HIT_TO_MISS.values():
        for miss in (no_row, lapsed):
            if not miss.startswith("usage_"):  # the KV counter looks up no subscription
                design[miss] = {**design[miss], "kv_writes": design[miss]["kv_writes"] + 1}
    return {outcome: {**ops, LOG_SAMPLED: 1.0} for outcome, ops in design.items()}
