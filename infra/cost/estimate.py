"""The cost and capacity model: a stack's expected traffic, priced before it is deployed.

traffic (settings) x what one request does (worker/operations.json)
  -> daily KV, D1, Worker, Workers Logs and Analytics Engine quantities
  -> free-plan utilisation and the paid bill.

Pure functions: the CLI, the preview warning and the tests call them without the engine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cronsim import CronSim

from infra import platform, worker_contract
from infra.cost.operations import (
    HIT_TO_MISS,
    LOG_SAMPLED,
    NEGATIVE_HIT_TO_MISS,
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
from infra.settings.worker import Ttls

SECONDS_PER_DAY = 86_400
D1_KINDS = tuple(kind for kind in OPERATION_KINDS if kind.startswith("d1_"))

# Sizes the storage estimate assumes (bytes, indexes included); storage is far from
# every limit at these sizes, so a rough figure is enough.
CACHED_SUBSCRIPTION_BYTES = 256  # key + JSON record + KV's per-key metadata
SUBSCRIPTION_ROW_BYTES = 200
USAGE_ROW_BYTES = 100  # one row per user per usage window: user id, window start, count, primary key
# One Idempotency-Key's row in usage_keys, with its created_at index entry: 205 bytes in SQLite
# (D1's engine) for a UUID key and owner and a `client:user` fingerprint
# (tests/cost/test_keyed_usage.py measures it on the real migration and holds this within 25 %).
KEY_ROW_BYTES = 250
# Workers Logs bills bytes. The Worker's own line: the longest of its real lines on workerd is
# 345 bytes (tests/e2e/test_log_volume.py holds this within 25 % above it). Cloudflare's invocation
# log (URL, method, status, the request's metadata) is not written on workerd, so its size is
# assumed, not measured: about 1 kB.
WORKER_LOG_LINE_BYTES = 400
INVOCATION_LOG_BYTES = 1_000
# CPU time per invocation: assumed, not measured (workerd reports none). The Worker parses a small
# JSON body, reads KV or D1 and writes one line: a few ms at most; the dashboard's "CPU time"
# chart gives the real median, to set as `traffic.cpuMsPerRequest`.

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


def negative_hit_ratio(hit_ratio: float, subscription_ttl_s: int) -> float:
    """The hit ratio of the Worker's "no subscription" entries, which live 60 s, not the subscription TTL.

    Derived from the ratio assumed for entries living the subscription TTL T: with lookups at
    random times within a user's session, a ratio h means h/(1-h) lookups per T (the inverse of
    x/(1+x)); the same rate gives x' = h/(1-h) * 60/T lookups per negative entry's life, and
    the ratio x'/(1+x'). For h = 0.9 and T = 300 s that is 64 %, not 90 %.
    """
    if hit_ratio >= 1:
        return 1.0
    per_negative_ttl = hit_ratio / (1 - hit_ratio) * worker_contract.NEGATIVE_CACHE_TTL_S / subscription_ttl_s
    return per_negative_ttl / (1 + per_negative_ttl)


def requests_per_day(
    traffic: Traffic, cron: str, subscription_ttl_s: int = Ttls().subscription, *, negative_cache: bool = True
) -> dict[str, float]:
    """How many invocations a day end in each route outcome (and each case of it that costs differently).
    Without a working negative cache (`negative_cache_works`) no "no subscription" lookup hits."""
    checks = traffic.active_users * traffic.subscription_checks_per_user_per_day
    subscribed = checks * (1 - traffic.unsubscribed_share)
    unsubscribed = checks * traffic.unsubscribed_share
    hit = traffic.cache_hit_ratio
    negative_hit = negative_hit_ratio(hit, subscription_ttl_s) if negative_cache else 0.0
    lapsed = traffic.lapsed_share
    entitlements = traffic.active_users * traffic.entitlements_checks_per_user_per_day
    usage_calls = traffic.active_users * traffic.usage_calls_per_user_per_day
    usage = usage_calls * (1 - traffic.unsubscribed_share)
    refused = usage_calls * traffic.unsubscribed_share  # 404 no_active_subscription (403 before API v1)
    return {
        "health": traffic.health_checks_per_day,
        "subscription_get_hit": subscribed * hit,
        "subscription_get_miss": subscribed * (1 - hit),
        "subscription_get_negative_hit": unsubscribed * negative_hit,
        "subscription_get_not_found": unsubscribed * (1 - negative_hit) * (1 - lapsed),
        "subscription_get_not_found_lapsed": unsubscribed * (1 - negative_hit) * lapsed,
        "subscription_put": traffic.subscription_updates_per_day,
        "tiers_get": traffic.active_users * traffic.tier_reads_per_user_per_day,
        # Entitlements share the subscription's cache entry: the same hit ratio and unsubscribed share.
        # Each is priced with today's count read from D1, as if no isolate ever had it in memory
        # (ENTITLEMENTS_COUNT_MAX_AGE): how often one does depends on how the app's calls spread
        # over Cloudflare's isolates, which no setting tells; the dear side, as for lapsedShare.
        "entitlements_get_hit_count_read": entitlements * (1 - traffic.unsubscribed_share) * hit,
        "entitlements_get_miss_count_read": entitlements * (1 - traffic.unsubscribed_share) * (1 - hit),
        "entitlements_get_negative_hit": entitlements * traffic.unsubscribed_share * negative_hit,
        "entitlements_get_not_found": entitlements * traffic.unsubscribed_share * (1 - negative_hit) * (1 - lapsed),
        "entitlements_get_not_found_lapsed": entitlements * traffic.unsubscribed_share * (1 - negative_hit) * lapsed,
        # A usage call with an Idempotency-Key (keyedUsageShare of them) costs the keyed entries.
        **{
            f"usage_post_{result}{keyed}{cache}": usage * share * of_keyed * of_cache
            for result, share in (("allowed", 1 - traffic.usage_denied_share), ("denied", traffic.usage_denied_share))
            for keyed, of_keyed in (("", 1 - traffic.keyed_usage_share), ("_keyed", traffic.keyed_usage_share))
            for cache, of_cache in (("", hit), ("_cache_miss", 1 - hit))
        },
        "usage_post_no_subscription": refused * negative_hit,
        "usage_post_no_subscription_cache_miss": refused * (1 - negative_hit) * (1 - lapsed),
        "usage_post_no_subscription_cache_miss_lapsed": refused * (1 - negative_hit) * lapsed,
        "scheduled_cleanup": cron_runs_per_day(cron),
    }


def random_arrival_hit_ratio(traffic: Traffic, ttl_s: int, usage_store: UsageStore = "d1") -> float:
    """The hit ratio if each user's lookups came at random (Poisson) times over the day.

    A miss caches the entry for ttl_s; the lookups within that time hit, then the next
    one misses again. With lambda lookups a second per user, each miss is followed by
    lambda*ttl hits on average: hit ratio = lambda*ttl / (1 + lambda*ttl). It is no floor:
    lookups spaced evenly further apart than the TTL all miss (0 %), and lookups in bursts
    (sessions), which a higher `cacheHitRatio` assumes, hit more. Usage calls look up the
    subscription too, unless usage is counted by the guide's KV counter, which does not.
    """
    lookups = traffic.subscription_checks_per_user_per_day + traffic.entitlements_checks_per_user_per_day
    if usage_store == "d1":
        lookups += traffic.usage_calls_per_user_per_day
    per_ttl = lookups / SECONDS_PER_DAY * ttl_s
    return per_ttl / (1 + per_ttl)


def usage_rows_per_day(traffic: Traffic, window_s: int) -> float:
    """Usage rows D1 gains a day: one per subscribed user and usage window (`usageWindowSeconds`)
    in which they record any use (an upsert). At most one a call, and at most as many as the
    windows a day holds: with the default window of a day, the users who record any use."""
    windows_per_day = SECONDS_PER_DAY / window_s
    calls = traffic.usage_calls_per_user_per_day
    return traffic.active_users * (1 - traffic.unsubscribed_share) * min(windows_per_day, calls)


def keyed_calls_per_day(requests: Mapping[str, float]) -> float:
    """Usage calls a day that store an Idempotency-Key: one row each in usage_keys."""
    return sum(count for outcome, count in requests.items() if "_keyed" in outcome)


def stored_keys(requests: Mapping[str, float], idempotency_window_s: int, cron: str) -> float:
    """Idempotency-Key rows D1 holds at most: each lives `idempotencyWindowSeconds`, and then
    until the cron's next run deletes it (Little's law, at the moment before a run)."""
    between_runs_s = SECONDS_PER_DAY / cron_runs_per_day(cron)
    return keyed_calls_per_day(requests) * (idempotency_window_s + between_runs_s) / SECONDS_PER_DAY


def over_limit(amount: float, limit: float) -> bool:
    """Strictly over the limit; exactly at it still fits (shares like 0.9 x 1,000 leave float dust)."""
    return amount > limit * (1 + 1e-9)


def at_limit(amount: float, limit: float) -> bool:
    """Exactly at the limit (within float dust): it fits, with nothing to spare, and is flagged."""
    return not over_limit(amount, limit) and amount >= limit * (1 - 1e-9)


@dataclass(frozen=True)
class MeterEstimate:
    key: str
    label: str
    daily: float
    free_daily_limit: float | None
    paid_included_monthly: float
    paid_usd_per_million: float
    over_free_effect: str  # what happens past the free plan's daily limit (platform.Meter)
    billed: bool  # False: priced by Cloudflare in advance, not charged yet
    unit: str = "operations"

    @classmethod
    def of(cls, meter: platform.Meter, daily: float) -> MeterEstimate:
        return cls(
            meter.key,
            meter.label,
            daily,
            meter.free_daily_limit,
            meter.paid_included_monthly,
            meter.paid_usd_per_million,
            meter.over_free_effect,
            meter.billed,
            meter.unit,
        )

    @property
    def monthly(self) -> float:
        return self.daily * platform.DAYS_PER_MONTH

    @property
    def utilisation(self) -> float | None:
        """Share of the free plan's daily limit used (1.0 = all of it)."""
        return None if not self.free_daily_limit else self.daily / self.free_daily_limit

    @property
    def over_free_limit(self) -> bool:
        return self.free_daily_limit is not None and over_limit(self.daily, self.free_daily_limit)

    @property
    def at_free_limit(self) -> bool:
        return self.free_daily_limit is not None and self.daily > 0 and at_limit(self.daily, self.free_daily_limit)

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
        """What the overage costs at the published price (charged only when `billed`)."""
        return self.paid_overage / 1_000_000 * self.paid_usd_per_million


