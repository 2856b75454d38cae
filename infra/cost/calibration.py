"""The estimate calibrated from measured traffic: the Worker's Analytics Engine data points (the
figures `guruai-cache metrics` reads) turned into `traffic.*` values, and their own KV and D1
operation counts priced, beside the stack's own estimate, with each setting that the
measurement contradicts named. Pure: the CLI passes the per-route and per-outcome figures in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from infra import worker_contract
from infra.cost.estimate import Estimate, cron_runs_per_day, estimate_of_counts, with_traffic_fields
from infra.cost.operations import LOG_SAMPLED, OPERATION_KINDS, PER_DELETED_ROW, OperationsTable
from infra.settings import Settings

SUBSCRIPTIONS = "GET /subscriptions/{userId}"
UPDATES = "PUT /subscriptions/{userId}"
USAGE = "POST /usage/{userId}"
ENTITLEMENTS = "GET /entitlements/{userId}"
TIERS = "GET /tiers"
HEALTH = "GET /health"
LOOKUP_ROUTES = (SUBSCRIPTIONS, USAGE, ENTITLEMENTS)
# Per-user settings: measured requests a day / traffic.activeUsers (Analytics Engine has no user ids).
PER_USER = {
    SUBSCRIPTIONS: "subscriptionChecksPerUserPerDay",
    USAGE: "usageCallsPerUserPerDay",
    ENTITLEMENTS: "entitlementsChecksPerUserPerDay",
    TIERS: "tierReadsPerUserPerDay",
}
PER_DAY = {UPDATES: "subscriptionUpdatesPerDay", HEALTH: "healthChecksPerDay"}
# Outcomes of a lookup for a user with an active subscription, and of one for a user without
# (a negative hit, or a miss that finds no active row): their shares calibrate cacheHitRatio
# (of the subscribed lookups only: negative hits live in the Cache API, 60 s) and unsubscribedShare.
SUBSCRIBED_LOOKUPS = (
    "subscription_get_hit",
    "subscription_get_miss",
    "entitlements_get_hit",
    "entitlements_get_miss",
    "usage_post_allowed",
    "usage_post_denied",
)
UNSUBSCRIBED_LOOKUPS = (
    "subscription_get_negative_hit",
    "subscription_get_not_found",
    "entitlements_get_negative_hit",
    "entitlements_get_not_found",
    "usage_post_no_subscription",
)
# Settings that are shares (compared in points, shown with two decimals), the rest are counts.
SHARES = ("cacheHitRatio", "unsubscribedShare", "usageDeniedShare")
# A setting is contradicted when the measurement is off by more than this share (counts) or
# these many points (the hit ratio).
COUNT_TOLERANCE = 0.25
RATIO_TOLERANCE = 0.05


class RouteFigures(Protocol):
    requests: float
    hits: float
    misses: float
    bypasses: float


class OutcomeFigures(Protocol):
    """One (outcome, cache) group of data points: requests and each operation count, summed."""

    @property
    def requests(self) -> float: ...

    @property
    def operations(self) -> Mapping[str, float]: ...


Outcomes = Mapping[tuple[str, str], OutcomeFigures]


@dataclass(frozen=True)
class Contradiction:
    setting: str
    configured: float
    measured: float
    days: float

    def line(self) -> str:
        def show(value: float) -> str:
            return f"{value:.2f}" if self.setting in SHARES else f"{value:,.4g}"

        return (
            f"`traffic.{self.setting}` is {show(self.configured)}; measured {show(self.measured)} "
            f"over {self.days:g} days"
        )


@dataclass(frozen=True)
class Calibration:
    days: float
    measured: dict[str, float]  # traffic setting (its camelCase name) -> measured value
    contradictions: tuple[Contradiction, ...]
    settings: Settings  # the stack's settings with the measured traffic
    # Of the lookups for users without a subscription, the share the negative cache answered
    # (None: no such lookup measured); not a setting: the model derives it (negative_hit_ratio).
    negative_hit_ratio: float | None = None


def measured_traffic(routes: Mapping[str, RouteFigures], span: dt.timedelta, active_users: int) -> dict[str, float]:
    """The `traffic.*` values the data points show, a day, spread over the stack's active users."""
    days = span.total_seconds() / 86_400
    measured: dict[str, float] = {}
    for route, setting in PER_USER.items():
        per_day = routes[route].requests / days if route in routes else 0.0
        measured[setting] = per_day / active_users if active_users else 0.0
    for route, setting in PER_DAY.items():
        measured[setting] = routes[route].requests / days if route in routes else 0.0
    hits = sum(routes[r].hits for r in LOOKUP_ROUTES if r in routes)
    lookups = sum(routes[r].hits + routes[r].misses + routes[r].bypasses for r in LOOKUP_ROUTES if r in routes)
    if lookups:
        measured["cacheHitRatio"] = hits / lookups
    return measured


