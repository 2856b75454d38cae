"""The Worker's own settings: cache lifetimes, GET /tiers' max-age, the usage window and the two rate limiters."""

from __future__ import annotations

import hashlib
import math

from pydantic import Field, field_validator

from infra import platform
from infra.settings.base import SettingModel, problem
from infra.settings.traffic import Traffic


class Ttls(SettingModel):
    """How long the Worker caches in KV, in seconds (the guide's value is the default)."""

    subscription: int = 300
    # Deprecated: neither is a KV lifetime. `tierConfig` is read as `tiersMaxAge` and
    # `rateLimit` as `usageWindowSeconds` (AliasPath on those settings), and validated there
    # with the new meaning; here they are only accepted, so existing stack files keep working.
    tier_config: int | None = None
    rate_limit: int | None = None
    # Deprecated: no route caches usage data (usage is counted in D1). Still accepted, and
    # checked like the others, so existing stack files keep working; see DEPRECATED.
    usage: int | None = None

    @field_validator("subscription", "usage")
    @classmethod
    def _at_least_kv_minimum(cls, value: int | None) -> int | None:
        if value is not None and value < platform.KV_MIN_EXPIRATION_TTL_S:
            raise problem(
                f"below KV's minimum expirationTtl of {platform.KV_MIN_EXPIRATION_TTL_S} s",
                f"use {platform.KV_MIN_EXPIRATION_TTL_S} or more",
            )
        return value


# GET /tiers' max-age, in seconds: 0 (callers revalidate every time) up to a year, HTTP's
# customary ceiling (RFC 9111 section 5.3: Expires was once capped at a year ahead, and far
# larger lifetimes cause problems in caches); beyond it a caller keeps tiers across many deploys.
TIERS_MAX_AGE_MAX_S = 365 * 86_400
# The usage window, in seconds: at least a minute. A shorter window is a burst limit, which
# the `ratelimit` binding (burstRateLimit) does per client without D1, and each window
# starts a D1 row per user. At most usageRetentionDays: the daily cleanup deletes rows whose
# window started before the retention cutoff, so a longer window would lose its counts
# while it still counts, and its users would start over.
USAGE_WINDOW_MIN_S = 60
SECONDS_PER_DAY = 86_400


def tiers_max_age_problem(value: int) -> tuple[str, str] | None:
    """(problem, fix) when `value` cannot be GET /tiers' `Cache-Control: private, max-age`."""
    if 0 <= value <= TIERS_MAX_AGE_MAX_S:
        return None
    return (
        f"GET /tiers' Cache-Control max-age must be 0 to {TIERS_MAX_AGE_MAX_S} seconds (a year)",
        "use e.g. 3600 (callers keep the tiers an hour), or 0 (they revalidate every time)",
    )


def usage_window_problem(value: int, retention_days: int | None) -> tuple[str, str] | None:
    """(problem, fix) when `value` cannot be the window POST /usage counts in; `retention_days`:
    usageRetentionDays, None when it is itself invalid (then only the minimum is checked)."""
    if value < USAGE_WINDOW_MIN_S:
        return (
            f"the usage window is under {USAGE_WINDOW_MIN_S} s: a limit that short is the burst limiter's "
            "job (burstRateLimit), and every window starts a D1 row per user",
            f"use {USAGE_WINDOW_MIN_S} or more, e.g. {SECONDS_PER_DAY} (a UTC day)",
        )
    if retention_days is not None and value > retention_days * SECONDS_PER_DAY:
        return (
            f"longer than usageRetentionDays ({retention_days} days, {retention_days * SECONDS_PER_DAY} s): "
            "the daily cleanup would delete a window's counts while it still counts",
            f"use at most {retention_days * SECONDS_PER_DAY}, or raise usageRetentionDays",
        )
    return None


# Derived limiter namespaces fall in [FIRST, FIRST + SPAN): clear of small hand-picked ids
# such as the guide's 1001, and well inside a 32-bit integer.
DERIVED_NAMESPACE_FIRST = 100_000
DERIVED_NAMESPACE_SPAN = 900_000_000


def derived_namespace_id(app_name: str, stack: str, limiter: str = "") -> str:
    """A limiter's namespace when the stack sets none: a number drawn from the SHA-256 of
    `<appName>:<stack>` (the burst limiter's, as it always was) or `<appName>:<stack>:<limiter>`
    (any other), so each limiter of each stack of an account gets its own counters and keeps
    them from one deploy to the next."""
    seed = f"{app_name}:{stack}" + (f":{limiter}" if limiter else "")
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    return str(DERIVED_NAMESPACE_FIRST + digest % DERIVED_NAMESPACE_SPAN)


class Limiter(SettingModel):
    """A Workers `ratelimit` binding: `limit` requests per `period` seconds per key, counted per
    Cloudflare location.

    `namespace_id` names the limiter's counters and is unique per Cloudflare *account*: two
    limiters that share one spend each other's budget. Unset, it is derived per stack and
    limiter (`derived_namespace_id`); `guruai-cache settings check` and `pulumi preview` refuse
    two limiters of the committed stacks that end up with the same one.
    """

    period: int = 60
    namespace_id: str | None = None

    @field_validator("period")
    @classmethod
    def _supported_period(cls, value: int) -> int:
        if value not in platform.RATELIMIT_PERIODS_S:
            raise problem("the ratelimit binding supports only 10 or 60 seconds", "use 10 or 60")
        return value

    @field_validator("namespace_id", mode="before")
    @classmethod
    def _number_as_text(cls, value: object) -> object:
        # `namespaceId: 1001` in a stack file is a YAML number; wrangler and the API take text.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("namespace_id")
    @classmethod
    def _positive_integer(cls, value: str | None) -> str | None:
        if value is not None and (not value.isdigit() or int(value) < 1):
            raise problem("not a positive integer", "use a number unique to this limiter in the account, e.g. '1001'")
        return value


class BurstRateLimit(Limiter):
    """POST /usage's burst limit, per client and user."""

    limit: int = Field(default=100, ge=1)


class ClientRateLimit(Limiter):
    """Every authenticated route's limit, per client: what one client (or a leaked token) can
    cost in KV reads, D1 queries and requests. Unset, `limit` is sized from the stack's
    `traffic` (client_limit_default)."""

    limit: int | None = Field(default=None, ge=1)


# The client limiter's default: the busiest client's expected requests in one period (all
# authenticated traffic, as if one app backend sent it: the dear side) times PEAK_FACTOR, and
# at least FLOOR_PER_S a second, so a stack with little expected traffic still serves bursts.
CLIENT_LIMIT_PEAK_FACTOR = 10
CLIENT_LIMIT_FLOOR_PER_S = 5


def client_limit_default(traffic: Traffic, period: int) -> int:
    """ceil(authenticated requests a day / 86400 x period x PEAK_FACTOR), at least FLOOR_PER_S x period."""
    users = traffic.active_users
    per_day = (
        users
        * (
            traffic.subscription_checks_per_user_per_day
            + traffic.usage_calls_per_user_per_day
            + traffic.tier_reads_per_user_per_day
            + traffic.entitlements_checks_per_user_per_day
        )
        + traffic.subscription_updates_per_day
    )
    peak = math.ceil(per_day / SECONDS_PER_DAY * period * CLIENT_LIMIT_PEAK_FACTOR)
    return max(peak, CLIENT_LIMIT_FLOOR_PER_S * period)