@dataclass(frozen=True)
class StorageEstimate:
    key: str
    label: str
    bytes: float
    free_limit_bytes: float | None  # None: the free plan sets no limit of its own
    paid_included_bytes: float
    paid_usd_per_gb_month: float

    @property
    def utilisation(self) -> float | None:
        return None if self.free_limit_bytes is None else self.bytes / self.free_limit_bytes

    @property
    def over_free_limit(self) -> bool:
        return self.free_limit_bytes is not None and over_limit(self.bytes, self.free_limit_bytes)

    @property
    def at_free_limit(self) -> bool:
        return self.free_limit_bytes is not None and self.bytes > 0 and at_limit(self.bytes, self.free_limit_bytes)

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
class KvFallback:
    """On the Free plan: from `after_s` (UTC) KV refuses the day's remaining writes (or reads), so
    the Worker caches nothing and every lookup reads D1 until 00:00 UTC; the D1 work that adds."""

    after_s: float
    cause: str  # the KV meter that ran out first
    # D1 kind (and workers_log_events/_bytes: a miss is always logged) -> additional daily amount,
    # already in the meters
    extra: dict[str, float]


@dataclass(frozen=True)
class Estimate:
    traffic: Traffic
    usage_store: UsageStore
    requests: dict[str, float]
    meters: tuple[MeterEstimate, ...]
    storage: tuple[StorageEstimate, ...]
    d1_queries_daily: float
    kv_fallback: KvFallback | None = field(default=None)
    first_limit_hit: LimitHit | None = field(default=None)
    database_full: LimitHit | None = field(default=None)
    random_arrival_hit_ratio: float | None = field(default=None)
    negative_hit_ratio: float | None = field(default=None)
    # The bill of this traffic on Workers Paid, from a run on Paid: no Free-plan fallback priced
    # (set by `estimate`; without it, the bill of this run's own figures).
    paid_quote_usd: float | None = field(default=None)
    # The same at the random-arrival hit ratio (and its negative-cache ratio): the dear end of the range.
    paid_random_arrival_usd: float | None = field(default=None)
    log_events_daily: float = field(default=0.0)

    @property
    def quantities(self) -> tuple[MeterEstimate | StorageEstimate, ...]:
        """Every billed quantity, then every store."""
        return (*self.meters, *self.storage)

    @property
    def over_free_limits(self) -> tuple[MeterEstimate | StorageEstimate, ...]:
        return tuple(m for m in self.quantities if m.over_free_limit)

    @property
    def at_free_limits(self) -> tuple[MeterEstimate | StorageEstimate, ...]:
        """Quantities exactly at a free limit: they fit with nothing to spare (flagged, not passed)."""
        return tuple(m for m in self.quantities if m.at_free_limit)

    @property
    def first_used_up(self) -> MeterEstimate | None:
        """The Free daily allowance the day uses up first (traffic spread evenly), if any."""
        used_up = [m for m in self.meters if m.exhausted_after_s is not None]
        return min(used_up, key=lambda m: m.exhausted_after_s or 0.0) if used_up else None

    @property
    def own_paid_monthly_usd(self) -> float:
        """The $5 minimum plus what this run's own figures exceed of Paid's allowances."""
        usage = sum(m.paid_usd for m in self.meters if m.billed) + sum(s.paid_usd for s in self.storage)
        return platform.WORKERS_PAID_MINIMUM_USD + usage

    @property
    def paid_monthly_usd(self) -> float:
        """The monthly bill on Workers Paid at the assumed hit ratio: the $5 minimum plus what
        exceeds its allowances, priced from a run on Paid (no work that only Free's limits cause)."""
        return self.own_paid_monthly_usd if self.paid_quote_usd is None else self.paid_quote_usd

    @property
    def paid_range_usd(self) -> tuple[float, float]:
        """The Paid bill from the assumed hit ratio to the random-arrival one (cheap, dear)."""
        dear = self.paid_random_arrival_usd
        low = self.paid_monthly_usd
        return (low, low) if dear is None else (min(low, dear), max(low, dear))

    @property
    def unbilled_monthly_usd(self) -> float:
        """What the quantities Cloudflare prices but does not charge yet would add (Analytics Engine)."""
        return sum(m.paid_usd for m in self.meters if not m.billed)

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
                    "billed": m.billed,
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
            "kvFallback": None
            if self.kv_fallback is None
            else {
                "fromUtc": utc_clock(self.kv_fallback.after_s),
                "cause": self.kv_fallback.cause,
                "extraPerDay": {kind: _num(amount) for kind, amount in self.kv_fallback.extra.items()},
            },
            "firstFreeLimitHit": _limit_hit_json(self.first_limit_hit),
            "databaseFull": _limit_hit_json(self.database_full),
            "paidMonthlyUsd": round(self.paid_monthly_usd, 2),
            "paidMonthlyUsdRange": [round(v, 2) for v in self.paid_range_usd],
            "workersLogEventsPerDay": _num(self.log_events_daily),
            "paidMinimumUsd": platform.WORKERS_PAID_MINIMUM_USD,
            "unbilledMonthlyUsd": round(self.unbilled_monthly_usd, 2),
            "workersLogsPricingChangesOn": platform.WORKERS_LOGS_PRICING_CHANGES_ON.isoformat(),
            # True since the volume figures were read on Cloudflare's Observability pricing page (platform.py).
            "workersLogsFiguresConfirmed": platform.WORKERS_LOGS_FIGURES_CONFIRMED,
            "randomArrivalHitRatio": _num(self.random_arrival_hit_ratio),
            "negativeCacheHitRatio": _num(self.negative_hit_ratio),
        }