def _count(outcomes: Outcomes, names: tuple[str, ...], cache: str | None = None) -> float:
    return sum(f.requests for (outcome, c), f in outcomes.items() if outcome in names and cache in (None, c))


def measured_shares(outcomes: Outcomes) -> dict[str, float]:
    """The share settings the outcomes show: the cache hit ratio of lookups for subscribed users
    (negative hits apart), the share of lookups for users without a subscription, and of usage
    calls refused over the limit. A share whose lookups were not measured is left out."""
    shares: dict[str, float] = {}
    subscribed = _count(outcomes, SUBSCRIBED_LOOKUPS)
    unsubscribed = _count(outcomes, UNSUBSCRIBED_LOOKUPS)
    if subscribed:
        shares["cacheHitRatio"] = _count(outcomes, SUBSCRIBED_LOOKUPS, "hit") / subscribed
    if subscribed + unsubscribed:
        shares["unsubscribedShare"] = unsubscribed / (subscribed + unsubscribed)
    usage = _count(outcomes, ("usage_post_allowed", "usage_post_denied"))
    if usage:
        shares["usageDeniedShare"] = _count(outcomes, ("usage_post_denied",)) / usage
    return shares


def measured_negative_hit_ratio(outcomes: Outcomes) -> float | None:
    unsubscribed = _count(outcomes, UNSUBSCRIBED_LOOKUPS)
    return _count(outcomes, UNSUBSCRIBED_LOOKUPS, "hit") / unsubscribed if unsubscribed else None


@dataclass(frozen=True)
class Latency:
    """What the cache buys in time, measured: the mean duration (ms, the data points'
    `duration_ms`) of a subscribed user's lookup that KV answered, and of one that D1 did."""

    kv_hit_ms: float
    d1_miss_ms: float
    hits_per_day: float


def measured_latency(outcomes: Outcomes, days: float) -> Latency | None:
    """None unless both hits and misses of subscribed users' lookups were measured."""

    def mean(cache: str) -> tuple[float, float]:
        groups = [f for (o, c), f in outcomes.items() if o in SUBSCRIBED_LOOKUPS and c == cache]
        requests = sum(f.requests for f in groups)
        total = sum(f.operations.get("duration_ms", 0.0) for f in groups)
        return requests, total / requests if requests else 0.0

    (hits, hit_ms), (misses, miss_ms) = mean("hit"), mean("miss")
    return Latency(hit_ms, miss_ms, hits / days) if hits and misses else None


def latency_lines(latency: Latency | None) -> list[str]:
    if latency is None:
        return []
    return [
        f"What the cache buys, measured: a lookup KV answered took {latency.kv_hit_ms:,.1f} ms, one D1 "
        f"answered {latency.d1_miss_ms:,.1f} ms (mean duration_ms); D1 alone would make the "
        f"{latency.hits_per_day:,.0f} KV hits a day D1 queries, "
        f"{latency.d1_miss_ms - latency.kv_hit_ms:+,.1f} ms each"
    ]


def calibrate(
    settings: Settings, routes: Mapping[str, RouteFigures], span: dt.timedelta, outcomes: Outcomes | None = None
) -> Calibration:
    traffic = settings.traffic
    measured = measured_traffic(routes, span, traffic.active_users)
    if outcomes:
        measured.update(measured_shares(outcomes))
    configured: dict[str, Any] = traffic.model_dump(by_alias=True)
    days = span.total_seconds() / 86_400
    contradictions = []
    for setting, value in measured.items():
        mine = float(configured[setting])
        if setting in SHARES:
            off = abs(value - mine) > RATIO_TOLERANCE
        else:
            off = abs(value - mine) > COUNT_TOLERANCE * max(mine, value)
        if off:
            contradictions.append(Contradiction(setting, mine, value, days))
    by_field = {
        name: measured[field.alias] for name, field in type(traffic).model_fields.items() if field.alias in measured
    }
    negative = measured_negative_hit_ratio(outcomes) if outcomes else None
    return Calibration(days, measured, tuple(contradictions), with_traffic_fields(settings, **by_field), negative)


