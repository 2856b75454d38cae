"""The estimate's verdict in two lines, for the person who pays: the monthly bill's range, and
the first limit hit with when. `guruai-cache estimate` prints it first; `pulumi preview` says it too."""

from __future__ import annotations

from infra.cost.estimate import HORIZON_DAYS, Estimate, utc_clock


def usd(value: float) -> str:
    return f"${value:,.2f}"


def bill_line(result: Estimate) -> str:
    """The Paid bill from the assumed hit ratio to the random-arrival one."""
    low, high = result.paid_range_usd
    traffic = result.traffic
    ratio = result.random_arrival_hit_ratio
    if ratio is None or abs(high - low) < 0.005:
        return f"Bill: {usd(low)} a month on Workers Paid"
    return (
        f"Bill: {usd(low)} to {usd(high)} a month on Workers Paid (cache hit ratio "
        f"{traffic.cache_hit_ratio:.0%} assumed, down to {ratio:.1%} if lookups come at random times)"
    )


def limit_line(result: Estimate) -> str:
    """The first limit the traffic meets, and when: a Free-plan allowance on Free, the database's
    size on either plan."""
    traffic = result.traffic
    growth = f" at +{traffic.monthly_user_growth:.0%} users a month" if traffic.monthly_user_growth else ""
    hits = []
    if traffic.workers_plan == "free" and result.first_limit_hit is not None:
        hits.append(result.first_limit_hit)
    if result.database_full is not None:
        hits.append(result.database_full)
    if not hits:
        at_limit = result.at_free_limits if traffic.workers_plan == "free" else ()
        if at_limit:
            return f"First limit: {at_limit[0].label} at exactly 100% of the Free plan's, today: no room to grow"
        return f"First limit: none within {HORIZON_DAYS:,} days ({HORIZON_DAYS // 365} years){growth}"
    first = min(hits, key=lambda hit: hit.day)
    if first.day == 0:
        when = "today"
        meter = next((m for m in result.meters if m.label == first.label), None)
        clock = utc_clock(meter.exhausted_after_s) if meter is not None else None
        if clock:
            when = f"today, used up by {clock} UTC each day"
    else:
        when = f"on day {first.day}, at {first.active_users:,} active users{growth}"
    return f"First limit: {first.label}, {when}"


def verdict_lines(result: Estimate) -> list[str]:
    return [bill_line(result), limit_line(result)]
