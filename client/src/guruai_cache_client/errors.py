"""One exception class per error code of worker/openapi.yaml (`ErrorCode`), each in the family
of its status, as in stripe-python and openai-python:

- `BadRequestError` (400, 405, 413, 422 and other 4xx): the request was wrong;
- `AuthenticationError` (401), `PermissionDeniedError` (403), `NotFoundError` (404);
- `RateLimited` (429): `DailyLimitExceeded`, `BurstLimited` or `ClientRateLimited`;
- `WorkerUnavailable` (the server family): the Worker could not give an answer: it was unreachable
  (`WorkerUnreachable`; `WorkerTimeout` when the request was sent and the outcome is unknown) or
  answered 5xx or 408. Retried where safe, then handed to the caller's fallback, if any.

A code this client does not know (a newer Worker may add codes: the contract says so) raises its
status's family, with `code` the body's code, so `except NotFoundError` and `error.code` both work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class WorkerError(Exception):
    """An answer other than success. `code` is the Worker's error code (the body's, also one this
    client does not know); `request_id` finds its log line."""

    code: str = "unknown_error"  # the class's own code; an instance carries the answer's

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        body: Any = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.body = body
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        # The request id finds the Worker's log line; an unreachable Worker gave none to name.
        return f"{self.message} (request {self.request_id})" if self.request_id else self.message

    def detail(self, name: str) -> Any:
        """A field the error adds (`requiredScope`, `limit`, ...): inside the error object (API v1),
        else at the body's top level (API 2.0.0 had them there)."""
        error = _error_object(self.body)
        if name in error:
            return error[name]
        return self.body.get(name) if isinstance(self.body, dict) else None


# --- the families, by status ----------------------------------------------------------------------


class BadRequestError(WorkerError):
    """400, 405, 413, 422 (or another 4xx no other family covers): the request itself was wrong."""

    code = "bad_request"


class AuthenticationError(WorkerError):
    """401: no token, or one no client of the Worker holds."""

    code = "authentication_error"


class PermissionDeniedError(WorkerError):
    """403: the client may not do this."""

    code = "permission_denied"


class NotFoundError(WorkerError):
    """404: no such route, or no active subscription for the user."""

    code = "not_found_error"


# --- the Worker could not answer ----------------------------------------------------------------


class WorkerUnavailable(WorkerError):
    """No usable answer: unreachable, timed out, or a 5xx. The caller's fallback answers, if given."""

    code = "unavailable"


class WorkerUnreachable(WorkerUnavailable):
    """No HTTP answer at all (connection refused, DNS, timeout, reset)."""

    code = "unreachable"


class WorkerTimeout(WorkerUnreachable):
    """The request was sent, and no answer came in time (or the call's deadline passed): the
    outcome is unknown. A `POST /usage` may have been counted; a fallback that counts locally
    can tell this from a plain `WorkerUnreachable` (the request never arrived)."""

    code = "timeout"


class InternalError(WorkerUnavailable):
    code = "internal_error"


class ServiceUnavailable(WorkerUnavailable):
    """503: nothing was written, or a `POST /usage` was counted just before D1 failed: its retry
    carries the same Idempotency-Key, so the Worker counts it once (the client retries, bounded)."""

    code = "service_unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"


class TierConfigMissing(ServiceUnavailable):
    code = "tier_config_missing"


class TierConfigInvalid(ServiceUnavailable):
    code = "tier_config_invalid"


class ClientsUnset(ServiceUnavailable):
    code = "clients_unset"


class ClientsInvalid(ServiceUnavailable):
    code = "clients_invalid"


# --- rate limits ----------------------------------------------------------------------------------


class RateLimited(WorkerError):
    """A 429. `retry_after`: the seconds the Worker said to wait (its Retry-After), if it said."""

    code = "rate_limited"
    retry_after: float | None = None


class DailyLimitExceeded(RateLimited):
    """The user used the tier's daily limit; `resets_at` says when the window starts again."""

    code = "daily_limit_exceeded"

    @property
    def limit(self) -> int | None:
        limit = self.detail("limit")
        return limit if isinstance(limit, int) else None

    @property
    def resets_at(self) -> datetime | None:
        text = self.detail("resetsAt")
        return datetime.fromisoformat(text) if isinstance(text, str) else None


class BurstLimited(RateLimited):
    """Too many calls by this client for this user in a short time."""

    code = "burst_limited"


class ClientRateLimited(RateLimited):
    """Too many calls by this client, on any route (the Worker's client limit, `clientRateLimit`)."""

    code = "client_rate_limited"