def measured_operations_estimate(
    calibration: Calibration, outcomes: Outcomes, table: OperationsTable, modelled: Estimate
) -> Estimate:
    """The bill of what the data points recorded: each (outcome, cache) group's requests a day with
    the KV and D1 operations its points counted (whatever the table says: a keyed usage call, a
    Free day's fallback to D1, a Worker newer than the table are all in them), its log lines as
    the Worker writes them (routine outcomes sampled unless they missed the cache), plus the
    cron's run and cleanup, which write no data point, as `modelled` (the model on the calibrated
    settings) has them; stores are `modelled`'s."""
    requests: dict[str, float] = {}
    ops: dict[str, dict[str, float]] = {}
    for (outcome, cache), figures in outcomes.items():
        if figures.requests <= 0:
            continue
        key = f"{outcome}/{cache}" if cache else outcome
        requests[key] = figures.requests / calibration.days
        ops[key] = {kind: figures.operations.get(kind, 0.0) / figures.requests for kind in OPERATION_KINDS}
        routine = outcome in worker_contract.ROUTINE_OUTCOMES and cache not in ("miss", "bypass")
        ops[key][LOG_SAMPLED] = 1.0 if routine else 0.0
    settings = calibration.settings
    requests["scheduled_cleanup"] = cron_runs_per_day(settings.cron)
    ops["scheduled_cleanup"] = dict(table["scheduled_cleanup"])
    ops[PER_DELETED_ROW] = dict(table[PER_DELETED_ROW])
    return estimate_of_counts(settings, requests, ops, modelled)


# The operations the measured bill compares with the model's, in the order the bill lists them.
COMPARED = ("kv_reads", "kv_writes", "d1_rows_read", "d1_rows_written")


def operations_compared(from_metrics: Estimate, modelled: Estimate) -> dict[str, tuple[float, float]]:
    """Per compared operation: (a day as the data points recorded it, a day as the model has it
    for the same traffic settings)."""
    recorded = {m.key: m for m in from_metrics.meters}
    model = {m.key: m for m in modelled.meters}
    return {kind: (recorded[kind].daily, model[kind].daily) for kind in COMPARED}


def calibration_lines(
    calibration: Calibration, from_settings: Estimate, from_metrics: Estimate, modelled: Estimate | None = None
) -> list[str]:
    """What the measurement says: its bill beside the settings', then (with `modelled`, the model
    on the measured traffic settings) the recorded operations where the model is off, then the
    settings it contradicts."""
    low, high = from_settings.paid_range_usd
    lines = [
        f"Measured over {calibration.days:g} days (the Worker's data points): "
        f"${from_metrics.paid_monthly_usd:,.2f} a month on Workers Paid; from the settings "
        f"${low:,.2f} to ${high:,.2f}",
    ]
    if modelled is not None:
        labels = {m.key: m.label for m in from_metrics.meters}
        off = {
            kind: pair
            for kind, pair in operations_compared(from_metrics, modelled).items()
            if abs(pair[0] - pair[1]) > COUNT_TOLERANCE * max(pair)
        }
        if off:
            lines.append("Recorded a day, where the model of that traffic is off:")
            lines += [f"- {labels[k]}: {rec:,.0f} recorded; the model {mod:,.0f}" for k, (rec, mod) in off.items()]
    if calibration.contradictions:
        lines.append("Settings the measurement contradicts:")
        lines += [f"- {c.line()}" for c in calibration.contradictions]
    else:
        lines.append("The measurement agrees with the traffic settings.")
    derived = modelled.negative_hit_ratio if modelled is not None else None
    measured = calibration.negative_hit_ratio
    if measured is not None and derived is not None and abs(measured - derived) > RATIO_TOLERANCE:
        lines.append(
            f"- negative cache hit ratio measured {measured:.2f}; the model derives {derived:.2f} from "
            "cacheHitRatio and the negative entries' 60 s"
        )
    return lines
