"""The cost and capacity model: a stack's expected traffic, priced before it is deployed.

traffic (settings) x what one request does (worker/operations.json)
  -> daily KV, D1 and Worker quantities -> free-plan utilisation and the paid bill.

Pure functions: the CLI, the preview warning and the tests call them without the engine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cronsim import CronSim

from infra import platform, worker_contract
from infra.cost.operations import (
    OPERATION_KINDS,
    PER_DELETED_ROW,
    OperationsTable,
    kv_counter_alternative,
    load_operations,
    with_cache_miss_variants,
)
from infra.plan.seeds import seed_entries
from infra.settings import Settings, load_settings
from infra.settings.traffic import Traffic

SECONDS_PER_DAY = 86_400

# Sizes the storage estimate assumes (bytes, indexes included); storage is far from
# every limit at these sizes, so a rough figure is enough.
CACHED_SUBSCRIPTION_BYTES = 256  # key + JSON record + KV's per-key metadata
SUBSCRIPTION_ROW_BYTES = 200
USAGE_ROW_BYTES = 100  # one row per user per day: user id, day, count, primary key

UsageStore = Literal["d1", "kv-counter"]


def cron_runs_per_day(cron: str) -> float:
    """Average runs a day of a cron expression, over a 28-day window (whole weeks)."""
    start = dt.datetime(2026, 1, 1)
    end = start + dt.timedelta(days=28)
    runs = 0
    for when in CronSim(cron, start - dt.timedelta(seconds=1)):  # counts a run at `start` itself
        if when >= end:
            break
        runs += 1
    return runs / 28


def requests_per_day(traffic: Traffic, cron: str) -> dict[str, float]:
    """How many invocations a day end in each route outcome."""
    checks = traffic.active_users * traffic.subscription_checks_per_user_per_day
    subscribed = checks * (1 - traffic.unsubscribed_share)
    unsubscribed = checks * traffic.unsubscribed_share
    hit = traffic.cache_hit_ratio
    entitlements = traffic.active_users * traffic.entitlements_checks_per_user_per_day
    usage_calls = traffic.active_users * traffic.usage_calls_per_user_per_day
    usage = usage_calls * (1 - traffic.unsubscribed_share)
    refused = usage_calls * traffic.unsubscribed_share  # 403: no active subscription
    return {
        "health": traffic.health_checks_per_day,
        "subscription_get_hit": subscribed * hit,
        "subscription_get_miss": subscribed * (1 - hit),
        "subscription_get_negative_hit": unsubscribed * hit,
        "subscription_get_not_found": unsubscribed * (1 - hit),
        "subscription_put": traffic.subscription_updates_per_day,
        "tiers_get": traffic.active_users * traffic.tier_reads_per_user_per_day,
        # Entitlements share the subscription's cache entry: the same hit ratio and unsubscribed share.
        "entitlements_get_hit": entitlements * (1 - traffic.unsubscribed_share) * hit,
        "entitlements_get_miss": entitlements * (1 - traffic.unsubscribed_share) * (1 - hit),
        "entitlements_get_negative_hit": entitlements * traffic.unsubscribed_share * hit,
        "entitlements_get_not_found": entitlements * traffic.unsubscribed_share * (1 - hit),
        "usage_post_allowed": usage * (1 - traffic.usage_denied_share) * hit,
        "usage_post_allowed_cache_miss": usage * (1 - traffic.usage_denied_share) * (1 - hit),
        "usage_post_denied": usage * traffic.usage_denied_share * hit,
        "usage_post_denied_cache_miss": usage * traffic.usage_denied_share * (1 - hit),
        "usage_post_no_subscription": refused * hit,
        "usage_post_no_subscription_cache_miss": refused * (1 - hit),
        "scheduled_cleanup": cron_runs_per_day(cron),
    }


def evenly_spread_hit_ratio(traffic: Traffic, ttl_s: int) -> float:
    """The hit ratio if each user's lookups came at random (Poisson) times over the day.

    A miss caches the entry for ttl_s; the lookups within that time hit, then the next
    one misses again. With lambda lookups a second per user, each miss is followed by
    lambda*ttl hits on average: hit ratio = lambda*ttl / (1 + lambda*ttl). Real users
    look up in bursts, which is what a higher `cacheHitRatio` assumes; this is its floor.
    """
    lookups = (
        traffic.subscription_checks_per_user_per_day
        + traffic.usage_calls_per_user_per_day
        + traffic.entitlements_checks_per_user_per_day
    )
    per_ttl = lookups / SECONDS_PER_DAY * ttl_s
    return per_ttl / (1 + per_ttl)


def usage_rows_per_day(traffic: Traffic) -> float:
    """Usage rows D1 gains a day: one per subscribed user who records any use that day (an upsert)."""
    return traffic.active_users * (1 - traffic.unsubscribed_share) * min(1.0, traffic.usage_calls_per_user_per_day)


def _over(amount: float, limit: float) -> bool:
    """Strictly over the limit; exactly at it still fits (shares like 0.9 x 1,000 leave float dust)."""
    return amount > limit * (1 + 1e-9)


@dataclass(frozen=True)
class MeterEstimate:
    key: str
    label: str
    daily: float
    free_daily_limit: float | None
    paid_included_monthly: float
    paid_usd_per_million: float

    @property
    def monthly(self) -> float:
        return self.daily * platform.DAYS_PER_MONTH

    @property
    def utilisation(self) -> float | None:
        """Share of the free plan's daily limit used (1.0 = all of it)."""
        return None if not self.free_daily_limit else self.daily / self.free_daily_limit

    @property
    def over_free_limit(self) -> bool:
        return self.free_daily_limit is not None and _over(self.daily, self.free_daily_limit)

    @property
    def exhausted_after_s(self) -> float | None:
        """Seconds after 00:00 UTC at which the day's free allowance runs out (traffic spread evenly)."""
        if self.free_daily_limit is None or not self.over_free_limit:
            return None
        return SECONDS_PER_DAY * self.free_daily_limit / self.daily

    @property
    def paid_overage(self) -> float:
        return max(0.0, self.monthly - self.paid_included_monthly)

    @property
    def paid_usd(self) -> float:
        return self.paid_overage / 1_000_000 * self.paid_usd_per_million


