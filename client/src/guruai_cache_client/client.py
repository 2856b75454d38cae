"""WorkerClient and AsyncWorkerClient: one method per route of worker/openapi.yaml.

Both share the same calls (`_Call`: method, path, body, how to read the answer), the same
retry decisions (retries.py) and the same options; only the sending differs. The shape follows
openai-python's `SyncAPIClient`/`AsyncAPIClient` (`with_options`, `http_client`, environment
defaults, a User-Agent naming the version) and stripe-python's `HTTPClient` (bounded retries,
logged). `POST /usage` carries an `Idempotency-Key`, one per call and the same on each of its
retries, so it is retried like the reads: the Worker counts a key once and replays its answer.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

import anyio
import httpx

from guruai_cache_client.errors import (
    InvalidUserId,
    PreconditionFailed,
    UnexpectedRedirect,
    WorkerError,
    WorkerTimeout,
    WorkerUnavailable,
    WorkerUnreachable,
    code_of,
    error_for,
)
from guruai_cache_client.logs import log
from guruai_cache_client.models import (
    Entitlements,
    Health,
    MalformedResponse,
    ResponseMeta,
    Subscription,
    SubscriptionStatus,
    Tier,
    Tiers,
    Usage,
    tiers_from_json,
)
from guruai_cache_client.retries import (
    RATE_LIMITED,
    RetryPolicy,
    answer_is_retried,
    never_sent,
    retry_after_seconds,
)
from guruai_cache_client.urls import MissingURL, api_root, checked_base_url
from guruai_cache_client.version import USER_AGENT

__all__ = ["DEFAULT_TIMEOUT", "AsyncFallback", "AsyncWorkerClient", "Fallback", "RetryPolicy", "WorkerClient"]

T = TypeVar("T")
USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # worker/openapi.yaml's UserId
DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
URL_VARIABLE = "GURUAI_CACHE_URL"
TOKEN_VARIABLE = "GURUAI_CACHE_TOKEN"


class _NotGiven:
    """An option left as it is (None is a value: no deadline)."""


NOT_GIVEN = _NotGiven()


@dataclass(frozen=True)
class _Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any, ResponseMeta], T]
    body: Any = None
    idempotent: bool = True  # safe to send again whatever became of the first attempt
    public: bool = False  # no token
    idempotency_key: str | None = None  # sent on every attempt: the Worker counts the call once
    conditions: tuple[tuple[str, str], ...] = ()  # If-Match / If-None-Match headers
    not_modified: Callable[[ResponseMeta], T] | None = None  # the answer to a 304 (the copy revalidated)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


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
    def tiers(kept: Tiers | None = None) -> _Call[dict[str, Tier]]:
        """With the tiers kept past their max-age: revalidated by their ETag (a 304 keeps them)."""
        if kept is None or kept.meta is None or kept.meta.etag is None:
            return _Call("GET", "/tiers", tiers_from_json)
        conditions = (("If-None-Match", kept.meta.etag),)
        return _Call("GET", "/tiers", tiers_from_json, conditions=conditions, not_modified=kept.revalidated)

    @staticmethod
    def subscription(user_id: str) -> _Call[Subscription]:
        return _Call("GET", _user_path("subscriptions", user_id), Subscription.from_json)

    @staticmethod
    def set_subscription(
        user_id: str, tier: str, status: SubscriptionStatus, if_match: str | None, create_only: bool
    ) -> _Call[Subscription]:
        body = {"tier": tier, "status": status}
        conditions: tuple[tuple[str, str], ...] = (("If-Match", if_match),) if if_match is not None else ()
        conditions += (("If-None-Match", "*"),) if create_only else ()
        path = _user_path("subscriptions", user_id)
        return _Call("PUT", path, Subscription.from_json, body=body, conditions=conditions)

    @staticmethod
    def entitlements(user_id: str) -> _Call[Entitlements]:
        return _Call("GET", _user_path("entitlements", user_id), Entitlements.from_json)

    @staticmethod
    def record_usage(user_id: str, idempotency_key: str | None) -> _Call[Usage]:
        # One key per logical use, the same on every retry (as stripe-python and openai-python do):
        # the Worker replays the first answer to it and counts nothing, so every retry is safe.
        key = str(uuid.uuid4()) if idempotency_key is None else idempotency_key
        return _Call("POST", _user_path("usage", user_id), Usage.from_json, idempotency_key=key)


def _result(call: _Call[T], response: httpx.Response, base_url: str) -> T:
    meta = ResponseMeta.from_headers(response.status_code, response.headers)
    if response.status_code == 304 and call.not_modified is not None:
        return call.not_modified(meta)
    if 300 <= response.status_code < 400:
        location = response.headers.get("Location")
        raise UnexpectedRedirect(
            f"{response.status_code} redirect to {location!r}: the Worker never redirects and the client follows "
            f"no redirect (the token goes only to {base_url}); check the base URL",
            status=response.status_code,
            request_id=meta.request_id,
            body={"location": location},
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        retry_after = response.headers.get("Retry-After")
        wait = retry_after_seconds(retry_after) if retry_after else None
        error = error_for(response.status_code, body, meta.request_id, wait)
        if isinstance(error, PreconditionFailed):
            error.etag = meta.etag
        raise error
    try:
        return call.parse(body, meta)
    except MalformedResponse as error:
        raise WorkerError(
            f"{response.status_code}: {error}", status=response.status_code, request_id=meta.request_id
        ) from None


def _transport_failure(call: _Call[Any], error: httpx.TransportError) -> WorkerUnreachable:
    cls = WorkerTimeout if isinstance(error, httpx.TimeoutException) and not never_sent(error) else WorkerUnreachable
    what = "no answer in time: the outcome is unknown" if cls is WorkerTimeout else "the Worker did not answer"
    return cls(f"{call}: {what} ({type(error).__name__}: {error})")


def _clipped(timeout: httpx.Timeout, remaining: float | None) -> httpx.Timeout:
    """Each of the attempt's timeouts cut to what is left of the call's deadline."""
    if remaining is None:
        return timeout

    def cut(value: float | None) -> float:
        return remaining if value is None else min(value, remaining)

    return httpx.Timeout(
        connect=cut(timeout.connect), read=cut(timeout.read), write=cut(timeout.write), pool=cut(timeout.pool)
    )


@dataclass
class _Shared:
    """What a client and its `with_options` copies share: the connections and the tiers' cache."""

    http: Any
    owns_http: bool
    tiers: tuple[float, Tiers] | None = None  # (expires at, by the client's clock; the tiers)