def _limit_hit_json(hit: LimitHit | None) -> dict[str, Any] | None:
    if hit is None:
        return None
    return {"day": hit.day, "limit": hit.label, "activeUsers": hit.active_users}


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


def log_events_per_request(settings: Settings, entry: Mapping[str, float]) -> float:
    invocation, own = log_events_split(settings, entry)
    return invocation + own


def log_bytes_per_request(settings: Settings, entry: Mapping[str, float]) -> float:
    """Bytes Workers Logs ingests for one invocation: its events, each at its size."""
    invocation, own = log_events_split(settings, entry)
    return invocation * INVOCATION_LOG_BYTES + own * WORKER_LOG_LINE_BYTES


def log_events_split(settings: Settings, entry: Mapping[str, float]) -> tuple[float, float]:
    """Workers Logs events one invocation of an outcome makes: Cloudflare's invocation log (when
    on) and the Worker's own line (every time, or at requestLog.routineSampleRate for a routine
    answer), times the logs' head sampling rate. Nothing when logs are off or not kept.

    The logs' own rate is used, the higher figure whether Cloudflare applies it instead of the
    top-level `observability.headSamplingRate` or multiplies the two.
    """
    observability = settings.observability
    logs = observability.logs
    if not (observability.enabled and logs.enabled and logs.persist):
        return 0.0, 0.0
    invocation = 1.0 if logs.invocation_logs else 0.0
    own = settings.request_log.routine_sample_rate if entry.get(LOG_SAMPLED) else 1.0
    return logs.head_sampling_rate * invocation, logs.head_sampling_rate * own


