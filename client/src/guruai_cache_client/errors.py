"""One exception class per error code of worker/openapi.yaml (`ErrorCode`), in three families.

- `WorkerUnavailable`: the Worker could not give an answer: it was unreachable (`WorkerUnreachable`)
  or answered 5xx. Retried where safe, then handed to the caller's fallback, if any.
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


class InternalError(WorkerUnavailable):
    code = "internal_error"


class ServiceUnavailable(WorkerUnavailable):
    """503: nothing was written or counted, so a retry is safe (the client retries, bounded)."""

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


class SubscriptionNotFound(WorkerError):
    code = "subscription_not_found"


class NoActiveSubscription(WorkerError):
    code = "no_active_subscription"


ERRORS_BY_CODE: dict[str, type[WorkerError]] = {
    cls.code: cls
    for cls in (
        Unauthorized, InsufficientScope, NotFound, MethodNotAllowed, InvalidUserId, InvalidJson, InvalidBody,
        BodyTooLarge, UnknownTier, SubscriptionNotFound, NoActiveSubscription, DailyLimitExceeded, BurstLimited,
        ClientRateLimited, ClientsUnset, ClientsInvalid, TierConfigMissing, TierConfigInvalid, DatabaseUnavailable, InternalError,
    )
}  # fmt: skip


def error_for(status: int, body: Any, request_id: str | None, retry_after: float | None = None) -> WorkerError:
    """The exception for an error answer: by its code, else by its status."""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    cls = ERRORS_BY_CODE.get(code) if isinstance(code, str) else None
    if cls is None:
        cls = ServiceUnavailable if status == 503 else WorkerUnavailable if status >= 500 else WorkerError
    text = f"{status} {code or 'error'}: {message or 'no message'}"
    found = cls(text, status=status, request_id=request_id, body=body)
    if isinstance(found, RateLimited):
        found.retry_after = retry_after
    return found
