"""Expected traffic: the input of `guruai-cache estimate` and of the free-plan warning at preview."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from infra.settings.base import SettingModel, problem


def _count(default: float) -> Any:
    return Field(default=default, ge=0, allow_inf_nan=False)


class Traffic(SettingModel):
    """Expected traffic: the input of `guruai-cache estimate` and of the free-plan warning.

    Defaults are the setup guide's cost example (10,000 users, 10 subscription checks
    each a day, 100 updates a day). The guide counts no other route, so those default to 0.
    """

    active_users: int = Field(default=10_000, ge=0)
    subscription_checks_per_user_per_day: float = _count(10)
    subscription_updates_per_day: float = _count(100)
    usage_calls_per_user_per_day: float = _count(0)
    tier_reads_per_user_per_day: float = _count(0)
    entitlements_checks_per_user_per_day: float = _count(0)
    health_checks_per_day: float = _count(0)
    # Analytics Engine SQL queries a day: `guruai-cache metrics` runs, dashboards (a Grafana
    # panel refreshing every minute is 1,440), alerts. Each is one billed read query.
    metrics_queries_per_day: float = _count(0)
    # Share of subscription checks answered from KV. Users check in bursts within the
    # subscription TTL, so most checks hit; writes to KV come from the misses.
    cache_hit_ratio: float = 0.9
    # Share of checked users with no active subscription (answered 404, cached negatively).
    unsubscribed_share: float = 0.0
    # Of those, the share whose row exists with status canceled or past_due: D1 reads that row
    # (1 row) before the status filter drops it, where a user with no row costs none. All of
    # them by default, so the estimate errs on the dear side.
    lapsed_share: float = 1.0
    # Share of usage calls refused because the user is over the tier's daily limit.
    usage_denied_share: float = 0.0
    # Share of usage calls that send an Idempotency-Key: every one from the Python client (0.2.0+,
    # one key per use), so all of them by default. A keyed call is one D1 batch of four statements
    # (worker/operations.json, usage_post_*_keyed), dearer than an unkeyed one.
    keyed_usage_share: float = 1.0
    # Growth of active users per month (0.1 = +10 %), to find the day a free limit is hit.
    monthly_user_growth: float = Field(default=0.0, ge=0, le=10, allow_inf_nan=False)
    # CPU time a Worker invocation spends (ms): an assumption until measured; the dashboard's
    # "CPU time" chart gives the real median. Priced against Workers Paid's included CPU time.
    cpu_ms_per_request: float = Field(default=2.0, ge=0, allow_inf_nan=False)
    # The busiest minute's requests over the day's average minute: the Free plan refuses requests
    # past 1,000 a minute per account. 1 is traffic spread evenly, as the daily figures assume.
    peak_to_average: float = Field(default=1.0, ge=1, allow_inf_nan=False)
    # Rows in D1's subscriptions table: every user ever subscribed, canceled and lapsed ones
    # included (their rows stay). Unset: every active user, the unsubscribed ones with a row too.
    stored_subscriptions: int | None = Field(default=None, ge=0)
    # The account's Workers plan: on "paid" the free-plan warning gives way to the bill.
    workers_plan: Literal["free", "paid"] = "free"

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic would read true as 1 user and false as 0 %: a boolean here is a mistake.
        if isinstance(value, bool) and info.field_name != "workers_plan":
            raise problem("a boolean is not a number", "use a number, e.g. 10 or 0.5")
        return value

    @field_validator("cache_hit_ratio", "unsubscribed_share", "lapsed_share", "usage_denied_share", "keyed_usage_share")
    @classmethod
    def _share(cls, value: float) -> float:
        if not 0 <= value <= 1:  # also refuses NaN
            hint = f"{value:g} % is {value / 100:g}" if 1 < value <= 100 else "e.g. 0.9 for 90 %"
            raise problem("a share must lie between 0 and 1", f"write it as a fraction ({hint})")
        return value