def observability_totals(settings: Settings, requests: Mapping[str, float], table: OperationsTable) -> dict[str, float]:
    """Workers Logs events and bytes, Analytics Engine data points (one per fetch, none for the cron
    run) and Analytics Engine read queries (`guruai-cache metrics`, dashboards) a day."""
    fetches = sum(count for outcome, count in requests.items() if outcome != "scheduled_cleanup")
    return {
        "workers_log_events": sum(
            count * log_events_per_request(settings, table[outcome]) for outcome, count in requests.items()
        ),
        "workers_logs_bytes": sum(
            count * log_bytes_per_request(settings, table[outcome]) for outcome, count in requests.items()
        ),
        "workers_cpu_ms": sum(requests.values()) * settings.traffic.cpu_ms_per_request,
        "ae_data_points": fetches if settings.metrics.enabled else 0.0,
        "ae_read_queries": settings.traffic.metrics_queries_per_day,
    }


def stored_subscriptions(traffic: Traffic) -> float:
    """Rows in D1's subscriptions table: `traffic.storedSubscriptions`, or every active user with a
    row (subscribers, and the unsubscribed users whose canceled or lapsed row stays)."""
    if traffic.stored_subscriptions is not None:
        return traffic.stored_subscriptions
    return traffic.active_users * (1 - traffic.unsubscribed_share * (1 - traffic.lapsed_share))


