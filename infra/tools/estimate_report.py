"""The cost estimate as the person who pays reads it (the `guruai-cache estimate` output): the
verdict first, then the figures, within 80 columns, one number format throughout."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from infra import platform
from infra.cost import calibration as calibrating
from infra.cost.estimate import Estimate, MeterEstimate, StorageEstimate, estimate, utc_clock
from infra.cost.free_plan import free_plan_warnings
from infra.cost.operations import load_operations
from infra.cost.verdict import usd, verdict_lines
from infra.cost.views import Design
from infra.settings import Settings
from infra.tools import metrics

WIDTH = 80
STORE_NAMES = {"d1": "usage counted in D1", "kv-counter": "the guide's KV-counter rate limiter"}


def amount(value: float, unit: str = "operations") -> str:
    """One format for every figure: whole numbers up to a million, then millions or billions with
    two decimals (3.00 M, 2.74 M, 25.00 B); bytes in decimal units with one decimal."""
    if unit == "bytes":
        for name, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
            if value >= size:
                return f"{value / size:,.1f} {name}"
        return f"{value:,.0f} B"
    for suffix, size in (("B", 1e9), ("M", 1e6)):
        if value >= size:
            return f"{value / size:,.2f} {suffix}"
    return f"{value:,.0f}"


def share(value: float | None, flagged: bool) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" + (" !" if flagged else "")


def wrapped(text: str, indent: str = "", hanging: str = "    ") -> str:
    """A line within WIDTH columns, its continuation lines indented under it."""
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent + hanging, break_on_hyphens=False)


def _flagged(quantity: MeterEstimate | StorageEstimate) -> bool:
    return quantity.over_free_limit or quantity.at_free_limit


def quantities_table(result: Estimate, stack: str) -> Table:
    free = result.traffic.workers_plan == "free"
    plan = "Workers Free" if free else "Workers Paid"
    table = Table(
        title=f"stack {stack} on {plan} ({STORE_NAMES[result.usage_store]})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("", no_wrap=True)
    headers = (
        ("per day", "free/day", "free use", "paid/mo") if free else ("per day", "per month", "incl./mo", "paid/mo")
    )
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)
    for m in result.meters:
        if free:
            limit = "-" if m.free_daily_limit is None else amount(m.free_daily_limit, m.unit)
            cells = (amount(m.daily, m.unit), limit, share(m.utilisation, _flagged(m)))
        else:
            cells = (amount(m.daily, m.unit), amount(m.monthly, m.unit), amount(m.paid_included_monthly, m.unit))
        cost = usd(m.paid_usd) if m.billed else f"({usd(m.paid_usd)})"
        table.add_row(m.label, *cells, cost, style="bold red" if free and _flagged(m) else None)
    for s in result.storage:
        if free:
            limit = "-" if s.free_limit_bytes is None else amount(s.free_limit_bytes, "bytes")
            cells = (amount(s.bytes, "bytes"), limit, share(s.utilisation, _flagged(s)))
        else:
            cells = ("", amount(s.bytes, "bytes"), amount(s.paid_included_bytes, "bytes"))
        table.add_row(s.label, *cells, usd(s.paid_usd), style="bold red" if free and _flagged(s) else None)
    return table


def requests_table(result: Estimate) -> Table:
    total = sum(result.requests.values()) or 1
    table = Table(title="Worker invocations per day, by outcome", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("outcome")
    table.add_column("per day", justify="right")
    table.add_column("share", justify="right")
    for outcome, count in result.requests.items():
        if not count:
            continue  # routes this traffic never takes
        table.add_row(outcome, amount(count), f"{count / total:.1%}")
    table.add_row("D1 queries (all routes)", amount(result.d1_queries_daily), "")
    return table


def summary_lines(result: Estimate) -> list[str]:
    """The notes under the tables: Free-plan limits (on Free only), what the ratios assume, the bill."""
    traffic = result.traffic
    lines = []
    if traffic.workers_plan == "free":
        warnings = free_plan_warnings(result)
        if warnings:
            lines.append("Free plan: over its daily limits")
            lines += [f"- {line}" for line in warnings]
        else:
            worst = max(result.quantities, key=lambda m: m.utilisation or 0)
            lines.append(f"Free plan: within every limit (closest: {worst.label} at {share(worst.utilisation, False)})")
    random_arrival = result.random_arrival_hit_ratio
    if random_arrival is not None and random_arrival < traffic.cache_hit_ratio:
        lines.append(
            f"Cache hit ratio: {traffic.cache_hit_ratio:.0%} assumed, as if users looked up in sessions; at random "
            f"times over the day the subscription TTL would give {random_arrival:.1%}, and lookups spaced evenly "
            "further apart than the TTL none (then expect more KV writes)"
        )
    if traffic.unsubscribed_share and result.negative_hit_ratio is not None:
        if result.negative_hit_ratio == 0:
            lines.append(
                "'No subscription' answers: the Worker is reached on *.workers.dev only, where the Cache API keeps "
                "nothing: every such lookup reads KV, then D1"
            )
        else:
            lines.append(
                f"'No subscription' answers live 60 s in the Cache API: {result.negative_hit_ratio:.0%} of those "
                "lookups hit (the same session rate over the shorter life)"
            )
    full = result.database_full
    if full is not None:
        when = "today" if full.day == 0 else f"on day {full.day} (at {full.active_users:,} active users)"
        lines.append(
            f"D1 is full {when}: {full.label}; beyond it writes fail (lower usageRetentionDays, or split the data)"
        )
    usage = result.paid_monthly_usd - platform.WORKERS_PAID_MINIMUM_USD
    lines.append(
        f"Workers Paid: {usd(result.paid_monthly_usd)} a month "
        f"(the {usd(platform.WORKERS_PAID_MINIMUM_USD)} minimum + {usd(usage)} beyond its allowances)"
    )
    lines.append(
        f"Cost per active user: {usd(result.paid_monthly_usd / traffic.active_users * 1000)} a month per 1,000 users"
        if traffic.active_users
        else "Cost per active user: no active users"
    )
    lines.append(
        "Analytics Engine (in brackets): priced by Cloudflare but not billed yet; at the published prices "
        f"it would add {usd(result.unbilled_monthly_usd)} a month on Workers Paid"
    )
    lines.append(
        f"Workers Logs: {amount(result.log_events_daily)} events a day, billed by volume; the Worker's own "
        "lines measured on workerd, Cloudflare's invocation log assumed at 1 kB"
    )
    lines.append(
        f"Prices and limits read {platform.PRICES_READ_ON.isoformat()} from Cloudflare's pricing pages; "
        f"{platform.DAYS_PER_MONTH}-day month; traffic spread evenly over the UTC day; CPU at "
        f"{traffic.cpu_ms_per_request:g} ms a request (traffic.cpuMsPerRequest, assumed)."
    )
    return lines


def print_lines(lines: list[str], console: Console | None = None) -> None:
    console = console or Console(width=WIDTH)
    for line in lines:
        indent = "  " if line.startswith("- ") else ""
        if len(indent + line) <= WIDTH:  # table rows keep their spacing
            console.print(indent + line, markup=False, highlight=False)
            continue
        console.print(wrapped(line, indent, "  " if indent else "    "), markup=False, highlight=False)


def print_estimate(result: Estimate, stack: str, console: Console | None = None) -> None:
    console = console or Console(width=WIDTH)
    console.width = min(console.width, WIDTH)
    for line in verdict_lines(result):
        console.print(wrapped(line), markup=False, highlight=False, style="bold")
    console.print()
    console.print(quantities_table(result, stack))
    console.print(requests_table(result))
    print_lines(summary_lines(result), console)


def measured_view(
    settings: Settings, result: Estimate, rows: Sequence[Mapping[str, Any]], span: dt.timedelta
) -> tuple[list[str], dict[str, Any]]:
    """`--from-metrics`: the data points' rows (metrics.operations_query) as measured traffic
    settings and as a bill of their own recorded operations, beside the settings' estimate."""
    outcomes = metrics.summarize_outcomes(rows)
    calibration = calibrating.calibrate(settings, metrics.summarize(rows), span, outcomes)
    table = load_operations()
    modelled = estimate(calibration.settings, table, usage_store=result.usage_store)
    recorded = calibrating.measured_operations_estimate(calibration, outcomes, table, modelled)
    latency = calibrating.measured_latency(outcomes, calibration.days)
    as_json = {
        "days": calibration.days,
        "measured": {k: round(v, 4) for k, v in calibration.measured.items()},
        "negativeCacheHitRatio": None
        if calibration.negative_hit_ratio is None
        else round(calibration.negative_hit_ratio, 4),
        # The bill of the operations the data points recorded; the model's bill of the same traffic.
        "paidMonthlyUsd": round(recorded.paid_monthly_usd, 2),
        "modelPaidMonthlyUsd": round(modelled.paid_monthly_usd, 2),
        "operationsPerDay": {
            kind: {"recorded": round(rec, 2), "model": round(mod, 2)}
            for kind, (rec, mod) in calibrating.operations_compared(recorded, modelled).items()
        },
        "contradicted": [
            {"setting": f"traffic.{c.setting}", "configured": c.configured, "measured": round(c.measured, 4)}
            for c in calibration.contradictions
        ],
        "latencyMs": None
        if latency is None
        else {"kvHit": round(latency.kv_hit_ms, 2), "d1Miss": round(latency.d1_miss_ms, 2)},
    }
    lines = calibrating.calibration_lines(calibration, result, recorded, modelled)
    return [*lines, *calibrating.latency_lines(latency)], as_json


