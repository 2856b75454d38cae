"""The views a FinOps-minded reader asks for, from the same model: the bill against hit ratio and
users, the bill month by month as users grow, and this design beside the alternatives (the
guide's KV counter, and D1 alone with no KV cache). Pure functions over `estimate_now` runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from infra import platform
from infra.cost.estimate import (
    Estimate,
    estimate,
    estimate_now,
    users_on_day,
    with_traffic_fields,
    with_users,
)
from infra.cost.operations import KV_KINDS, OperationsTable, load_operations, with_cache_miss_variants
from infra.settings import Settings

USER_FACTORS = (0.5, 1, 2, 5, 10)
MONTHS = 12


def _paid(settings: Settings) -> Settings:
    return with_traffic_fields(settings, workers_plan="paid")


def paid_bill(
    settings: Settings, table: OperationsTable, hit_ratio: float | None = None, users: int | None = None
) -> float:
    """The Paid bill of the settings' traffic, optionally at another hit ratio or user count."""
    run = _paid(settings)
    if users is not None:
        run = with_users(run, users)
    if hit_ratio is not None:
        run = with_traffic_fields(run, cache_hit_ratio=hit_ratio)
    return estimate_now(run, table, "d1").own_paid_monthly_usd


@dataclass(frozen=True)
class Sensitivity:
    hit_ratios: tuple[float, ...]
    users: tuple[int, ...]
    bills: tuple[tuple[float, ...], ...]  # bills[i][j]: hit_ratios[i], users[j]


def sensitivity(settings: Settings, result: Estimate, table: OperationsTable | None = None) -> Sensitivity:
    """The Paid bill against the hit ratio (from the random-arrival one to 0.99) and the users
    (half to ten times the expected)."""
    table = load_operations() if table is None else table
    low = result.random_arrival_hit_ratio or 0.0
    ratios = tuple(sorted({low, 0.5, 0.75, settings.traffic.cache_hit_ratio, 0.99}))
    users = tuple(round(settings.traffic.active_users * factor) for factor in USER_FACTORS)
    bills = tuple(tuple(paid_bill(settings, table, ratio, count) for count in users) for ratio in ratios)
    return Sensitivity(ratios, users, bills)


@dataclass(frozen=True)
class Month:
    month: int
    active_users: int
    paid_usd: float


def growth(settings: Settings, table: OperationsTable | None = None, months: int = MONTHS) -> tuple[Month, ...]:
    """The Paid bill month by month as users grow by `traffic.monthlyUserGrowth`."""
    table = load_operations() if table is None else table
    rows = []
    for month in range(months + 1):
        users = users_on_day(settings.traffic, month * platform.DAYS_PER_MONTH)
        rows.append(Month(month, users, paid_bill(settings, table, users=users)))
    return tuple(rows)


def d1_only_alternative(table: OperationsTable) -> dict[str, dict[str, float]]:
    """No KV cache: every lookup is a miss without the KV read and write (D1 answers everything)."""
    return {
        outcome: {kind: (0.0 if kind in KV_KINDS else amount) for kind, amount in ops.items()}
        for outcome, ops in with_cache_miss_variants(table).items()
    }


@dataclass(frozen=True)
class Design:
    name: str
    paid_usd: float
    note: str


def designs(settings: Settings, table: OperationsTable | None = None) -> tuple[Design, ...]:
    """This design's Paid bill beside the guide's (usage counted in a KV counter) and D1 alone."""
    table = load_operations() if table is None else table
    paid = _paid(settings)
    this = estimate_now(paid, table, "d1").own_paid_monthly_usd
    guide = estimate(paid, table, usage_store="kv-counter").paid_monthly_usd
    no_cache = estimate_now(with_traffic_fields(paid, cache_hit_ratio=0.0), d1_only_alternative(table), "d1")
    return (
        Design("this design (KV cache, usage in D1)", this, "lookups answered from KV near the user"),
        Design("the guide's (KV cache, usage in a KV counter)", guide, "counts lost under concurrency"),
        Design("D1 alone, no KV cache", no_cache.own_paid_monthly_usd, "every lookup a D1 query, one region"),
    )


def sensitivity_lines(view: Sensitivity) -> list[str]:
    head = "hit ratio " + "".join(f"{users:>12,}" for users in view.users)
    rows = [
        f"{ratio:>8.1%}  " + "".join(f"{'$' + format(bill, ',.2f'):>12}" for bill in bills)
        for ratio, bills in zip(view.hit_ratios, view.bills, strict=True)
    ]
    return ["Paid bill a month, by hit ratio (rows) and active users (columns):", head, *rows]


def growth_lines(months: Sequence[Month], result: Estimate) -> list[str]:
    lines = ["Paid bill as users grow (traffic.monthlyUserGrowth):", "month  active users   bill a month"]
    lines += [f"{m.month:>5}  {m.active_users:>12,}  {'$' + format(m.paid_usd, ',.2f'):>13}" for m in months]
    for hit, what in ((result.first_limit_hit, "first Free limit"), (result.database_full, "D1 full")):
        if hit is not None:
            lines.append(f"{what}: day {hit.day} (month {hit.day // platform.DAYS_PER_MONTH}), {hit.label}")
    return lines


def design_lines(options: Sequence[Design]) -> list[str]:
    lines = ["The same traffic, other designs, on Workers Paid:"]
    lines += [f"- {d.name}: ${d.paid_usd:,.2f} a month ({d.note})" for d in options]
    return lines