def _storage(
    settings: Settings, requests: Mapping[str, float], usage_store: UsageStore, log_bytes_daily: float
) -> dict[str, float]:
    traffic = settings.traffic
    seeds = sum(len(key.encode()) + len(value.encode()) for key, value in seed_entries(settings).items())
    # Little's law: entries alive = entries written a day x how long each lives.
    fills = requests["subscription_get_miss"] + requests["entitlements_get_miss_count_read"]
    if usage_store == "d1":  # usage calls fill the same cache entries
        fills += sum(
            requests[f"usage_post_{result}{keyed}_cache_miss"]
            for result in ("allowed", "denied")
            for keyed in ("", "_keyed")
        )
    # Negative entries live in the Cache API, not KV: only found subscriptions take KV space.
    cached = fills * settings.ttls.subscription / SECONDS_PER_DAY
    kv_bytes = seeds + min(traffic.active_users, cached) * CACHED_SUBSCRIPTION_BYTES
    d1_bytes = stored_subscriptions(traffic) * SUBSCRIPTION_ROW_BYTES
    if usage_store == "d1":
        d1_bytes += (
            usage_rows_per_day(traffic, settings.usage_window_seconds) * settings.usage_retention_days * USAGE_ROW_BYTES
        )
        d1_bytes += stored_keys(requests, settings.idempotency_window_seconds, settings.cron) * KEY_ROW_BYTES
    else:  # the guide's counter: one key per user who used the API today, alive for the day
        kv_bytes += usage_rows_per_day(traffic, SECONDS_PER_DAY) * CACHED_SUBSCRIPTION_BYTES
    logs_kept = log_bytes_daily * platform.WORKERS_LOGS_RETENTION_DAYS[traffic.workers_plan]
    return {"kv_storage_bytes": kv_bytes, "d1_storage_bytes": d1_bytes, "workers_logs_stored_bytes": logs_kept}