class _Base:
    _shared: _Shared  # set by each client: its own httpx client type

    def __init__(
        self,
        base_url: str | None,
        token: str | None,
        *,
        timeout: httpx.Timeout | float | None,
        retry: RetryPolicy | None,
        headers: Mapping[str, str] | None,
        deadline: float | None,
        clock: Callable[[], float],
    ) -> None:
        url = base_url or os.environ.get(URL_VARIABLE)
        if not url:
            raise MissingURL(
                f"no Worker URL: pass base_url, or set {URL_VARIABLE} (e.g. "
                "https://guruai-worker-prod.<subdomain>.workers.dev; the local Worker: http://127.0.0.1:8787)"
            )
        self.base_url = checked_base_url(url)  # before any token is sent
        self.api_url = api_root(self.base_url)  # the calls' root: the Worker's URL under /v1
        self.token = token if token is not None else os.environ.get(TOKEN_VARIABLE)
        self.timeout = httpx.Timeout(timeout)  # None: no timeouts (httpx's meaning)
        self.retry = retry or RetryPolicy()
        self.headers = dict(headers or {})
        self.deadline = deadline
        self._clock = clock

    def __repr__(self) -> str:  # never the token
        return f"{type(self).__name__}({self.base_url!r})"

    def _headers(self, call: _Call[Any]) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **self.headers}
        if not call.public and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if call.idempotency_key is not None:
            headers["Idempotency-Key"] = call.idempotency_key
        headers.update(call.conditions)
        return headers

    def with_options(
        self,
        *,
        timeout: httpx.Timeout | float | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        deadline: float | _NotGiven | None = NOT_GIVEN,
    ) -> Self:
        """A copy for some calls, with other options; it shares this client's connections.

        >>> worker.with_options(timeout=1, max_retries=0).entitlements("user-pro")  # doctest: +SKIP
        """
        options = copy.copy(self)  # shares _shared: the connections and the tiers' cache
        if timeout is not None:
            options.timeout = httpx.Timeout(timeout)
        if retry is not None:
            options.retry = retry
        if max_retries is not None:
            options.retry = dataclasses.replace(options.retry, retries=max_retries)
        if not isinstance(deadline, _NotGiven):
            options.deadline = deadline
        return options

    def _remaining(self, started: float) -> float | None:
        return None if self.deadline is None else self.deadline - (self._clock() - started)

    def _next_delay(
        self, call: _Call[Any], attempt: int, started: float, outcome: httpx.TransportError | httpx.Response
    ) -> float | None:
        """How long to wait before sending `call` again, or None: raise now."""
        if isinstance(outcome, httpx.Response):
            status = outcome.status_code
            if not answer_is_retried(status, _code(outcome) if status == RATE_LIMITED else None, call.idempotent):
                return None
            delay = self.retry.delay(attempt, outcome.headers.get("Retry-After"))
        else:
            delay = self.retry.delay(attempt, None) if (call.idempotent or never_sent(outcome)) else None
        remaining = self._remaining(started)
        if delay is not None and remaining is not None and delay >= remaining:
            return None  # the wait alone would pass the deadline
        return delay

    def _deadline_passed(self, call: _Call[Any]) -> WorkerTimeout:
        return WorkerTimeout(f"{call}: the call's deadline of {self.deadline:g} s passed")

    def _cached_tiers(self) -> Tiers | None:
        kept = self._shared.tiers
        return kept[1] if kept is not None and self._clock() < kept[0] else None

    def _tiers_call(self) -> _Call[dict[str, Tier]]:
        """GET /tiers, revalidating the tiers kept past their max-age (If-None-Match: their ETag)."""
        return _Calls.tiers(self._shared.tiers[1] if self._shared.tiers is not None else None)

    def _keep_tiers(self, tiers: dict[str, Tier]) -> Tiers:
        """The tiers answered, kept for their max-age; a fallback's plain dict has no meta: not kept."""
        if not isinstance(tiers, Tiers):
            return Tiers(tiers)
        max_age = tiers.meta.max_age if tiers.meta else None
        if max_age:  # the Worker's `private, max-age=<tiersMaxAge>`: the tiers change only with a deploy
            self._shared.tiers = (self._clock() + max_age, tiers)
        return tiers


