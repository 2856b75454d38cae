"""What the app sells and switches: pricing tiers and feature flags (seeded into KV)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from infra.settings.base import SettingModel, problem

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$")
FLAG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Tier(SettingModel):
    name: str
    monthly_price: float = Field(ge=0)
    daily_request_limit: int = Field(ge=1)
    features: tuple[str, ...] = ()

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise problem("not a tier slug", "use lowercase letters, digits, '-' or '_', e.g. 'pro'")
        return value


DEFAULT_TIERS = (
    Tier(name="free", monthly_price=0, daily_request_limit=100, features=("basic-search",)),
    Tier(name="pro", monthly_price=9.99, daily_request_limit=1000, features=("basic-search", "ai-answers")),
    Tier(
        name="premium",
        monthly_price=29.99,
        daily_request_limit=10000,
        features=("basic-search", "ai-answers", "priority-support"),
    ),
)


class FeatureFlag(SettingModel):
    enabled: bool = True
    # None: every tier; otherwise only these tiers see the feature.
    tiers: tuple[str, ...] | None = None
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `featureFlags: {beta: true}` is the common case; accept it.
        return {"enabled": value} if isinstance(value, (bool, str)) else value