def kv_fallback(
    settings: Settings, totals: Mapping[str, float], requests: Mapping[str, float], ops: OperationsTable
) -> KvFallback | None:
    """On the Free plan, what the rest of the day costs D1 once KV's writes (or reads) run out.

    A failed KV put leaves nothing cached and a failed KV get is a bypass: either way every
    later lookup reads D1 as a miss does (an absent user's too once the gets fail; the Cache API
    keeps their negative entries, not KV), until the allowance resets at 00:00 UTC, and is
    logged as a miss is.
    """
    runs_out = [
        (limit / totals[meter.key], meter.label, meter.key)
        for meter in platform.METERS
        if meter.key in ("kv_reads", "kv_writes")
        and (limit := meter.free_daily_limit) is not None
        and over_limit(totals[meter.key], limit)
    ]
    if not runs_out:
        return None
    served, cause, meter_key = min(runs_out)

    lapsed_share = settings.traffic.lapsed_share

    def miss_cost(hit: str, kind: str) -> float:
        if hit in NEGATIVE_HIT_TO_MISS:
            no_row, lapsed = NEGATIVE_HIT_TO_MISS[hit]
            return (1 - lapsed_share) * ops[no_row][kind] + lapsed_share * ops[lapsed][kind]
        return ops[HIT_TO_MISS[hit]][kind]

    # Negative entries live in the Cache API: out of KV writes they still hit; out of KV reads,
    # the failed get comes first and the lookup goes to D1.
    hits = [*HIT_TO_MISS, *(NEGATIVE_HIT_TO_MISS if meter_key == "kv_reads" else ())]
    extra = {
        kind: (1 - served) * sum(requests[hit] * (miss_cost(hit, kind) - ops[hit][kind]) for hit in hits)
        for kind in D1_KINDS
    }
    # The same lookups, now misses, get a log line every time (a miss entry is never sampled).
    miss_events = log_events_per_request(settings, {LOG_SAMPLED: 0.0})
    extra["workers_log_events"] = (1 - served) * sum(
        requests[hit] * (miss_events - log_events_per_request(settings, ops[hit])) for hit in hits
    )
    miss_bytes = log_bytes_per_request(settings, {LOG_SAMPLED: 0.0})
    extra["workers_logs_bytes"] = (1 - served) * sum(
        requests[hit] * (miss_bytes - log_bytes_per_request(settings, ops[hit])) for hit in hits
    )
    return KvFallback(after_s=served * SECONDS_PER_DAY, cause=cause, extra=extra)


def negative_cache_works(settings: Settings) -> bool:
    """Whether the Worker's negative entries (Cache API) can hit: the Cache API does nothing on
    *.workers.dev ("any *.workers.dev deployments will have no impact", Cloudflare's Cache API
    page), so a Worker reached only there reads KV then D1 for every "no subscription" lookup."""
    return settings.custom_domain is not None or settings.route is not None


