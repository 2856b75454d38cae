"""The cost estimate as readable rich tables (the `guruai-cache estimate` output)."""

from __future__ import annotations

import datetime as dt

from rich import box
from rich.console import Console
from rich.table import Table

from infra import platform
from infra.cost.estimate import Estimate
from infra.cost.free_plan import free_plan_warnings

WORKERS_LOGS_PRICING_PAGE = "https://developers.cloudflare.com/workers/platform/pricing/#workers-logs"
STORE_NAMES = {"d1": "usage counted in D1", "kv-counter": "the guide's KV-counter rate limiter"}


def _count(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:,.2f}"


def _compact(value: float) -> str:
    """Monthly figures and allowances run to billions: 3.00 M, 25 B."""
    for suffix, size in (("B", 1e9), ("M", 1e6)):
        if value >= size:
            scaled = value / size
            return f"{scaled:,.0f} {suffix}" if scaled == int(scaled) else f"{scaled:,.2f} {suffix}"
    return _count(value)


def _bytes(value: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= size:
            return f"{value / size:,.1f} {unit}"
    return f"{value:,.0f} B"


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def quantities_table(result: Estimate, stack: str) -> Table:
    table = Table(
        title=f"stack {stack}: expected use ({STORE_NAMES[result.usage_store]}); paid figures per month",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("", no_wrap=True)
    for header in ("per day", "per month", "free/day", "free use", "paid incl.", "paid cost"):
        table.add_column(header, justify="right", no_wrap=True)
    for m in result.meters:
        table.add_row(
            m.label,
            _count(m.daily),
            _compact(m.monthly),
            "-" if m.free_daily_limit is None else _compact(m.free_daily_limit),
            _share(m.utilisation),
            _compact(m.paid_included_monthly),
            _usd(m.paid_usd),
            style="bold red" if m.over_free_limit else None,
        )
    for s in result.storage:
        table.add_row(
            s.label,
            "",
            _bytes(s.bytes),
            _bytes(s.free_limit_bytes),
            _share(s.utilisation),
            _bytes(s.paid_included_bytes),
            _usd(s.paid_usd),
            style="bold red" if s.over_free_limit else None,
        )
    return table


def requests_table(result: Estimate) -> Table:
    total = sum(result.requests.values()) or 1
    table = Table(title="Worker invocations per day, by route outcome", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("outcome")
    table.add_column("per day", justify="right")
    table.add_column("share", justify="right")
    for outcome, count in result.requests.items():
        if not count:
            continue  # routes this traffic never takes
        table.add_row(outcome, _count(count), f"{count / total:.1%}")
    table.add_row("D1 queries (all routes)", _count(result.d1_queries_daily), "")
    return table


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def summary_lines(result: Estimate) -> list[str]:
    traffic = result.traffic
    lines = []
    warnings = free_plan_warnings(result)
    if warnings:
        lines.append("[bold red]Free plan: over its daily limits[/]")
        lines += [f"  - {line}" for line in warnings]
    else:
        worst = max(result.quantities, key=lambda m: m.utilisation or 0)
        lines.append(f"Free plan: within every limit (closest: {worst.label} at {_share(worst.utilisation)})")
    hit = result.first_limit_hit
    if hit is None:
        growth = f" at +{traffic.monthly_user_growth:.0%} users a month" if traffic.monthly_user_growth else ""
        lines.append(f"First free limit hit: not within {3 * 365} days{growth}")
    elif hit.day == 0:
        lines.append(f"First free limit hit: today, at the expected traffic ({hit.label})")
    else:
        lines.append(
            f"First free limit hit: day {hit.day} ({hit.label}, at {hit.active_users:,} active users, "
            f"+{traffic.monthly_user_growth:.0%} a month)"
        )
    random_arrival = result.random_arrival_hit_ratio
    if random_arrival is not None and random_arrival < traffic.cache_hit_ratio:
        lines.append(
            f"Cache hit ratio: {traffic.cache_hit_ratio:.0%} assumed, as if users looked up in sessions; at random "
            f"times over the day the subscription TTL would give {random_arrival:.1%}, and lookups spaced evenly "
            "further apart than the TTL none (then expect more KV writes)"
        )
    if result.negative_hit_ratio is not None and traffic.unsubscribed_share:
        lines.append(
            f"Cached 'no subscription' answers live 60 s: {result.negative_hit_ratio:.0%} of those lookups hit "
            "(the same session rate over the shorter life)"
        )
    full = result.database_full
    if full is not None:
        when = "today" if full.day == 0 else f"on day {full.day} (at {full.active_users:,} active users)"
        lines.append(
            f"[bold red]D1 is full {when}: {full.label}; beyond it writes fail[/] "
            "(lower usageRetentionDays, or split the data)"
        )
    usage = result.paid_monthly_usd - platform.WORKERS_PAID_MINIMUM_USD
    lines.append(
        f"Workers Paid: {_usd(result.paid_monthly_usd)} a month "
        f"(the {_usd(platform.WORKERS_PAID_MINIMUM_USD)} minimum + {_usd(usage)} beyond its allowances)"
    )
    lines.append(
        "Analytics Engine (AE): priced by Cloudflare but not billed yet; at the published prices it "
        f"would add {_usd(result.unbilled_monthly_usd)} a month on Workers Paid"
    )
    lines.append(workers_logs_pricing_note())
    lines.append(
        f"[dim]Prices and limits read {platform.PRICES_READ_ON.isoformat()} from Cloudflare's pricing pages; "
        f"{platform.DAYS_PER_MONTH}-day month; traffic spread evenly over the UTC day.[/]"
    )
    return lines


def workers_logs_pricing_note(today: dt.date | None = None) -> str:
    """Cloudflare announced new Workers Logs prices from WORKERS_LOGS_PRICING_CHANGES_ON: say
    which prices the figures are, and loudly once that day has come."""
    changes = platform.WORKERS_LOGS_PRICING_CHANGES_ON
    read = platform.PRICES_READ_ON.isoformat()
    if (today or dt.date.today()) >= changes > platform.PRICES_READ_ON:
        return (
            f"[bold red]Workers Logs figures are out of date: Cloudflare's pricing changed on {changes.isoformat()} "
            f"and these were read on {read}; re-read {WORKERS_LOGS_PRICING_PAGE} and update infra/platform.py[/]"
        )
    return (
        f"Workers Logs priced as published on {read}, which applies until {changes - dt.timedelta(days=1)}; "
        f"from {changes.isoformat()} Cloudflare Observability pricing applies ({WORKERS_LOGS_PRICING_PAGE})"
    )


def print_estimate(result: Estimate, stack: str, console: Console | None = None) -> None:
    console = console or Console()
    console.print(quantities_table(result, stack))
    console.print(requests_table(result))
    for line in summary_lines(result):
        console.print(line)
