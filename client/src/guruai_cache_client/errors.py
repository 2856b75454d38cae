"""One exception class per error code of worker/openapi.yaml (`ErrorCode`), in three families.

- `WorkerUnavailable`: the Worker could not give an answer: it was unreachable (`WorkerUnreachable`;
  `WorkerTimeout` when the request was sent and the outcome is unknown) or answered 5xx or 408.
  Retried where safe, then handed to the caller's fallback, if any.
- `RateLimited`: 429, `DailyLimitExceeded`, `BurstLimited` or `ClientRateLimited`.
- everything else: the Worker answered, and the answer is final (auth, validation, not found).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar


class WorkerError(Exception):
    """An answer other than success. `code` is the Worker's error code; `request_id` finds its log line."""

    code: ClassVar[str] = "unknown_error"

    def __init__(
        self, message: str, *, status: int | None = None, request_id: str | None = None, body: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        # The request id finds the Worker's log line; an unreachable Worker gave none to name.
        return f"{self.message} (request {self.request_id})" if self.request_id else self.message


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
        return self.body.get("limit") if isinstance(self.body, dict) else None

    @property
    def resets_at(self) -> datetime | None:
        text = self.body.get("resetsAt") if isinstance(self.body, dict) else None
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


class Unauthorized(WorkerError):
    code = "unauthorized"


class InsufficientScope(WorkerError):
    """The client's token lacks the scope the route needs (`required_scope`)."""

    code = "insufficient_scope"

    @property
    def required_scope(self) -> str | None:
        return self.body.get("requiredScope") if isinstance(self.body, dict) else None


class NotFound(WorkerError):
    code = "not_found"


class MethodNotAllowed(WorkerError):
    code = "method_not_allowed"


class InvalidUserId(WorkerError):
    code = "invalid_user_id"


class InvalidJson(WorkerError):
    code = "invalid_json"


class InvalidBody(WorkerError):
    code = "invalid_body"


class BodyTooLarge(WorkerError):
    code = "body_too_large"


class UnknownTier(WorkerError):
    code = "unknown_tier"


class NoActiveSubscription(NotFound):
    """404: the user has no subscription, or an inactive one (`past_due`, `canceled`): the answer of
    `subscription`, `entitlements` and `record_usage` alike."""

    code = "no_active_subscription"


# Deprecated: the name of NoActiveSubscription before API v1 (the Worker's `subscription_not_found`).
SubscriptionNotFound = NoActiveSubscription


class PreconditionFailed(WorkerError):
    """412: `set_subscription`'s `if_match` (or `create_only`) did not hold; nothing was written.
    `etag` is the current subscription's (None when there is none): read, decide, retry with it."""

    code = "precondition_failed"
    etag: str | None = None


class InvalidIdempotencyKey(WorkerError):
    """400: the `idempotency_key` given to `record_usage` is not 1 to 255 printable ASCII characters."""

    code = "invalid_idempotency_key"


class IdempotencyKeyReused(WorkerError):
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
        # the status decides the family. 408: the request was not processed in time.
        cls = (
            ServiceUnavailable
            if status == 503
            else WorkerUnavailable
            if status >= 500 or status == 408
            else WorkerError
        )
    text = f"{status} {code or 'error'}: {message or 'no message'}"
    found = cls(text, status=status, request_id=request_id, body=body)
    if isinstance(found, RateLimited):
        found.retry_after = retry_after
    return found
