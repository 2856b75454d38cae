"""The views a FinOps-minded reader asks for, from the same model: the bill against hit ratio and
users, the bill month by month as users grow, and this design beside the alternatives (its usage
in the guide's KV counter, the guide's original Worker, and D1 alone with no KV cache), each in
full. Pure functions over `estimate_now` runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from infra import platform
from infra.cost.estimate import (
    Estimate,
    UsageStore,
    estimate_now,
    users_on_day,
    with_traffic_fields,
    with_users,
)
from infra.cost.operations import (
    KV_KINDS,
    OperationsTable,
    guide_original_design,
    load_operations,
    with_cache_miss_variants,
)
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
    paid: Estimate  # the design's quantities at today's traffic on Workers Paid
    free: Estimate  # and on Free: which allowance runs out first, and when
    lookups_from_d1: float  # lookups a day answered from D1 (its one region), not from KV near the user


# The outcomes whose lookup the KV cache did not answer: D1 did (a usage call's own lookup is a
# `_cache_miss` variant; the KV counter's usage calls look nothing up).
D1_LOOKUPS = (
    "subscription_get_miss",
    "subscription_get_not_found",
    "subscription_get_not_found_lapsed",
    "entitlements_get_miss_count_read",
    "entitlements_get_not_found",
    "entitlements_get_not_found_lapsed",
)


def lookups_from_d1(result: Estimate) -> float:
    """Lookups a day answered from D1 (its one region), not from KV near the user."""
    usage = result.usage_store == "d1"
    return sum(
        count
        for outcome, count in result.requests.items()
        if outcome in D1_LOOKUPS or (usage and outcome.startswith("usage_post") and "_cache_miss" in outcome)
    )


def designs(settings: Settings, table: OperationsTable | None = None) -> tuple[Design, ...]:
    """The same traffic on this design and on the alternatives, each run in full on both plans."""
    table = load_operations() if table is None else table
    guide_settings = settings.model_copy(
        update={
            "request_log": settings.request_log.model_copy(update={"routine_sample_rate": 0.0}),
            "metrics": settings.metrics.model_copy(update={"enabled": False}),
            "traffic": settings.traffic.model_copy(update={"keyed_usage_share": 0.0}),
        }
    )
    runs: tuple[tuple[str, str, Settings, UsageStore, bool | None, OperationsTable | None], ...] = (
        ("this design (KV cache, usage in D1)", "lookups answered from KV near the user", settings, "d1", None, None),
        (
            "this, usage in the guide's KV counter",
            "a KV write per use; counts lost under concurrency",
            settings,
            "kv-counter",
            None,
            None,
        ),
        (
            "the guide's own Worker",
            "no negative cache: each unknown user's lookup reads D1 and writes KV; no logs or metrics of its own",
            guide_settings,
            "kv-counter",
            False,
            guide_original_design(table),
        ),
        (
            "D1 alone, no KV cache",
            "every lookup a D1 query, answered from the database's one region",
            with_traffic_fields(settings, cache_hit_ratio=0.0),
            "d1",
            False,
            d1_only_alternative(table),
        ),
    )
    options = []
    for name, note, run, store, negative, ops in runs:
        paid = estimate_now(_paid(run), table, store, negative_cache=negative, ops=ops)
        free = estimate_now(
            with_traffic_fields(run, workers_plan="free"), table, store, negative_cache=negative, ops=ops
        )
        options.append(Design(name, paid.own_paid_monthly_usd, note, paid, free, lookups_from_d1(paid)))
    return tuple(options)


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
