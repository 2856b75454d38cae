"""The Worker's own settings: cache lifetimes and the burst rate limiter."""

from __future__ import annotations

import hashlib

from pydantic import Field, field_validator

from infra import platform
from infra.settings.base import SettingModel, problem
from infra.worker_contract import VAR_DEFAULTS


class Ttls(SettingModel):
    """Cache lifetimes in seconds (the guide's values are the defaults)."""

    subscription: int = int(VAR_DEFAULTS["SUBSCRIPTION_TTL"])
    tier_config: int = int(VAR_DEFAULTS["TIERS_MAX_AGE"])
    rate_limit: int = int(VAR_DEFAULTS["USAGE_WINDOW_SECONDS"])
    # Deprecated: no route caches usage data (usage is counted in D1). Still accepted, and
    # checked like the others, so existing stack files keep working; see DEPRECATED.
    usage: int | None = None

    @field_validator("*")
    @classmethod
    def _at_least_kv_minimum(cls, value: int | None) -> int | None:
        if value is not None and value < platform.KV_MIN_EXPIRATION_TTL_S:
            raise problem(
                f"below KV's minimum expirationTtl of {platform.KV_MIN_EXPIRATION_TTL_S} s",
                f"use {platform.KV_MIN_EXPIRATION_TTL_S} or more",
            )
        return value


# Derived limiter namespaces fall in [FIRST, FIRST + SPAN): clear of small hand-picked ids
# such as the guide's 1001, and well inside a 32-bit integer.
DERIVED_NAMESPACE_FIRST = 100_000
DERIVED_NAMESPACE_SPAN = 900_000_000


def derived_namespace_id(app_name: str, stack: str) -> str:
    """The limiter's namespace when the stack sets none: a number drawn from the SHA-256 of
    `<appName>:<stack>`, so each stack of an account gets its own counters and keeps them
    from one deploy to the next."""
    digest = int.from_bytes(hashlib.sha256(f"{app_name}:{stack}".encode()).digest()[:8], "big")
    return str(DERIVED_NAMESPACE_FIRST + digest % DERIVED_NAMESPACE_SPAN)


class BurstRateLimit(SettingModel):
    """The Workers `ratelimit` binding: a per-client burst limit.

    `namespace_id` names the limiter's counters and is unique per Cloudflare *account*: two
    stacks that share one spend each other's budget. Unset, it is derived per stack
    (`derived_namespace_id`); `guruai-cache settings check` and `pulumi preview` refuse two
    committed stacks that end up with the same one.
    """

    limit: int = Field(default=100, ge=1)
    period: int = int(VAR_DEFAULTS["BURST_RATE_LIMIT_PERIOD"])
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