# The quantities the designs differ in, in the order the bill lists them.
DESIGN_ROWS = (
    "kv_reads",
    "kv_writes",
    "d1_rows_read",
    "d1_rows_written",
    "workers_logs_bytes",
    "ae_data_points",
    "d1_storage_bytes",
)


# Labels short enough for a column of the designs' table.
SHORT_LABELS = {
    "D1 rows read": "D1 reads",
    "D1 rows written": "D1 writes",
    "Worker requests": "requests",
    "Workers Logs ingested": "logs",
    "AE data points": "AE points",
    "AE read queries": "AE queries",
}


def _first_free_limit(free: Estimate) -> tuple[str, str]:
    """The Free allowance a design's day uses up first, and when (UTC, traffic spread evenly)."""
    first = free.first_used_up
    if first is None:
        return "none", "-"
    return SHORT_LABELS.get(first.label, first.label)[:14], utc_clock(first.exhausted_after_s) or "-"


def design_table_lines(options: Sequence[Design]) -> list[str]:
    """The same traffic on each design, in full: a day's quantities (on Workers Paid), the lookups
    D1 answers, the first Free allowance used up, and the Paid bill; the designs' notes below."""
    label_width, width = 20, 15
    lines = ["The same traffic, other designs (a day on Workers Paid; the bill a month):"]
    lines.append(" " * label_width + "".join(f"{'(' + str(n) + ')':>{width}}" for n in range(1, len(options) + 1)))

    def row(label: str, cells: Sequence[str]) -> None:
        lines.append(f"{label:<{label_width}}" + "".join(f"{cell:>{width}}" for cell in cells))

    for key in DESIGN_ROWS:
        quantities = [next(q for q in d.paid.quantities if q.key == key) for d in options]
        unit = "bytes" if isinstance(quantities[0], StorageEstimate) else quantities[0].unit
        values = [q.bytes if isinstance(q, StorageEstimate) else q.daily for q in quantities]
        row(quantities[0].label.replace("Workers Logs", "Logs"), [amount(v, unit) for v in values])
    row("lookups from D1", [amount(d.lookups_from_d1) for d in options])
    firsts = [_first_free_limit(d.free) for d in options]
    row("Free: first used up", [name for name, _ in firsts])
    row("  at (UTC)", [clock for _, clock in firsts])
    row("bill on Paid", [usd(d.paid_usd) for d in options])
    for n, option in enumerate(options, start=1):
        lines.append(f"({n}) {option.name}: {option.note}")
    return lines
