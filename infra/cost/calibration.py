"""The estimate calibrated from measured traffic: the Worker's Analytics Engine data points (the
figures `guruai-cache metrics` reads) turned into `traffic.*` values, priced beside the stack's
own, with each setting that the measurement contradicts named. Pure: the CLI passes the
per-route figures in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from infra.cost.estimate import Estimate, with_traffic_fields
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
# A setting is contradicted when the measurement is off by more than this share (counts) or
# these many points (the hit ratio).
COUNT_TOLERANCE = 0.25
RATIO_TOLERANCE = 0.05


class RouteFigures(Protocol):
    requests: float
    hits: float
    misses: float
    bypasses: float


@dataclass(frozen=True)
class Contradiction:
    setting: str
    configured: float
    measured: float
    days: float

    def line(self) -> str:
        def show(value: float) -> str:
            return f"{value:.2f}" if self.setting == "cacheHitRatio" else f"{value:,.4g}"

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


def calibrate(settings: Settings, routes: Mapping[str, RouteFigures], span: dt.timedelta) -> Calibration:
    traffic = settings.traffic
    measured = measured_traffic(routes, span, traffic.active_users)
    configured: dict[str, Any] = traffic.model_dump(by_alias=True)
    days = span.total_seconds() / 86_400
    contradictions = []
    for setting, value in measured.items():
        mine = float(configured[setting])
        if setting == "cacheHitRatio":
            off = abs(value - mine) > RATIO_TOLERANCE
        else:
            off = abs(value - mine) > COUNT_TOLERANCE * max(mine, value)
        if off:
            contradictions.append(Contradiction(setting, mine, value, days))
    by_field = {
        name: measured[field.alias] for name, field in type(traffic).model_fields.items() if field.alias in measured
    }
    return Calibration(days, measured, tuple(contradictions), with_traffic_fields(settings, **by_field))


def calibration_lines(calibration: Calibration, from_settings: Estimate, from_metrics: Estimate) -> list[str]:
    low, high = from_settings.paid_range_usd
    lines = [
        f"Measured over {calibration.days:g} days (the Worker's data points): "
        f"${from_metrics.paid_monthly_usd:,.2f} a month on Workers Paid; from the settings "
        f"${low:,.2f} to ${high:,.2f}",
    ]
    if calibration.contradictions:
        lines.append("Settings the measurement contradicts:")
        lines += [f"- {c.line()}" for c in calibration.contradictions]
    else:
        lines.append("The measurement agrees with the traffic settings.")
    return lines
