"""WorkerClient and AsyncWorkerClient: one method per route of worker/openapi.yaml.

Both share the same calls (`_Call`: method, path, body, how to read the answer) and the same
retry policy (`RetryPolicy`); only the sending differs. Retries are bounded: on 429 and 503,
after `Retry-After` when the Worker sends one (and only if it is short enough), else after an
exponential backoff with jitter; on a connection that never reached the Worker. A POST that
may have reached the Worker is never re-sent after a timeout (it may have been counted).
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import httpx

from guruai_cache_client.errors import (
    InvalidUserId,
    WorkerError,
    WorkerUnavailable,
    WorkerUnreachable,
    error_for,
)
from guruai_cache_client.models import (
    Entitlements,
    Health,
    MalformedResponse,
    Subscription,
    SubscriptionStatus,
    Tier,
    Usage,
    tiers_from_json,
)
from guruai_cache_client.urls import checked_base_url

T = TypeVar("T")
USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # worker/openapi.yaml's UserId
RETRIED_STATUSES = (429, 503)
DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)


@dataclass(frozen=True)
class RetryPolicy:
    """At most `retries` more attempts; waits of at most `max_delay` seconds each."""

    retries: int = 2
    backoff: float = 0.2  # seconds before the first retry without Retry-After; doubles each time
    max_delay: float = 5.0  # a longer Retry-After (a daily limit: hours) is not waited for

    def delay(self, attempt: int, retry_after: str | None) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None: do not retry."""
        if attempt >= self.retries:
            return None
        if retry_after is not None:
            wait = _seconds(retry_after)
            return wait if wait is not None and wait <= self.max_delay else None
        jittered: float = self.backoff * 2**attempt * (0.5 + random.random())  # jitter: clients do not retry in step
        return min(self.max_delay, jittered)


def _seconds(retry_after: str) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110, 10.2.3)."""
    if retry_after.strip().isdigit():
        return float(retry_after.strip())
    try:
        when = email.utils.parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass(frozen=True)
class _Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    body: Any = None
    idempotent: bool = True  # safe to send again after a timeout
    public: bool = False  # no token


def _user_path(route: str, user_id: str) -> str:
    if not isinstance(user_id, str) or not USER_ID.fullmatch(user_id):
        # Refused here, as the Worker would (400): an id with "/" or "%" would reach another path.
        raise InvalidUserId(f"400 invalid_user_id: {user_id!r} is not 1 to 64 of A-Z a-z 0-9 _ -", status=400)
    return f"/{route}/{user_id}"


class _Calls:
    """The routes, as calls: the one description both clients send."""

    @staticmethod
    def health() -> _Call[Health]:
        return _Call("GET", "/health", Health.from_json, public=True)

    @staticmethod
    def tiers() -> _Call[dict[str, Tier]]:
        return _Call("GET", "/tiers", tiers_from_json)

    @staticmethod
    def subscription(user_id: str) -> _Call[Subscription]:
        return _Call("GET", _user_path("subscriptions", user_id), Subscription.from_json)

    @staticmethod
    def set_subscription(user_id: str, tier: str, status: SubscriptionStatus) -> _Call[Subscription]:
        body = {"tier": tier, "status": status}
        return _Call("PUT", _user_path("subscriptions", user_id), Subscription.from_json, body=body)

    @staticmethod
    def entitlements(user_id: str) -> _Call[Entitlements]:
        return _Call("GET", _user_path("entitlements", user_id), Entitlements.from_json)

    @staticmethod
    def record_usage(user_id: str) -> _Call[Usage]:
        return _Call("POST", _user_path("usage", user_id), Usage.from_json, idempotent=False)


def _result(call: _Call[T], response: httpx.Response) -> T:
    request_id = response.headers.get("X-Request-Id")
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        retry_after = response.headers.get("Retry-After")
        raise error_for(response.status_code, body, request_id, _seconds(retry_after) if retry_after else None)
    try:
        return call.parse(body)
    except MalformedResponse as error:
        raise WorkerError(
            f"{response.status_code}: {error}", status=response.status_code, request_id=request_id
        ) from None


def _not_sent(error: httpx.TransportError) -> bool:
    """The request never reached the Worker: re-sending it cannot count anything twice."""
    return isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def _unreachable(call: _Call[Any], error: httpx.TransportError) -> WorkerUnreachable:
    return WorkerUnreachable(f"{call.method} {call.path}: the Worker did not answer ({type(error).__name__}: {error})")


class _Base:
    def __init__(self, base_url: str, token: str | None, retry: RetryPolicy, headers: Mapping[str, str]) -> None:
        self.base_url = checked_base_url(base_url)  # before any token is sent
        self.token = token
        self.retry = retry
        self.headers = dict(headers)

    def _headers(self, call: _Call[Any]) -> dict[str, str]:
        headers = {"Accept": "application/json", **self.headers}
        if not call.public and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers


class Fallback:
    """What the app answers itself when the Worker cannot (`WorkerUnavailable`): the guide's
    "graceful degradation" on the app's side. Override the methods your app can answer, e.g.
    `entitlements` from its own database; the others re-raise the Worker's error."""

    def tiers(self, error: WorkerUnavailable) -> dict[str, Tier]:
        raise error

    def subscription(self, user_id: str, error: WorkerUnavailable) -> Subscription:
        raise error

    def set_subscription(
        self, user_id: str, tier: str, status: SubscriptionStatus, error: WorkerUnavailable
    ) -> Subscription:
        raise error

    def entitlements(self, user_id: str, error: WorkerUnavailable) -> Entitlements:
        raise error

    def record_usage(self, user_id: str, error: WorkerUnavailable) -> Usage:
        raise error