def estimate_now(
    settings: Settings,
    table: OperationsTable,
    usage_store: UsageStore,
    *,
    negative_cache: bool | None = None,
    ops: OperationsTable | None = None,
) -> Estimate:
    """The estimate at today's traffic. `ops` replaces the per-outcome operations the usage store
    implies (another design's), `negative_cache` whether negative entries can hit (default: as the
    stack's domain allows)."""
    if ops is None:
        ops = kv_counter_alternative(table) if usage_store == "kv-counter" else with_cache_miss_variants(table)
    works = negative_cache_works(settings) if negative_cache is None else negative_cache
    requests = requests_per_day(settings.traffic, settings.cron, settings.ttls.subscription, negative_cache=works)
    totals = daily_totals(requests, ops)
    totals.update(observability_totals(settings, requests, ops))
    if usage_store == "d1":
        for kind, amount in cleanup_totals(settings, requests, ops).items():
            totals[kind] += amount
    fallback = None
    if settings.traffic.workers_plan == "free":
        fallback = kv_fallback(settings, totals, requests, ops)
        for kind, amount in (fallback.extra if fallback else {}).items():
            totals[kind] += amount
    meters = tuple(MeterEstimate.of(m, totals[m.key]) for m in platform.METERS)
    stored = _storage(settings, requests, usage_store, totals["workers_logs_bytes"])
    storage = tuple(
        StorageEstimate(
            s.key, s.label, stored[s.key], s.free_limit_bytes, s.paid_included_bytes, s.paid_usd_per_gb_month
        )
        for s in platform.STORAGE_METERS
    )
    return Estimate(
        settings.traffic,
        usage_store,
        requests,
        meters,
        storage,
        totals["d1_queries"],
        fallback,
        log_events_daily=totals["workers_log_events"],
    )


def cleanup_totals(settings: Settings, requests: Mapping[str, float], ops: OperationsTable) -> dict[str, float]:
    """What the cron's deletes cost a day: in steady state it deletes as many usage rows and
    Idempotency-Keys a day as are created, each at scheduled_cleanup.per_deleted_row."""
    expiring = usage_rows_per_day(settings.traffic, settings.usage_window_seconds) + keyed_calls_per_day(requests)
    return {kind: expiring * ops[PER_DELETED_ROW][kind] for kind in OPERATION_KINDS}


def estimate_of_counts(
    settings: Settings, requests: Mapping[str, float], table: OperationsTable, modelled: Estimate
) -> Estimate:
    """The quantities of counted traffic: `requests` a day per outcome, each with the operations
    `table` gives it (for measured traffic: the averages its data points recorded), the cron's
    cleanup as `modelled` (the model run on the same traffic) has it, and `modelled`'s KV and D1
    stores (data points measure no storage); the logs kept are the counted logs'. No Free-plan
    fallback is added: counted traffic includes it."""
    totals = daily_totals(requests, table)
    totals.update(observability_totals(settings, requests, table))
    if modelled.usage_store == "d1":
        for kind, amount in cleanup_totals(settings, modelled.requests, table).items():
            totals[kind] += amount
    logs_kept = totals["workers_logs_bytes"] * platform.WORKERS_LOGS_RETENTION_DAYS[settings.traffic.workers_plan]
    storage = tuple(
        dataclasses.replace(s, bytes=logs_kept) if s.key == "workers_logs_stored_bytes" else s for s in modelled.storage
    )
    return Estimate(
        settings.traffic,
        modelled.usage_store,
        dict(requests),
        tuple(MeterEstimate.of(m, totals[m.key]) for m in platform.METERS),
        storage,
        totals["d1_queries"],
        log_events_daily=totals["workers_log_events"],
    )


def with_traffic(settings: Settings, overrides: Mapping[str, Any], stack: str) -> Settings:
    """The settings with some `traffic.*` values replaced, validated like the stack's own."""
    if not overrides:
        return settings
    merged = {**settings.traffic.model_dump(by_alias=True), **overrides}
    traffic = load_settings({"traffic": merged}, stack=stack, require_account=False, env={}).traffic
    return settings.model_copy(update={"traffic": traffic})


def with_users(settings: Settings, users: int) -> Settings:
    """The traffic at `users` active users: per-user figures as they are, subscription updates
    in proportion, and the stored subscriptions grown by every user added (no row is deleted)."""
    traffic = settings.traffic
    scale = users / traffic.active_users if traffic.active_users else 1.0
    stored = stored_subscriptions(traffic) + max(0, users - traffic.active_users)
    grown = traffic.model_copy(
        update={
            "active_users": users,
            "subscription_updates_per_day": traffic.subscription_updates_per_day * scale,
            "stored_subscriptions": round(stored),
        }
    )
    return settings.model_copy(update={"traffic": grown})