def _code(response: httpx.Response) -> str | None:
    try:
        return code_of(response.json())
    except ValueError:
        return None


def _log_retry(call: _Call[Any], attempt: int, retries: int, delay: float, reason: object) -> None:
    log.info("retrying %s in %.2f s (attempt %d of %d): %s", call, delay, attempt + 2, retries + 1, reason)


def _describe(outcome: httpx.TransportError | httpx.Response) -> str:
    if isinstance(outcome, httpx.Response):
        request_id = outcome.headers.get("X-Request-Id")
        return f"{outcome.status_code} {_code(outcome) or 'error'}" + (f" (request {request_id})" if request_id else "")
    return f"{type(outcome).__name__}: {outcome}"


def _log_fallback(call: _Call[Any], fallback: object, error: WorkerUnavailable) -> None:
    text = str(error)  # a transport failure names the call already; an answer does not
    what = text if text.startswith(f"{call}:") else f"{call}: {text}"
    log.warning("%s; answered by the fallback %s", what, type(fallback).__name__)


class Fallback:
    """What the app answers itself when the Worker cannot (`WorkerUnavailable`): the guide's
    "graceful degradation" on the app's side. Override the methods your app can answer, e.g.
    `entitlements` from its own database; the others re-raise the Worker's error.
    `record_usage` gets a `WorkerTimeout` when the use may have been counted by the Worker (its
    retries, with the same Idempotency-Key, got no answer either)."""

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

    `base_url` and `token` default to GURUAI_CACHE_URL and GURUAI_CACHE_TOKEN.

    >>> with WorkerClient("http://127.0.0.1:8787", token) as worker:  # doctest: +SKIP
    ...     worker.entitlements("user-pro").has("ai-answers")
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        fallback: Fallback | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_retries is not None:
            retry = dataclasses.replace(retry or RetryPolicy(), retries=max_retries)
        super().__init__(base_url, token, timeout=timeout, retry=retry, headers=headers, deadline=deadline, clock=clock)
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise TypeError(f"http_client: expected an httpx.Client, got {type(http_client).__name__}")
        if http_client is not None and transport is not None:
            raise TypeError("pass http_client or transport, not both (give the transport to your httpx.Client)")
        self.fallback = fallback
        self._sleep = sleep
        self._shared = _Shared(http_client or httpx.Client(transport=transport), owns_http=http_client is None)

    def __enter__(self) -> WorkerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections, unless they are those of an `http_client` you passed (yours to close)."""
        if self._shared.owns_http:
            self._shared.http.close()

    def health(self) -> Health:
        """GET /health (no token)."""
        return self._send(_Calls.health())

    def tiers(self) -> Tiers:
        """GET /tiers (scope read); kept for the answer's max-age (the Worker's `tiersMaxAge`), then
        revalidated with its ETag (a 304 keeps them for another max-age, without the body)."""
        cached = self._cached_tiers()
        if cached is not None:
            return cached
        return self._keep_tiers(self._answer(self._tiers_call(), lambda f, e: f.tiers(e)))

    def subscription(self, user_id: str) -> Subscription:
        """GET /subscriptions/{userId} (scope read); `meta.etag` is its version. Raises NoActiveSubscription."""
        return self._answer(_Calls.subscription(user_id), lambda f, e: f.subscription(user_id, e))

    def set_subscription(
        self,
        user_id: str,
        tier: str,
        status: SubscriptionStatus = "active",
        *,
        if_match: str | None = None,
        create_only: bool = False,
    ) -> Subscription:
        """PUT /subscriptions/{userId} (scope write): the record as written (`meta.status` 201 when
        created, 200 when changed; `meta.etag` its version). With `if_match` (a `meta.etag` you read,
        or "*"), only over that version; with `create_only`, only if the user has none. Raises
        UnknownTier, PreconditionFailed (nothing written; its `etag` is the current version)."""
        call = _Calls.set_subscription(user_id, tier, status, if_match, create_only)
        return self._answer(call, lambda f, e: f.set_subscription(user_id, tier, status, e))

    def entitlements(self, user_id: str) -> Entitlements:
        """GET /entitlements/{userId} (scope read): tier, limit, today's remaining usage, features."""
        return self._answer(_Calls.entitlements(user_id), lambda f, e: f.entitlements(user_id, e))

    def record_usage(self, user_id: str, *, idempotency_key: str | None = None) -> Usage:
        """POST /usage/{userId} (scope usage), counted once however often it is retried: under
        `idempotency_key` (a new UUID unless given; give your own to retry a use across calls).
        Raises DailyLimitExceeded, BurstLimited, NoActiveSubscription."""
        call = _Calls.record_usage(user_id, idempotency_key)
        return self._answer(call, lambda f, e: f.record_usage(user_id, e))

    def _answer(self, call: _Call[T], fallback: Callable[[Fallback, WorkerUnavailable], Any]) -> T:
        try:
            return self._send(call)
        except WorkerUnavailable as error:
            if self.fallback is None:
                raise
            _log_fallback(call, self.fallback, error)
            answer: T = fallback(self.fallback, error)
            return answer

    def _send(self, call: _Call[T]) -> T:
        started = self._clock()
        attempt = 0
        while True:
            remaining = self._remaining(started)
            if remaining is not None and remaining <= 0:
                raise self._deadline_passed(call)
            outcome: httpx.TransportError | httpx.Response
            try:
                outcome = self._shared.http.request(
                    call.method,
                    self.api_url + call.path,
                    json=call.body,
                    headers=self._headers(call),
                    timeout=_clipped(self.timeout, remaining),
                    follow_redirects=False,
                )
            except httpx.TransportError as error:
                outcome = error
            delay = self._next_delay(call, attempt, started, outcome)
            if delay is None:
                if isinstance(outcome, httpx.Response):
                    return _result(call, outcome, self.base_url)
                raise _transport_failure(call, outcome) from outcome
            _log_retry(call, attempt, self.retry.retries, delay, _describe(outcome))
            self._sleep(delay)
            attempt += 1


