"""What the Worker answers, as typed, immutable values (the schemas of worker/openapi.yaml).

Each result also carries `meta` (`ResponseMeta`): the answer's request id, cache state and
rate-limit figures, from its headers. `meta` takes no part in equality: two reads of the same
subscription are equal though their request ids differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

SubscriptionStatus = Literal["active", "trialing", "past_due", "canceled"]
SUBSCRIPTION_STATUSES: tuple[str, ...] = get_args(SubscriptionStatus)
# What a client token may do (worker/openapi.yaml `Scope`).
Scope = Literal["read", "usage", "write"]
# worker/openapi.yaml's X-Cache: KV hit, read from D1 (now cached), or KV failed and D1 answered.
CacheState = Literal["HIT", "MISS", "BYPASS"]
CACHE_STATES: tuple[str, ...] = get_args(CacheState)
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age=(\d+)\s*(?:,|$)")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The daily window's figures (`X-RateLimit-*`), on `POST /usage` answers."""

    limit: int
    remaining: int
    resets_at: datetime


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """One policy of the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-12):
    `RateLimit-Policy`'s quota per window of seconds, and `RateLimit`'s remaining uses and seconds
    to the reset when the Worker tells them. The Worker names `daily` and `burst`."""

    name: str
    quota: int | None
    window: int | None
    remaining: int | None = None
    reset: int | None = None


@dataclass(frozen=True, slots=True)
class ResponseMeta:
    """What the answer's headers say besides the body."""

    status: int
    request_id: str | None  # finds the Worker's log line
    cache: CacheState | None = None  # X-Cache, on subscription and entitlements reads
    rate_limit: RateLimit | None = None  # X-RateLimit-*, on usage answers
    max_age: int | None = None  # Cache-Control's max-age, on GET /tiers: how long the client keeps it
    replayed: bool = False  # Idempotent-Replayed: a usage answer replayed for its key (nothing counted)
    policies: tuple[RateLimitPolicy, ...] = ()  # RateLimit-Policy and RateLimit, on usage and entitlements
    etag: str | None = None  # ETag: a subscription's version (set_subscription's if_match), the tiers' catalog version

    @classmethod
    def from_headers(cls, status: int, headers: Any) -> ResponseMeta:
        cache = headers.get("X-Cache")
        max_age = _MAX_AGE.search(headers.get("Cache-Control") or "")
        return cls(
            status=status,
            request_id=headers.get("X-Request-Id"),
            cache=cache if cache in CACHE_STATES else None,
            rate_limit=_rate_limit(headers),
            max_age=int(max_age.group(1)) if max_age else None,
            replayed=headers.get("Idempotent-Replayed") == "true",
            policies=_policies(headers.get("RateLimit-Policy"), headers.get("RateLimit")),
            etag=headers.get("ETag"),
        )

    def policy(self, name: str) -> RateLimitPolicy | None:
        """The RateLimit policy named `name` (`daily`, `burst`), if the answer has it."""
        return next((policy for policy in self.policies if policy.name == name), None)


_ITEM = re.compile(r'^\s*"([^"]+)"((?:;\s*[a-z]+=[^;,]*)*)\s*$')


def _items(field: str | None) -> dict[str, dict[str, int]]:
    """A structured-field list of `"name";key=integer` items (RFC 9651), by name; what is not that, skipped."""
    found: dict[str, dict[str, int]] = {}
    for item in (field or "").split(","):
        match = _ITEM.match(item)
        if match:
            parameters = (part.split("=", 1) for part in match.group(2).split(";")[1:])
            found[match.group(1)] = {key.strip(): int(value) for key, value in parameters if value.strip().isdigit()}
    return found


def _policies(policy_field: str | None, state_field: str | None) -> tuple[RateLimitPolicy, ...]:
    policies, states = _items(policy_field), _items(state_field)
    return tuple(
        RateLimitPolicy(
            name,
            policies.get(name, {}).get("q"),
            policies.get(name, {}).get("w"),
            states.get(name, {}).get("r"),
            states.get(name, {}).get("t"),
        )
        for name in dict.fromkeys([*policies, *states])
    )


def _rate_limit(headers: Any) -> RateLimit | None:
    figures = [headers.get(f"X-RateLimit-{name}") for name in ("Limit", "Remaining", "Reset")]
    if not all(isinstance(figure, str) and figure.isdigit() for figure in figures):
        return None  # absent (not a usage answer) or not the documented digits: no figures
    limit, remaining, reset = (int(figure) for figure in figures)
    return RateLimit(limit, remaining, datetime.fromtimestamp(reset, UTC))


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


