"""The estimate as a picture: the monthly bill as users grow, and a 24-hour timeline of when each
Free allowance runs out. Drawn with rich (already the CLI's library, kept by Textualize): the same
picture prints in the terminal and exports as a self-contained SVG (`Console.export_svg`) that a
team attaches to a PR or a budget review; no chart library or browser needed."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from infra.cost.estimate import SECONDS_PER_DAY, Estimate, utc_clock
from infra.cost.operations import OperationsTable
from infra.cost.views import paid_bill
from infra.settings import Settings

WIDTH = 80
BAR_WIDTH = 36
USER_FACTORS = (0.5, 1, 2, 5, 10, 20)
HOURS = 24


@dataclass(frozen=True)
class BillPoint:
    active_users: int
    low_usd: float  # at the assumed hit ratio
    high_usd: float  # at the random-arrival one


def bill_as_users_grow(settings: Settings, result: Estimate, table: OperationsTable) -> tuple[BillPoint, ...]:
    """The Paid bill's range at multiples of the expected active users."""
    ratio = result.random_arrival_hit_ratio
    points = []
    for factor in USER_FACTORS:
        users = max(1, round(settings.traffic.active_users * factor))
        low = paid_bill(settings, table, users=users)
        high = paid_bill(settings, table, ratio, users) if ratio is not None else low
        points.append(BillPoint(users, min(low, high), max(low, high)))
    return tuple(points)


def _bar(low: float, high: float, top: float) -> Text:
    """A bar to the assumed bill (solid), extended to the random-arrival bill (shaded)."""
    solid = round(BAR_WIDTH * low / top) if top else 0
    shaded = max(0, round(BAR_WIDTH * high / top) - solid) if top else 0
    return Text("█" * solid, style="green") + Text("▒" * shaded, style="yellow")


def bill_chart(points: Sequence[BillPoint]) -> RenderableType:
    top = max(point.high_usd for point in points)
    title = Text("Bill a month on Workers Paid: █ at the assumed hit ratio, ▒ at random arrival")
    table = Table(show_header=True, box=None, pad_edge=False, padding=(0, 1))
    table.add_column("active users", justify="right", no_wrap=True)
    table.add_column("bill a month", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for point in points:
        bill = (
            f"${point.low_usd:,.2f}"
            if abs(point.high_usd - point.low_usd) < 0.005
            else (f"${point.low_usd:,.0f}-{point.high_usd:,.0f}")
        )
        table.add_row(f"{point.active_users:,}", bill, _bar(point.low_usd, point.high_usd, top))
    return Group(title, table)


@dataclass(frozen=True)
class Allowance:
    label: str
    runs_out_s: float | None  # seconds after 00:00 UTC; None: lasts the day


def allowances(result: Estimate) -> tuple[Allowance, ...]:
    """Each Free daily allowance the traffic uses, and when (if) it runs out, traffic spread evenly."""
    rows = []
    for meter in result.meters:
        if meter.free_daily_limit is None or not meter.daily:
            continue
        rows.append(Allowance(meter.label, meter.exhausted_after_s))
    return tuple(rows)


def timeline_chart(rows: Sequence[Allowance]) -> RenderableType:
    title = Text("Free plan, one UTC day: █ allowance left, ░ used up (they fail till 00:00)")
    table = Table(box=None, pad_edge=False, padding=(0, 1))
    table.add_column("", no_wrap=True)
    table.add_column("00    06    12    18    24", no_wrap=True)
    table.add_column("runs out", justify="right", no_wrap=True)
    for row in rows:
        # An allowance that runs out at all shows at least its last hour used up.
        left = HOURS if row.runs_out_s is None else min(HOURS - 1, int(HOURS * row.runs_out_s / SECONDS_PER_DAY))
        line = Text("█" * left, style="green") + Text("░" * (HOURS - left), style="red")
        table.add_row(row.label, line, "-" if row.runs_out_s is None else f"{utc_clock(row.runs_out_s)}")
    return Group(title, table)


def picture(settings: Settings, result: Estimate, table: OperationsTable, stack: str) -> RenderableType:
    parts: list[RenderableType] = [Text(f"stack {stack}: cost and limits", style="bold")]
    parts.append(bill_chart(bill_as_users_grow(settings, result, table)))
    if settings.traffic.workers_plan == "free":
        parts.append(Text(""))
        parts.append(timeline_chart(allowances(result)))
    return Group(*parts)


def print_picture(drawing: RenderableType, console: Console | None = None) -> None:
    console = console or Console(width=WIDTH)
    console.width = min(console.width, WIDTH)
    console.print(drawing)


def svg(drawing: RenderableType, title: str) -> str:
    """The picture as a self-contained SVG document (text and shapes; no script)."""
    console = Console(record=True, width=WIDTH, file=io.StringIO(), color_system="truecolor")
    console.print(drawing)
    return console.export_svg(title=title)
