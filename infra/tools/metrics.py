"""`guruai-cache metrics`: each route's requests, cache hit ratio, misses, denials and errors for a
deployed stack over a time window, from the Worker's Analytics Engine data points.

One read query to Analytics Engine's SQL API (`POST /accounts/<id>/analytics_engine/sql`, the
SQL as the body, answered in its JSON format: {"meta", "data", "rows"}), grouping the window's
data points by route, cache result and status and weighting each by `_sample_interval` (Analytics
Engine samples busy indexes; the index is the route). The SQL keeps to what both Analytics
Engine's dialect and SQLite (the local API stub, tests/cloudflare_stub.py) read: no INTERVAL
arithmetic, the window as `toDateTime(<unix seconds>)`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich import box
from rich.table import Table

from infra import platform
from infra.tools.errors import UserError
from infra.worker_contract import METRICS_DATA_POINT, data_point_column

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
BASE_URL_ENV = "CLOUDFLARE_BASE_URL"  # as the cloudflare SDK reads it
TOKEN_PERMISSION = "Account Analytics: Read"
# Statuses that refuse the caller: no or unknown token, scope or subscription missing, a limit reached.
DENIAL_STATUSES = frozenset({401, 403, 429})
SINCE = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TIMEOUT_S = 30


@dataclass(frozen=True)
class Window:
    since: dt.datetime
    until: dt.datetime

    @property
    def label(self) -> str:
        return f"{self.since:%Y-%m-%d %H:%M} to {self.until:%Y-%m-%d %H:%M} UTC"


def parse_since(text: str) -> dt.timedelta:
    """'30m', '24h', '7d' as a duration back from now; at most Analytics Engine's retention."""
    match = SINCE.match(text)
    if not match or int(match.group(1)) == 0:
        raise UserError(f"--since {text!r}: use a duration like 30m, 24h or 7d")
    span = dt.timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    if span > dt.timedelta(days=platform.AE_RETENTION_DAYS):
        raise UserError(
            f"--since {text!r}: Analytics Engine keeps data points {platform.AE_RETENTION_DAYS} days; "
            f"use {platform.AE_RETENTION_DAYS}d or less"
        )
    return span


def window_back_from(now: dt.datetime, span: dt.timedelta) -> Window:
    until = now.astimezone(dt.UTC).replace(microsecond=0)
    return Window(since=until - span, until=until)


def query(dataset: str, window: Window) -> str:
    """The SQL sent: requests per route, cache result and status, in the window, sample-weighted."""
    route, cache, status = (data_point_column(name) for name in ("route", "cache", "status"))
    table = dataset if IDENTIFIER.match(dataset) else f'"{dataset}"'
    return (
        f"SELECT {route} AS route, {cache} AS cache, {status} AS status, SUM(_sample_interval) AS requests "
        f"FROM {table} "
        f"WHERE timestamp >= toDateTime({int(window.since.timestamp())}) "
        f"AND timestamp <= toDateTime({int(window.until.timestamp())}) "
        f"GROUP BY {route}, {cache}, {status} ORDER BY {route} FORMAT JSON"
    )


# The operation counts each data point carries (worker/operations.json's kinds, in its doubles).
DURATION = "duration_ms"  # the request's wall time on the Worker's clock (it advances only on I/O)
OPERATION_FIELDS = tuple(name for name in METRICS_DATA_POINT["doubles"] if name != DURATION)


def operations_query(dataset: str, window: Window) -> str:
    """`query` by outcome too, with the sample-weighted sum of each operation count the data points
    recorded: what `estimate --from-metrics` prices (its rows also give `summarize` its figures)."""
    route, outcome, cache, status = (data_point_column(name) for name in ("route", "outcome", "cache", "status"))
    table = dataset if IDENTIFIER.match(dataset) else f'"{dataset}"'
    sums = "".join(
        f", SUM(_sample_interval * {data_point_column(name)}) AS {name}" for name in (*OPERATION_FIELDS, DURATION)
    )
    return (
        f"SELECT {route} AS route, {outcome} AS outcome, {cache} AS cache, {status} AS status, "
        f"SUM(_sample_interval) AS requests{sums} "
        f"FROM {table} "
        f"WHERE timestamp >= toDateTime({int(window.since.timestamp())}) "
        f"AND timestamp <= toDateTime({int(window.until.timestamp())}) "
        f"GROUP BY {route}, {outcome}, {cache}, {status} ORDER BY {route} FORMAT JSON"
    )


