"""What the Worker answers, as typed, immutable values (the schemas of worker/openapi.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

SubscriptionStatus = Literal["active", "trialing", "past_due", "canceled"]
# What a client token may do (worker/openapi.yaml `Scope`).
Scope = Literal["read", "usage", "write"]


class MalformedResponse(ValueError):
    """A 2xx body that does not have the documented shape."""


def _field(body: Any, name: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(body, dict) or name not in body or not isinstance(body[name], kind):
        raise MalformedResponse(f"expected {name!r} of type {kind}, got {body!r:.200}")
    return body[name]


def _int(body: Any, name: str) -> int:
    value = _field(body, name, int)
    if isinstance(value, bool):
        raise MalformedResponse(f"expected {name!r} to be an integer, got {value!r}")
    return int(value)


def _time(body: Any, name: str) -> datetime:
    text = _field(body, name, str)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise MalformedResponse(f"{name!r} is not an ISO 8601 time: {text!r}") from None


@dataclass(frozen=True, slots=True)
class Health:
    status: str
    environment: str | None
    catalog_version: str | None  # a digest of the tiers and flags the Worker serves

    @classmethod
    def from_json(cls, body: Any) -> Health:
        return cls(
            status=_field(body, "status", str),
            environment=_field(body, "environment", (str, type(None))),
            catalog_version=_field(body, "catalogVersion", (str, type(None))),
        )


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    monthly_price: float
    daily_request_limit: int
    features: tuple[str, ...]

    @classmethod
    def from_json(cls, body: Any) -> Tier:
        return cls(
            name=_field(body, "name", str),
            monthly_price=float(_field(body, "monthlyPrice", (int, float))),
            daily_request_limit=_int(body, "dailyRequestLimit"),
            features=tuple(body.get("features") or ()),
        )


@dataclass(frozen=True, slots=True)
class Subscription:
    user_id: str
    tier: str
    status: SubscriptionStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_json(cls, body: Any) -> Subscription:
        return cls(
            user_id=_field(body, "userId", str),
            tier=_field(body, "tier", str),
            status=_field(body, "status", str),
            created_at=_time(body, "createdAt"),
            updated_at=_time(body, "updatedAt"),
        )


@dataclass(frozen=True, slots=True)
class Entitlements:
    """What the user may do now: `effective_tier`'s limit and features (the subscription's own
    tier, or the Worker's fallback tier when that tier is no longer configured)."""

    user_id: str
    tier: str
    effective_tier: str
    limit: int
    used: int
    remaining: int
    resets_at: datetime
    features: frozenset[str]
    # When `used` was read or counted: the Worker may answer from memory for a few seconds
    # (`entitlementsCountMaxAge`), so uses counted elsewhere since are not in it yet. None from
    # a Worker that predates the field. `record_usage` is the exact check.
    usage_as_of: datetime | None = None

    def has(self, feature: str) -> bool:
        return feature in self.features

    @classmethod
    def from_json(cls, body: Any) -> Entitlements:
        features = _field(body, "features", list)
        return cls(
            user_id=_field(body, "userId", str),
            tier=_field(body, "tier", str),
            effective_tier=_field(body, "effectiveTier", str),
            limit=_int(body, "limit"),
            used=_int(body, "used"),
            remaining=_int(body, "remaining"),
            resets_at=_time(body, "resetsAt"),
            features=frozenset(str(feature) for feature in features),
            usage_as_of=_time(body, "usageAsOf") if "usageAsOf" in body else None,
        )


@dataclass(frozen=True, slots=True)
class Usage:
    """One use counted (POST /usage/{userId})."""

    used: int
    remaining: int
    limit: int
    resets_at: datetime
    tier: str
    effective_tier: str

    @classmethod
    def from_json(cls, body: Any) -> Usage:
        if _field(body, "allowed", bool) is not True:
            raise MalformedResponse("a 200 usage answer must say allowed: true")
        return cls(
            used=_int(body, "used"),
            remaining=_int(body, "remaining"),
            limit=_int(body, "limit"),
            resets_at=_time(body, "resetsAt"),
            tier=_field(body, "tier", str),
            effective_tier=_field(body, "effectiveTier", str),
        )


def tiers_from_json(body: Any) -> dict[str, Tier]:
    if not isinstance(body, dict) or not body:
        raise MalformedResponse(f"expected an object of tiers, got {body!r:.200}")
    return {name: Tier.from_json(tier) for name, tier in body.items()}