def _strings(body: Any, name: str) -> list[str]:
    values: list[str] = _field(body, name, list)
    if not all(isinstance(value, str) for value in values):
        raise MalformedResponse(f"expected {name!r} to be a list of strings, got {values!r:.200}")
    return values


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
    api_version: str | None = None  # the API version the Worker serves; None from API 2.0.0
    meta: ResponseMeta | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_json(cls, body: Any, meta: ResponseMeta | None = None) -> Health:
        return cls(
            status=_field(body, "status", str),
            environment=_field(body, "environment", (str, type(None))),
            catalog_version=_field(body, "catalogVersion", (str, type(None))),
            api_version=_field(body, "apiVersion", str) if "apiVersion" in body else None,
            meta=meta,
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
            # Optional in the contract; when present, a list (a string would be split into letters).
            features=tuple(_strings(body, "features")) if "features" in body else (),
        )


@dataclass(frozen=True, slots=True)
class Subscription:
    user_id: str
    tier: str
    status: SubscriptionStatus
    created_at: datetime
    updated_at: datetime
    meta: ResponseMeta | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_json(cls, body: Any, meta: ResponseMeta | None = None) -> Subscription:
        status = _field(body, "status", str)
        if status not in SUBSCRIPTION_STATUSES:
            raise MalformedResponse(f"'status' is {status!r}, not one of {', '.join(SUBSCRIPTION_STATUSES)}")
        return cls(
            user_id=_field(body, "userId", str),
            tier=_field(body, "tier", str),
            status=status,
            created_at=_time(body, "createdAt"),
            updated_at=_time(body, "updatedAt"),
            meta=meta,
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
    meta: ResponseMeta | None = field(default=None, compare=False, repr=False)

    def has(self, feature: str) -> bool:
        return feature in self.features

    @classmethod
    def from_json(cls, body: Any, meta: ResponseMeta | None = None) -> Entitlements:
        features = _strings(body, "features")
        return cls(
            user_id=_field(body, "userId", str),
            tier=_field(body, "tier", str),
            effective_tier=_field(body, "effectiveTier", str),
            limit=_int(body, "limit"),
            used=_int(body, "used"),
            remaining=_int(body, "remaining"),
            resets_at=_time(body, "resetsAt"),
            features=frozenset(features),
            usage_as_of=_time(body, "usageAsOf") if "usageAsOf" in body else None,
            meta=meta,
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
    meta: ResponseMeta | None = field(default=None, compare=False, repr=False)

    @property
    def rate_limit(self) -> RateLimit | None:
        """The daily window's figures from the headers (the body has them too)."""
        return self.meta.rate_limit if self.meta else None

    @property
    def replayed(self) -> bool:
        """The Worker replayed the answer of this call's Idempotency-Key (a retry of a use it had
        counted): nothing was counted this time."""
        return self.meta.replayed if self.meta else False

    @classmethod
    def from_json(cls, body: Any, meta: ResponseMeta | None = None) -> Usage:
        if _field(body, "allowed", bool) is not True:
            raise MalformedResponse("a 200 usage answer must say allowed: true")
        return cls(
            used=_int(body, "used"),
            remaining=_int(body, "remaining"),
            limit=_int(body, "limit"),
            resets_at=_time(body, "resetsAt"),
            tier=_field(body, "tier", str),
            effective_tier=_field(body, "effectiveTier", str),
            meta=meta,
        )


class Tiers(dict[str, Tier]):
    """`GET /tiers`: the tiers by name (a dict, as before), with the answer's `meta`."""

    meta: ResponseMeta | None = None

    def revalidated(self, meta: ResponseMeta) -> Tiers:
        """These tiers, confirmed current by a 304 (its meta: the new max-age)."""
        tiers = Tiers(self)
        tiers.meta = meta
        return tiers


def tiers_from_json(body: Any, meta: ResponseMeta | None = None) -> Tiers:
    if not isinstance(body, dict) or not body:
        raise MalformedResponse(f"expected an object of tiers, got {body!r:.200}")
    tiers = Tiers((name, Tier.from_json(tier)) for name, tier in body.items())
    tiers.meta = meta
    return tiers