class AsyncWorkerClient(_Base):
    """The Worker's API, for async code under anyio: asyncio or trio. Use it as an async context
    manager, or await `aclose()`. The same options as `WorkerClient`."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        fallback: AsyncFallback | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,  # not asyncio.sleep: trio has its own loop
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_retries is not None:
            retry = dataclasses.replace(retry or RetryPolicy(), retries=max_retries)
        super().__init__(base_url, token, timeout=timeout, retry=retry, headers=headers, deadline=deadline, clock=clock)
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise TypeError(f"http_client: expected an httpx.AsyncClient, got {type(http_client).__name__}")
        if http_client is not None and transport is not None:
            raise TypeError("pass http_client or transport, not both (give the transport to your httpx.AsyncClient)")
        self.fallback = fallback
        self._sleep = sleep
        self._shared = _Shared(http_client or httpx.AsyncClient(transport=transport), owns_http=http_client is None)

    async def __aenter__(self) -> AsyncWorkerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections, unless they are those of an `http_client` you passed."""
        if self._shared.owns_http:
            await self._shared.http.aclose()

    async def health(self) -> Health:
        """GET /health (no token)."""
        return await self._send(_Calls.health())

    async def tiers(self) -> Tiers:
        """GET /tiers (scope read); kept for the answer's max-age, then revalidated with its ETag."""
        cached = self._cached_tiers()
        if cached is not None:
            return cached
        return self._keep_tiers(await self._answer(self._tiers_call(), lambda f, e: f.tiers(e)))

    async def subscription(self, user_id: str) -> Subscription:
        """GET /subscriptions/{userId} (scope read)."""
        return await self._answer(_Calls.subscription(user_id), lambda f, e: f.subscription(user_id, e))

    async def set_subscription(
        self,
        user_id: str,
        tier: str,
        status: SubscriptionStatus = "active",
        *,
        if_match: str | None = None,
        create_only: bool = False,
    ) -> Subscription:
        """PUT /subscriptions/{userId} (scope write); `if_match` and `create_only` as WorkerClient's."""
        call = _Calls.set_subscription(user_id, tier, status, if_match, create_only)
        return await self._answer(call, lambda f, e: f.set_subscription(user_id, tier, status, e))

    async def entitlements(self, user_id: str) -> Entitlements:
        """GET /entitlements/{userId} (scope read)."""
        return await self._answer(_Calls.entitlements(user_id), lambda f, e: f.entitlements(user_id, e))

    async def record_usage(self, user_id: str, *, idempotency_key: str | None = None) -> Usage:
        """POST /usage/{userId} (scope usage), counted once: see WorkerClient.record_usage."""
        call = _Calls.record_usage(user_id, idempotency_key)
        return await self._answer(call, lambda f, e: f.record_usage(user_id, e))

    async def _answer(
        self, call: _Call[T], fallback: Callable[[AsyncFallback, WorkerUnavailable], Awaitable[Any]]
    ) -> T:
        try:
            return await self._send(call)
        except WorkerUnavailable as error:
            if self.fallback is None:
                raise
            _log_fallback(call, self.fallback, error)
            answer: T = await fallback(self.fallback, error)
            return answer

    async def _send(self, call: _Call[T]) -> T:
        started = self._clock()
        attempt = 0
        while True:
            remaining = self._remaining(started)
            if remaining is not None and remaining <= 0:
                raise self._deadline_passed(call)
            outcome: httpx.TransportError | httpx.Response
            try:
                outcome = await self._shared.http.request(
                    call.method,
                    self.api_url + call.path,
                    json=call.body,
                    headers=self._headers(call),
                    timeout=_clipped(self.timeout, remaining),
                    follow_redirects=False,
                )
            except httpx.TransportError as error:
                outcome = error
            delay = self._next_delay(call, attempt, started, outcome)
            if delay is None:
                if isinstance(outcome, httpx.Response):
                    return _result(call, outcome, self.base_url)
                raise _transport_failure(call, outcome) from outcome
            _log_retry(call, attempt, self.retry.retries, delay, _describe(outcome))
            await self._sleep(delay)
            attempt += 1
