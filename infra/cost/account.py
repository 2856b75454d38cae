"""The Free plan's limits are per account: every stack on one account shares them. The account
view sums the stacks' daily figures, counts the seed writes a deploy makes, and checks the Free
plan's 1,000 requests a minute (pure: the CLI passes the stacks' estimates in)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from infra import platform
from infra.cost.estimate import Estimate, at_limit, over_limit

MINUTES_PER_DAY = 1_440


def peak_requests_per_minute(result: Estimate) -> float:
    """The busiest minute's Worker requests: the day's average minute x `traffic.peakToAverage`."""
    requests = next(m.daily for m in result.meters if m.key == "worker_requests")
    return requests / MINUTES_PER_DAY * result.traffic.peak_to_average


@dataclass(frozen=True)
class AccountLimit:
    label: str
    amount: float  # the account's total, a day (a minute for the burst limit)
    limit: float
    per: str  # "day" or "minute"
    unit: str = "operations"

    @property
    def over(self) -> bool:
        return over_limit(self.amount, self.limit)

    @property
    def at(self) -> bool:
        return at_limit(self.amount, self.limit)


@dataclass(frozen=True)
class AccountEstimate:
    stacks: tuple[str, ...]
    limits: tuple[AccountLimit, ...]
    seed_writes: int  # KV writes a deploy of every stack adds to that day's (its seeds)

    @property
    def crossed(self) -> tuple[AccountLimit, ...]:
        return tuple(limit for limit in self.limits if limit.over or limit.at)


def account_estimate(stacks: Mapping[str, tuple[Estimate, int]]) -> AccountEstimate:
    """The Free plan's daily limits against the sum of the stacks' figures; on a deploy day the
    KV writes include every stack's seed writes. `stacks`: name -> (estimate, seed writes)."""
    seed_writes = sum(seeds for _, seeds in stacks.values())
    limits = []
    for meter in platform.METERS:
        if meter.free_daily_limit is None:
            continue
        total = sum(next(m.daily for m in result.meters if m.key == meter.key) for result, _ in stacks.values())
        if meter.key == "kv_writes":
            total += seed_writes
            label = "KV writes (on a deploy day, seeds included)"
        else:
            label = meter.label
        limits.append(AccountLimit(label, total, meter.free_daily_limit, "day", meter.unit))
    burst = sum(peak_requests_per_minute(result) for result, _ in stacks.values())
    limits.append(
        AccountLimit("Worker requests, busiest minute", burst, platform.WORKERS_FREE_REQUESTS_PER_MINUTE, "minute")
    )
    return AccountEstimate(tuple(stacks), tuple(limits), seed_writes)


def account_lines(account: AccountEstimate, account_id: str | None) -> list[str]:
    """The account view in words: each shared Free limit, the account's use of it, and which it crosses."""
    who = f"account {account_id}" if account_id else "the account (accountId unset: assumed one)"
    lines = [f"Free plan limits shared by {', '.join(account.stacks)} on {who}:"]
    for limit in account.limits:
        unit = "/min" if limit.per == "minute" else "/day"
        flag = " over" if limit.over else " AT LIMIT" if limit.at else ""
        scale, suffix = (1e9, " GB") if limit.unit == "bytes" else (1, "")
        digits = ",.2f" if limit.unit == "bytes" else ",.0f"
        lines.append(
            f"- {limit.label}: {limit.amount / scale:{digits}}{suffix}{unit} of "
            f"{limit.limit / scale:{digits}}{suffix}{unit} ({limit.amount / limit.limit:.1%}){flag}"
        )
    return lines