@dataclass
class RouteFigures:
    """One route's requests in the window (each weighted by its sample interval)."""

    requests: float = 0
    hits: float = 0
    misses: float = 0
    bypasses: float = 0  # KV unavailable: answered from D1
    denials: float = 0
    errors: float = 0
    statuses: dict[int, float] = field(default_factory=dict)

    @property
    def lookups(self) -> float:
        return self.hits + self.misses + self.bypasses

    @property
    def hit_ratio(self) -> float | None:
        """Of the requests that looked the subscription up, the share KV answered; None if none did."""
        return self.hits / self.lookups if self.lookups else None

    def add(self, cache: str, status: int, requests: float) -> None:
        self.requests += requests
        self.statuses[status] = self.statuses.get(status, 0) + requests
        if cache == "hit":
            self.hits += requests
        elif cache == "miss":
            self.misses += requests
        elif cache == "bypass":
            self.bypasses += requests
        if status in DENIAL_STATUSES:
            self.denials += requests
        elif status >= 500:
            self.errors += requests

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": _num(self.requests),
            "hits": _num(self.hits),
            "misses": _num(self.misses),
            "bypasses": _num(self.bypasses),
            "hitRatio": None if self.hit_ratio is None else round(self.hit_ratio, 4),
            "denials": _num(self.denials),
            "errors": _num(self.errors),
            "statuses": {str(status): _num(count) for status, count in sorted(self.statuses.items())},
        }


@dataclass(frozen=True)
class Report:
    stack: str
    dataset: str
    window: Window
    routes: dict[str, RouteFigures]

    @property
    def total(self) -> RouteFigures:
        total = RouteFigures()
        for figures in self.routes.values():
            for status, count in figures.statuses.items():
                total.statuses[status] = total.statuses.get(status, 0) + count
            for name in ("requests", "hits", "misses", "bypasses", "denials", "errors"):
                setattr(total, name, getattr(total, name) + getattr(figures, name))
        return total

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "dataset": self.dataset,
            "since": self.window.since.isoformat(),
            "until": self.window.until.isoformat(),
            "routes": {route: figures.to_json() for route, figures in sorted(self.routes.items())},
            "total": self.total.to_json(),
        }


def summarize(rows: Iterable[Mapping[str, Any]]) -> dict[str, RouteFigures]:
    """The query's rows (route, cache, status, requests) as figures per route."""
    routes: dict[str, RouteFigures] = {}
    for row in rows:
        try:
            route, cache = str(row["route"]), str(row["cache"])
            status, requests = int(float(row["status"])), float(row["requests"])
        except (KeyError, TypeError, ValueError):
            raise UserError(f"the Analytics Engine SQL API answered a row this command cannot read: {row!r}") from None
        routes.setdefault(route, RouteFigures()).add(cache, status, requests)
    return routes


@dataclass
class OutcomeFigures:
    """One outcome's data points with one cache result: requests, each operation count and the
    duration (ms), summed (each weighted by its sample interval)."""

    requests: float = 0
    operations: dict[str, float] = field(default_factory=dict)


def summarize_outcomes(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], OutcomeFigures]:
    """`operations_query`'s rows as figures per (outcome, cache)."""
    outcomes: dict[tuple[str, str], OutcomeFigures] = {}
    for row in rows:
        try:
            key = (str(row["outcome"]), str(row["cache"]))
            requests = float(row["requests"])
            counts = {name: float(row[name] or 0) for name in (*OPERATION_FIELDS, DURATION)}
        except (KeyError, TypeError, ValueError):
            raise UserError(f"the Analytics Engine SQL API answered a row this command cannot read: {row!r}") from None
        figures = outcomes.setdefault(key, OutcomeFigures())
        figures.requests += requests
        for name, count in counts.items():
            figures.operations[name] = figures.operations.get(name, 0.0) + count
    return outcomes