@dataclass(frozen=True)
class StorageEstimate:
    key: str
    label: str
    bytes: float
    free_limit_bytes: float
    paid_included_bytes: float
    paid_usd_per_gb_month: float

    @property
    def utilisation(self) -> float:
        return self.bytes / self.free_limit_bytes

    @property
    def over_free_limit(self) -> bool:
        return _over(self.bytes, self.free_limit_bytes)

    @property
    def paid_usd(self) -> float:
        return max(0.0, self.bytes - self.paid_included_bytes) / platform.GB * self.paid_usd_per_gb_month


@dataclass(frozen=True)
class LimitHit:
    """The first day (0 = at today's traffic) a free-plan limit is crossed, and which."""

    day: int
    label: str
    active_users: int


@dataclass(frozen=True)
class Estimate:
    traffic: Traffic
    usage_store: UsageStore
    requests: dict[str, float]
    meters: tuple[MeterEstimate, ...]
    storage: tuple[StorageEstimate, ...]
    d1_queries_daily: float
    first_limit_hit: LimitHit | None = field(default=None)
    evenly_spread_hit_ratio: float | None = field(default=None)

    @property
    def quantities(self) -> tuple[MeterEstimate | StorageEstimate, ...]:
        """Every billed quantity, then every store."""
        return (*self.meters, *self.storage)

    @property
    def over_free_limits(self) -> tuple[MeterEstimate | StorageEstimate, ...]:
        return tuple(m for m in self.quantities if m.over_free_limit)

    @property
    def paid_monthly_usd(self) -> float:
        """The monthly bill on Workers Paid: the $5 minimum plus what exceeds its allowances."""
        usage = sum(m.paid_usd for m in self.meters) + sum(s.paid_usd for s in self.storage)
        return platform.WORKERS_PAID_MINIMUM_USD + usage

    def to_json(self) -> dict[str, Any]:
        return {
            "pricesReadOn": platform.PRICES_READ_ON.isoformat(),
            "sources": list(platform.SOURCES),
            "daysPerMonth": platform.DAYS_PER_MONTH,
            "usageStore": self.usage_store,
            "traffic": self.traffic.model_dump(by_alias=True),
            "requestsPerDay": {k: _num(v) for k, v in self.requests.items()},
            "d1QueriesPerDay": _num(self.d1_queries_daily),
            "meters": {
                m.key: {
                    "daily": _num(m.daily),
                    "monthly": _num(m.monthly),
                    "freeDailyLimit": m.free_daily_limit,
                    "freeUtilisation": _num(m.utilisation),
                    "freeExhaustedAtUtc": utc_clock(m.exhausted_after_s),
                    "paidIncludedMonthly": m.paid_included_monthly,
                    "paidUsd": round(m.paid_usd, 2),
                }
                for m in self.meters
            },
            "storage": {
                s.key: {
                    "bytes": _num(s.bytes),
                    "freeLimitBytes": s.free_limit_bytes,
                    "freeUtilisation": _num(s.utilisation),
                    "paidUsd": round(s.paid_usd, 2),
                }
                for s in self.storage
            },
            "overFreeLimits": [m.key for m in self.over_free_limits],
            "firstFreeLimitHit": None
            if self.first_limit_hit is None
            else {
                "day": self.first_limit_hit.day,
                "limit": self.first_limit_hit.label,
                "activeUsers": self.first_limit_hit.active_users,
            },
            "paidMonthlyUsd": round(self.paid_monthly_usd, 2),
            "paidMinimumUsd": platform.WORKERS_PAID_MINIMUM_USD,
            "evenlySpreadHitRatio": _num(self.evenly_spread_hit_ratio),
        }