class AsyncFallback:
    """Fallback for AsyncWorkerClient: the same methods, as coroutines."""

    async def tiers(self, error: WorkerUnavailable) -> dict[str, Tier]:
        raise error

    async def subscription(self, user_id: str, error: WorkerUnavailable) -> Subscription:
        raise error

    async def set_subscription(
        self, user_id: str, tier: str, status: SubscriptionStatus, error: WorkerUnavailable
    ) -> Subscription:
        raise error

    async def entitlements(self, user_id: str, error: WorkerUnavailable) -> Entitlements:
        raise error

    async def record_usage(self, user_id: str, error: WorkerUnavailable) -> Usage:
        raise error


class WorkerClient(_Base):
    """The Worker's API, synchronously. Use it as a context manager, or call `close()`.

    >>> with WorkerClient("http://127.0.0.1:8787", token) as worker:  # doctest: +SKIP
    ...     worker.entitlements("user-pro").has("ai-answers")
    """

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        fallback: Fallback | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(base_url, token, retry or RetryPolicy(), headers or {})
        self.fallback = fallback
        self._sleep = sleep
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def __enter__(self) -> WorkerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def health(self) -> Health:
        """GET /health (no token)."""
        return self._send(_Calls.health())

    def tiers(self) -> dict[str, Tier]:
        """GET /tiers (scope read)."""
        return self._answer(_Calls.tiers(), lambda f, e: f.tiers(e))

    def subscription(self, user_id: str) -> Subscription:
        """GET /subscriptions/{userId} (scope read). Raises SubscriptionNotFound."""
        return self._answer(_Calls.subscription(user_id), lambda f, e: f.subscription(user_id, e))

    def set_subscription(self, user_id: str, tier: str, status: SubscriptionStatus = "active") -> Subscription:
        """PUT /subscriptions/{userId} (scope write). Raises UnknownTier."""
        call = _Calls.set_subscription(user_id, tier, status)
        return self._answer(call, lambda f, e: f.set_subscription(user_id, tier, status, e))

    def entitlements(self, user_id: str) -> Entitlements:
        """GET /entitlements/{userId} (scope read): tier, limit, today's remaining usage, features."""
        return self._answer(_Calls.entitlements(user_id), lambda f, e: f.entitlements(user_id, e))

    def record_usage(self, user_id: str) -> Usage:
        """POST /usage/{userId} (scope usage). Raises DailyLimitExceeded, BurstLimited, NoActiveSubscription."""
        return self._answer(_Calls.record_usage(user_id), lambda f, e: f.record_usage(user_id, e))

    def _answer(self, call: _Call[T], fallback: Callable[[Fallback, WorkerUnavailable], T]) -> T:
        try:
            return self._send(call)
        except WorkerUnavailable as error:
            if self.fallback is None:
                raise
            return fallback(self.fallback, error)

    def _send(self, call: _Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = self._http.request(call.method, call.path, json=call.body, headers=self._headers(call))
            except httpx.TransportError as error:
                delay = self.retry.delay(attempt, None) if (call.idempotent or _not_sent(error)) else None
                if delay is None:
                    raise _unreachable(call, error) from error
            else:
                delay = None
                if response.status_code in RETRIED_STATUSES:
                    delay = self.retry.delay(attempt, response.headers.get("Retry-After"))
                if delay is None:
                    return _result(call, response)
            self._sleep(delay)
            attempt += 1


class AsyncWorkerClient(_Base):
    """The Worker's API, for asyncio. Use it as an async context manager, or await `aclose()`."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        fallback: AsyncFallback | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(base_url, token, retry or RetryPolicy(), headers or {})
        self.fallback = fallback
        self._sleep = sleep
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport)

    async def __aenter__(self) -> AsyncWorkerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def health(self) -> Health:
        """GET /health (no token)."""
        return await self._send(_Calls.health())

    async def tiers(self) -> dict[str, Tier]:
        """GET /tiers (scope read)."""
        return await self._answer(_Calls.tiers(), lambda f, e: f.tiers(e))

    async def subscription(self, user_id: str) -> Subscription:
        """GET /subscriptions/{userId} (scope read)."""
        return await self._answer(_Calls.subscription(user_id), lambda f, e: f.subscription(user_id, e))

    async def set_subscription(self, user_id: str, tier: str, status: SubscriptionStatus = "active") -> Subscription:
        """PUT /subscriptions/{userId} (scope write)."""
        call = _Calls.set_subscription(user_id, tier, status)
        return await self._answer(call, lambda f, e: f.set_subscription(user_id, tier, status, e))

    async def entitlements(self, user_id: str) -> Entitlements:
        """GET /entitlements/{userId} (scope read)."""
        return await self._answer(_Calls.entitlements(user_id), lambda f, e: f.entitlements(user_id, e))

    async def record_usage(self, user_id: str) -> Usage:
        """POST /usage/{userId} (scope usage)."""
        return await self._answer(_Calls.record_usage(user_id), lambda f, e: f.record_usage(user_id, e))

    async def _answer(self, call: _Call[T], fallback: Callable[[AsyncFallback, WorkerUnavailable], Awaitable[T]]) -> T:
        try:
            return await self._send(call)
        except WorkerUnavailable as error:
            if self.fallback is None:
                raise
            return await fallback(self.fallback, error)

    async def _send(self, call: _Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = await self._http.request(call.method, call.path, json=call.body, headers=self._headers(call))
            except httpx.TransportError as error:
                delay = self.retry.delay(attempt, None) if (call.idempotent or _not_sent(error)) else None
                if delay is None:
                    raise _unreachable(call, error) from error
            else:
                delay = None
                if response.status_code in RETRIED_STATUSES:
                    delay = self.retry.delay(attempt, response.headers.get("Retry-After"))
                if delay is None:
                    return _result(call, response)
            await self._sleep(delay)
            attempt += 1