def fetch_rows(http: httpx.Client, base_url: str, account_id: str, token: str, sql: str) -> list[dict[str, Any]]:
    """POST the SQL; the rows of the JSON answer, or a UserError a person can act on."""
    url = f"{base_url.rstrip('/')}/accounts/{account_id}/analytics_engine/sql"
    try:
        response = http.post(
            url, content=sql.encode(), headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"}
        )
    except httpx.HTTPError as error:
        raise UserError(
            f"could not reach the Cloudflare API ({error}): check the network, or {BASE_URL_ENV} if set"
        ) from None
    if response.status_code in (401, 403):
        raise UserError(
            f"the API token was refused (HTTP {response.status_code}): CLOUDFLARE_API_TOKEN must be valid and "
            f"allowed {TOKEN_PERMISSION} on account {account_id}"
        )
    if response.status_code >= 400:
        raise UserError(
            f"the Analytics Engine SQL API answered HTTP {response.status_code}: {_first_line(response.text)} "
            "(a dataset that does not exist yet is made by the Worker's first data point after a deploy "
            "with metrics.enabled)"
        )
    try:
        body = response.json()
    except ValueError:
        raise UserError(
            f"the Analytics Engine SQL API answered something other than JSON: {_first_line(response.text)}"
        ) from None
    # Its own shape is {"meta", "data", "rows"}; take a Cloudflare envelope's `result` too.
    if isinstance(body, dict) and isinstance(body.get("result"), dict):
        body = body["result"]
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise UserError(f"the Analytics Engine SQL API answered without rows: {_first_line(response.text)}")
    return data


def run_operations(
    account_id: str,
    dataset: str,
    token: str,
    window: Window,
    *,
    base_url: str = DEFAULT_BASE_URL,
    http: httpx.Client | None = None,
) -> list[dict[str, Any]]:
    """The rows of `operations_query` over the window."""
    with http or httpx.Client(timeout=TIMEOUT_S) as client:
        return fetch_rows(client, base_url, account_id, token, operations_query(dataset, window))


def run(
    stack: str,
    account_id: str,
    dataset: str,
    token: str,
    span: dt.timedelta,
    *,
    base_url: str = DEFAULT_BASE_URL,
    now: dt.datetime | None = None,
    http: httpx.Client | None = None,
) -> Report:
    window = window_back_from(now or dt.datetime.now(dt.UTC), span)
    with http or httpx.Client(timeout=TIMEOUT_S) as client:
        rows = fetch_rows(client, base_url, account_id, token, query(dataset, window))
    return Report(stack=stack, dataset=dataset, window=window, routes=summarize(rows))


def table(report: Report) -> Table:
    """The figures as a table; routes shown with `:id` for `{userId}` to stay narrow."""
    output = Table(
        title=f"stack {report.stack}: requests per route, {report.window.label} (dataset {report.dataset})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    bypasses = any(figures.bypasses for figures in report.routes.values())
    headers = ("requests", "hit %", "hits", "misses", *(("bypass",) if bypasses else ()), "denied", "errors")
    output.add_column("route", no_wrap=True)
    for header in headers:
        output.add_column(header, justify="right", no_wrap=True)

    def row(name: str, figures: RouteFigures, style: str | None = None) -> None:
        ratio = "-" if figures.hit_ratio is None else f"{figures.hit_ratio:.1%}"
        counts = (figures.hits, figures.misses, *((figures.bypasses,) if bypasses else ()))
        tail = (figures.denials, figures.errors)
        label = re.sub(r"\{\w+\}", ":id", name)
        output.add_row(label, _count(figures.requests), ratio, *map(_count, counts), *map(_count, tail), style=style)

    for route, figures in sorted(report.routes.items()):
        row(route, figures, "bold red" if figures.errors else None)
    row("all routes", report.total, "bold")
    return output


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _num(value: float) -> float | int:
    return int(value) if value == int(value) else round(value, 4)


def _first_line(text: str, limit: int = 300) -> str:
    line = (text.strip().splitlines() or [""])[0]
    return line if len(line) <= limit else line[:limit] + "..."
