"""When a call is sent again, and after how long: pure functions of the answer (or its absence).

The shape follows openai-python's `_should_retry` / `_calculate_retry_timeout` and stripe-python's
`HTTPClient._sleep_time_seconds`: a bounded number of retries, the server's `Retry-After` when it
is short enough, else an exponential backoff with jitter.
"""

from __future__ import annotations

import email.utils
import math
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

# Answers that say "not processed, try again": request timeout, the 5xx a Worker or its proxy
# gives for a passing fault, and Cloudflare's own 52x (520-527, 530: https://developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-5xx-errors/).
TRANSIENT_STATUSES = frozenset({408, 500, 502, 503, 504, *range(520, 528), 530})
RATE_LIMITED = 429
# A 429 that a short wait cannot cure: the daily window resets in hours.
NEVER_RETRIED_CODES = frozenset({"daily_limit_exceeded"})
_DELAY_SECONDS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$")


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
            wait = retry_after_seconds(retry_after)
            return wait if wait is not None and wait <= self.max_delay else None
        jittered: float = self.backoff * 2**attempt * (0.5 + random.random())  # jitter: clients do not retry in step
        return min(self.max_delay, jittered)


def retry_after_seconds(retry_after: str) -> float | None:
    """Retry-After as seconds: delta-seconds, decimal ones too (`1.5`: RFC 9110 10.2.3 has only
    digits, but proxies and test servers send them), or an HTTP date. None: unreadable."""
    found = _DELAY_SECONDS.match(retry_after)
    if found:
        seconds = float(found.group(1))
        return seconds if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(retry_after)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": RFC 5322's "no zone information", taken as UTC
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def answer_is_retried(status: int, code: str | None, idempotent: bool) -> bool:
    """Whether this answer is worth another attempt (the policy then says when, if at all).

    A 429 counted nothing, so any call may be sent again, except past a daily limit. A transient
    5xx may come after a `POST /usage` was counted (the Worker answers 503 on any D1 error), so
    only idempotent calls are sent again: `POST /usage` is one, with its Idempotency-Key.
    """
    if status == RATE_LIMITED:
        return code not in NEVER_RETRIED_CODES
    return idempotent and status in TRANSIENT_STATUSES


def never_sent(error: httpx.TransportError) -> bool:
    """The request never reached the Worker: re-sending it cannot count anything twice."""
    return isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
