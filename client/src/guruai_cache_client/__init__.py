"""The guruai-cache Worker's Python client: `WorkerClient` (sync) and `AsyncWorkerClient` (asyncio).

One method per route of worker/openapi.yaml, typed results (models), one exception per error
code (errors), timeouts, bounded retries honouring Retry-After, and a `Fallback` for when the
Worker cannot be reached. `python -m guruai_cache_client new-token` makes a client's token.
"""

from guruai_cache_client.client import AsyncFallback, AsyncWorkerClient, Fallback, RetryPolicy, WorkerClient
from guruai_cache_client.errors import (
    ERRORS_BY_CODE,
    BodyTooLarge,
    BurstLimited,
    ClientRateLimited,
    ClientsInvalid,
    ClientsUnset,
    DailyLimitExceeded,
    DatabaseUnavailable,
    InsufficientScope,
    InternalError,
    InvalidBody,
    InvalidJson,
    InvalidUserId,
    MethodNotAllowed,
    NoActiveSubscription,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    SubscriptionNotFound,
    TierConfigInvalid,
    TierConfigMissing,
    Unauthorized,
    UnknownTier,
    WorkerError,
    WorkerUnavailable,
    WorkerUnreachable,
)
from guruai_cache_client.models import Entitlements, Health, Subscription, SubscriptionStatus, Tier, Usage
from guruai_cache_client.tokens import new_token, token_sha256
from guruai_cache_client.urls import InsecureURL

__all__ = [
    "ERRORS_BY_CODE",
    "AsyncFallback",
    "AsyncWorkerClient",
    "BodyTooLarge",
    "BurstLimited",
    "ClientRateLimited",
    "ClientsInvalid",
    "ClientsUnset",
    "DailyLimitExceeded",
    "DatabaseUnavailable",
    "Entitlements",
    "Fallback",
    "Health",
    "InsecureURL",
    "InsufficientScope",
    "InternalError",
    "InvalidBody",
    "InvalidJson",
    "InvalidUserId",
    "MethodNotAllowed",
    "NoActiveSubscription",
    "NotFound",
    "RateLimited",
    "RetryPolicy",
    "ServiceUnavailable",
    "Subscription",
    "SubscriptionNotFound",
    "SubscriptionStatus",
    "Tier",
    "TierConfigInvalid",
    "TierConfigMissing",
    "Unauthorized",
    "UnknownTier",
    "Usage",
    "WorkerClient",
    "WorkerError",
    "WorkerUnavailable",
    "WorkerUnreachable",
    "new_token",
    "token_sha256",
]
