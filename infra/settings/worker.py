"""The Worker's own settings: cache lifetimes and the burst rate limiter."""

from __future__ import annotations

from pydantic import Field, field_validator

from infra import platform
from infra.settings.base import SettingModel, problem
from infra.worker_contract import VAR_DEFAULTS


class Ttls(SettingModel):
    """Cache lifetimes in seconds (the guide's values are the defaults)."""

    subscription: int = VAR_DEFAULTS["SUBSCRIPTION_TTL"]
    tier_config: int = VAR_DEFAULTS["TIER_CONFIG_TTL"]
    rate_limit: int = VAR_DEFAULTS["RATE_LIMIT_TTL"]
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


class BurstRateLimit(SettingModel):
    """The Workers `ratelimit` binding: a per-client burst limit."""

    limit: int = Field(default=100, ge=1)
    period: int = 60
    namespace_id: str = "1001"

    @field_validator("period")
    @classmethod
    def _supported_period(cls, value: int) -> int:
        if value not in platform.RATELIMIT_PERIODS_S:
            raise problem("the ratelimit binding supports only 10 or 60 seconds", "use 10 or 60")
        return value

    @field_validator("namespace_id")
    @classmethod
    def _positive_integer(cls, value: str) -> str:
        if not value.isdigit() or int(value) < 1:
            raise problem("not a positive integer", "use a number unique to this limiter in the account, e.g. '1001'")
        return value
