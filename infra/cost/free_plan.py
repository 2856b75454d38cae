"""What a stack's expected traffic does to the Workers Free plan, in words: the lines
`guruai-cache estimate` prints and `pulumi preview` warns with."""

from __future__ import annotations

from infra import platform
from infra.cost.account import peak_requests_per_minute
from infra.cost.estimate import Estimate, MeterEstimate, utc_clock
from infra.cost.verdict import verdict_lines


def _daily(meter: MeterEstimate, value: float | None = None) -> str:
    value = meter.daily if value is None else value
    return f"{value / 1e9:,.2f} GB" if meter.unit == "bytes" else f"{value:,.0f}"


def free_plan_warnings(result: Estimate) -> list[str]:
    """One line per free-plan limit the expected traffic crosses, saying when it runs out."""
    lines = []
    for meter in result.over_free_limits:
        if isinstance(meter, MeterEstimate):
            lines.append(
                f"{meter.label}: {_daily(meter)}/day expected, "
                f"over the free plan's {_daily(meter, meter.free_daily_limit)}/day "
                f"({meter.utilisation:.1%}); used up by {utc_clock(meter.exhausted_after_s)} UTC each day, "
                f"{meter.over_free_effect}"
            )
        else:
            lines.append(
                f"{meter.label}: {meter.bytes / 1e6:,.1f} MB expected, over the free plan's "
                f"{(meter.free_limit_bytes or 0) / 1e6:,.0f} MB ({meter.utilisation or 0:.1%})"
            )
    per_minute = peak_requests_per_minute(result)
    if per_minute > platform.WORKERS_FREE_REQUESTS_PER_MINUTE:
        lines.append(
            f"Worker requests: {per_minute:,.0f} in the busiest minute, over the free plan's "
            f"{platform.WORKERS_FREE_REQUESTS_PER_MINUTE:,} a minute per account; past it requests are refused"
        )
    for meter in result.at_free_limits:
        lines.append(f"{meter.label}: exactly at the free plan's limit (100.0%): one more and they fail")
    fallback = result.kv_fallback
    if fallback is not None:
        lines.append(
            f"from {utc_clock(fallback.after_s)} UTC, with the {fallback.cause} gone, the Worker caches nothing and "
            f"every lookup reads D1: +{fallback.extra['d1_rows_read']:,.0f} D1 rows read and "
            f"+{fallback.extra['d1_queries']:,.0f} queries a day (counted in the D1 figures)"
        )
    return lines


def capacity_warning(result: Estimate, stack: str) -> str | None:
    """On any plan: the day the D1 database passes what one database may hold."""
    full = result.database_full
    if full is None:
        return None
    when = "at the expected traffic" if full.day == 0 else f"on day {full.day}, at {full.active_users:,} active users"
    return (
        f"stack {stack!r}: the D1 database reaches its limit {when}: {full.label}; beyond it its writes fail. "
        "fix: lower `usageRetentionDays` (usage rows are most of it), or correct the traffic settings; "
        f"details: `guruai-cache estimate --stack {stack}`"
    )


def preview_warning(result: Estimate, stack: str) -> str | None:
    """What `pulumi preview`/`up` says when the stack's expected traffic will not fit the free plan."""
    lines = free_plan_warnings(result)
    if not lines:
        return None
    return "\n".join(
        [
            f"stack {stack!r}: the expected traffic (settings `traffic.*`) crosses the Workers Free plan's limits:",
            *(f"  {line}" for line in verdict_lines(result)),
            *(f"  - {line}" for line in lines),
            "fix: upgrade the account to Workers Paid (the bill above) and set `traffic.workersPlan: paid`, "
            f"or correct the traffic settings; details: `guruai-cache estimate --stack {stack}`",
        ]
    )