def _num(value: float | None) -> float | int | None:
    """Rounded for reading: whole numbers as ints, the rest to 4 decimals (no float noise)."""
    if value is None:
        return None
    rounded = round(value, 4)
    return int(rounded) if rounded == int(rounded) else rounded


def utc_clock(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    minutes = int(seconds // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def daily_totals(requests: Mapping[str, float], table: OperationsTable) -> dict[str, float]:
    """Sum of (invocations of each outcome x its operations), plus one Worker request per invocation."""
    totals = {
        kind: sum(count * table[outcome][kind] for outcome, count in requests.items()) for kind in OPERATION_KINDS
    }
    totals["worker_requests"] = sum(requests.values())
    return totals


def _storage(settings: Settings, requests: Mapping[str, float], usage_store: UsageStore) -> dict[str, float]:
    traffic = settings.traffic
    seeds = sum(len(key.encode()) + len(value.encode()) for key, value in seed_entries(settings).items())
    # Little's law: entries alive = entries written a day x how long each lives.
    fills = requests["subscription_get_miss"] + requests["entitlements_get_miss"]
    negative_fills = requests["subscription_get_not_found"] + requests["entitlements_get_not_found"]
    if usage_store == "d1":  # usage calls fill the same cache entries
        fills += requests["usage_post_allowed_cache_miss"] + requests["usage_post_denied_cache_miss"]
        negative_fills += requests["usage_post_no_subscription_cache_miss"]
    cached = (
        fills * settings.ttls.subscription + negative_fills * worker_contract.NEGATIVE_CACHE_TTL_S
    ) / SECONDS_PER_DAY
    kv_bytes = seeds + min(traffic.active_users, cached) * CACHED_SUBSCRIPTION_BYTES
    subscribers = traffic.active_users * (1 - traffic.unsubscribed_share)
    d1_bytes = subscribers * SUBSCRIPTION_ROW_BYTES
    if usage_store == "d1":
        d1_bytes += usage_rows_per_day(traffic) * settings.usage_retention_days * USAGE_ROW_BYTES
    else:  # one counter key per user who used the API today, alive for the day
        kv_bytes += usage_rows_per_day(traffic) * CACHED_SUBSCRIPTION_BYTES
    return {"kv_storage_bytes": kv_bytes, "d1_storage_bytes": d1_bytes}


def _estimate_now(settings: Settings, table: OperationsTable, usage_store: UsageStore) -> Estimate:
    ops = kv_counter_alternative(table) if usage_store == "kv-counter" else with_cache_miss_variants(table)
    requests = requests_per_day(settings.traffic, settings.cron)
    totals = daily_totals(requests, ops)
    if usage_store == "d1":
        # In steady state the cron deletes as many usage rows a day as are created.
        expiring = usage_rows_per_day(settings.traffic)
        for kind in OPERATION_KINDS:
            totals[kind] += expiring * ops[PER_DELETED_ROW][kind]
    meters = tuple(
        MeterEstimate(
            m.key, m.label, totals[m.key], m.free_daily_limit, m.paid_included_monthly, m.paid_usd_per_million
        )
        for m in platform.METERS
    )
    stored = _storage(settings, requests, usage_store)
    storage = tuple(
        StorageEstimate(
            s.key, s.label, stored[s.key], s.free_limit_bytes, s.paid_included_bytes, s.paid_usd_per_gb_month
        )
        for s in platform.STORAGE_METERS
    )
    return Estimate(settings.traffic, usage_store, requests, meters, storage, totals["d1_queries"])


def with_traffic(settings: Settings, overrides: Mapping[str, Any], stack: str) -> Settings:
    """The settings with some `traffic.*` values replaced, validated like the stack's own."""
    if not overrides:
        return settings
    merged = {**settings.traffic.model_dump(by_alias=True), **overrides}
    traffic = load_settings({"traffic": merged}, stack=stack, require_account=False, env={}).traffic
    return settings.model_copy(update={"traffic": traffic})


def _with_users(settings: Settings, users: int) -> Settings:
    return settings.model_copy(update={"traffic": settings.traffic.model_copy(update={"active_users": users})})


def users_on_day(traffic: Traffic, day: int) -> int:
    growth: float = (1 + traffic.monthly_user_growth) ** (day / platform.DAYS_PER_MONTH)
    return round(traffic.active_users * growth)


HORIZON_DAYS = 3 * 365


def first_limit_hit(settings: Settings, table: OperationsTable, usage_store: UsageStore = "d1") -> LimitHit | None:
    """The first day a free-plan limit is crossed as users grow, within HORIZON_DAYS; None if never."""
    traffic = settings.traffic

    def crossed(day: int) -> tuple[MeterEstimate | StorageEstimate, ...]:
        return _estimate_now(_with_users(settings, users_on_day(traffic, day)), table, usage_store).over_free_limits

    if not crossed(0):
        if traffic.monthly_user_growth == 0 or not crossed(HORIZON_DAYS):
            return None
        low, high = 0, HORIZON_DAYS  # crossed(low) is false, crossed(high) true: every quantity grows with users
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if crossed(middle) else (middle, high)
        day = high
    else:
        day = 0
    first = crossed(day)
    # Of the limits crossed that day, the one used up first (highest utilisation).
    worst = max(first, key=lambda m: m.utilisation or 0)
    return LimitHit(day=day, label=worst.label, active_users=users_on_day(traffic, day))


def estimate(settings: Settings, table: OperationsTable | None = None, usage_store: UsageStore = "d1") -> Estimate:
    """The stack's expected daily quantities, free-plan utilisation and paid bill."""
    table = load_operations() if table is None else table
    return dataclasses.replace(
        _estimate_now(settings, table, usage_store),
        first_limit_hit=first_limit_hit(settings, table, usage_store),
        evenly_spread_hit_ratio=evenly_spread_hit_ratio(settings.traffic, settings.ttls.subscription),
    )