# --- final answers --------------------------------------------------------------------------------


class UnexpectedRedirect(WorkerError):
    """A 3xx: the Worker never redirects, so the base URL is wrong (or something in between
    answers for it). Not followed: the bearer token must not go to another URL. `location` is
    where it pointed."""

    code = "unexpected_redirect"

    @property
    def location(self) -> str | None:
        return self.body.get("location") if isinstance(self.body, dict) else None


class Unauthorized(AuthenticationError):
    code = "unauthorized"


class InsufficientScope(PermissionDeniedError):
    """The client's token lacks the scope the route needs (`required_scope`)."""

    code = "insufficient_scope"

    @property
    def required_scope(self) -> str | None:
        scope = self.detail("requiredScope")
        return scope if isinstance(scope, str) else None


class NotFound(NotFoundError):
    code = "not_found"


class MethodNotAllowed(BadRequestError):
    code = "method_not_allowed"


class InvalidUserId(BadRequestError):
    code = "invalid_user_id"


class InvalidJson(BadRequestError):
    code = "invalid_json"


class InvalidBody(BadRequestError):
    code = "invalid_body"


class BodyTooLarge(BadRequestError):
    code = "body_too_large"


class UnknownTier(BadRequestError):
    code = "unknown_tier"


class NoActiveSubscription(NotFoundError):
    """404: the user has no subscription, or an inactive one (`past_due`, `canceled`): the answer of
    `subscription`, `entitlements` and `record_usage` alike (API 2.0.0's `POST /usage` said 403)."""

    code = "no_active_subscription"


# Deprecated: the name of NoActiveSubscription before API v1 (the Worker's `subscription_not_found`).
SubscriptionNotFound = NoActiveSubscription


class PreconditionFailed(BadRequestError):
    """412: `set_subscription`'s `if_match` (or `create_only`) did not hold; nothing was written.
    `etag` is the current subscription's (None when there is none): read, decide, retry with it."""

    code = "precondition_failed"
    etag: str | None = None


class InvalidIdempotencyKey(BadRequestError):
    """400: the `idempotency_key` given to `record_usage` is not 1 to 255 printable ASCII characters."""

    code = "invalid_idempotency_key"


class IdempotencyKeyReused(BadRequestError):
    """422: the `idempotency_key` was used for another user (or client) within the Worker's window."""

    code = "idempotency_key_reused"


ERRORS_BY_CODE: dict[str, type[WorkerError]] = {
    cls.code: cls
    for cls in (
        Unauthorized, InsufficientScope, NotFound, MethodNotAllowed, InvalidUserId, InvalidJson, InvalidBody,
        BodyTooLarge, UnknownTier, NoActiveSubscription, PreconditionFailed, DailyLimitExceeded, BurstLimited,
        ClientRateLimited, ClientsUnset, ClientsInvalid, TierConfigMissing, TierConfigInvalid, DatabaseUnavailable, InternalError,
        InvalidIdempotencyKey, IdempotencyKeyReused,
    )
}  # fmt: skip


def family_of(status: int) -> type[WorkerError]:
    """The exception family of a status. 408: the request was not processed in time."""
    by_status: dict[int, type[WorkerError]] = {
        401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError, 429: RateLimited,
        503: ServiceUnavailable, 408: WorkerUnavailable,
    }  # fmt: skip
    if status in by_status:
        return by_status[status]
    if status >= 500:
        return WorkerUnavailable
    return BadRequestError if 400 <= status < 500 else WorkerError


def _error_object(body: Any) -> dict[str, Any]:
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def code_of(body: Any) -> str | None:
    """The error code of an error body, `{"error": {"code": ...}}`, if it has one."""
    code = _error_object(body).get("code")
    return code if isinstance(code, str) else None


def error_for(status: int, body: Any, request_id: str | None, retry_after: float | None = None) -> WorkerError:
    """The exception for an error answer: by its code, else by its status."""
    code = code_of(body)
    message = _error_object(body).get("message")
    cls = ERRORS_BY_CODE.get(code) if code is not None else None
    if cls is None:
        # A code this client does not know (a newer Worker) or no JSON at all (a proxy's page):
        # the status decides the family; `code` stays the body's.
        cls = family_of(status)
    text = f"{status} {code or 'error'}: {message or 'no message'}"
    found = cls(text, status=status, request_id=request_id, body=body, code=code)
    if isinstance(found, RateLimited):
        found.retry_after = retry_after
    return found