def users_on_day(traffic: Traffic, day: int) -> int:
    growth: float = (1 + traffic.monthly_user_growth) ** (day / platform.DAYS_PER_MONTH)
    return round(traffic.active_users * growth)


HORIZON_DAYS = 3 * 365


def _first_day(
    settings: Settings,
    table: OperationsTable,
    usage_store: UsageStore,
    crossed_in: Callable[[Estimate], Sequence[MeterEstimate | StorageEstimate]],
) -> tuple[int, Sequence[MeterEstimate | StorageEstimate]] | None:
    """The first day, as users grow, on which `crossed_in` finds something, within HORIZON_DAYS; None if never."""
    traffic = settings.traffic

    def crossed(day: int) -> Sequence[MeterEstimate | StorageEstimate]:
        return crossed_in(estimate_now(with_users(settings, users_on_day(traffic, day)), table, usage_store))

    if first := crossed(0):
        return 0, first
    if traffic.monthly_user_growth == 0 or not crossed(HORIZON_DAYS):
        return None
    low, high = 0, HORIZON_DAYS  # crossed(low) is false, crossed(high) true: every quantity grows with users
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if crossed(middle) else (middle, high)
    return high, crossed(high)


def first_limit_hit(settings: Settings, table: OperationsTable, usage_store: UsageStore = "d1") -> LimitHit | None:
    """The first day a free-plan limit is crossed as users grow, within HORIZON_DAYS; None if never."""
    found = _first_day(settings, table, usage_store, lambda result: result.over_free_limits)
    if found is None:
        return None
    day, crossed = found
    # Of the limits crossed that day, the one used up first (highest utilisation).
    worst = max(crossed, key=lambda m: m.utilisation or 0)
    return LimitHit(day=day, label=worst.label, active_users=users_on_day(settings.traffic, day))


def database_full(settings: Settings, table: OperationsTable, usage_store: UsageStore = "d1") -> LimitHit | None:
    """The first day the D1 database holds more than one database may on the account's plan
    (10 GB on Workers Paid, 500 MB on Free): its writes fail from then on."""
    plan = settings.traffic.workers_plan
    cap = platform.D1_MAX_DATABASE_BYTES[plan]

    def full(result: Estimate) -> list[StorageEstimate]:
        return [s for s in result.storage if s.key == "d1_storage_bytes" and over_limit(s.bytes, cap)]

    found = _first_day(settings, table, usage_store, full)
    if found is None:
        return None
    label = f"D1 database size ({cap / platform.GB:g} GB per database on Workers {plan.capitalize()})"
    return LimitHit(day=found[0], label=label, active_users=users_on_day(settings.traffic, found[0]))


def estimate(settings: Settings, table: OperationsTable | None = None, usage_store: UsageStore = "d1") -> Estimate:
    """The stack's expected daily quantities, free-plan utilisation and paid bill."""
    table = load_operations() if table is None else table
    traffic = settings.traffic
    random_arrival = random_arrival_hit_ratio(traffic, settings.ttls.subscription, usage_store)
    on_paid = with_traffic_fields(settings, workers_plan="paid")
    quote = estimate_now(on_paid, table, usage_store).own_paid_monthly_usd
    dear = estimate_now(with_traffic_fields(on_paid, cache_hit_ratio=random_arrival), table, usage_store)
    negative = negative_hit_ratio(traffic.cache_hit_ratio, settings.ttls.subscription)
    return dataclasses.replace(
        estimate_now(settings, table, usage_store),
        first_limit_hit=first_limit_hit(settings, table, usage_store),
        database_full=database_full(settings, table, usage_store),
        random_arrival_hit_ratio=random_arrival,
        negative_hit_ratio=negative if negative_cache_works(settings) else 0.0,
        paid_quote_usd=quote,
        paid_random_arrival_usd=dear.own_paid_monthly_usd,
    )


def with_traffic_fields(settings: Settings, **update: Any) -> Settings:
    return settings.model_copy(update={"traffic": settings.traffic.model_copy(update=update)})
