"""The guruai-cache Worker's Python client: `WorkerClient` (sync) and `AsyncWorkerClient` (anyio:
asyncio or trio).

One method per route of worker/openapi.yaml, typed results (models, each with its `meta`: request
id, cache state, rate-limit figures), one exception per error code (errors), timeouts and an
overall deadline, bounded retries honouring Retry-After (retries), a `logging` logger named
`guruai_cache_client` (logs), and a `Fallback` for when the Worker cannot answer.
`python -m guruai_cache_client new-token` makes a client's token.
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
    UnexpectedRedirect,
    UnknownTier,
    WorkerError,
    WorkerTimeout,
    WorkerUnavailable,
    WorkerUnreachable,
)
from guruai_cache_client.models import (
    CacheState,
    Entitlements,
    Health,
    RateLimit,
    ResponseMeta,
    Subscription,
    SubscriptionStatus,
    Tier,
    Tiers,
    Usage,
)
from guruai_cache_client.tokens import new_token, token_sha256
from guruai_cache_client.urls import InsecureURL, MissingURL
from guruai_cache_client.version import __version__

__all__ = [
    "ERRORS_BY_CODE",
    "AsyncFallback",
    "AsyncWorkerClient",
    "BodyTooLarge",
    "BurstLimited",
    "CacheState",
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
    "MissingURL",
    "NoActiveSubscription",
    "NotFound",
    "RateLimit",
    "RateLimited",
    "ResponseMeta",
    "RetryPolicy",
    "ServiceUnavailable",
    "Subscription",
    "SubscriptionNotFound",
    "SubscriptionStatus",
    "Tier",
    "TierConfigInvalid",
    "TierConfigMissing",
    "Tiers",
    "Unauthorized",
    "UnexpectedRedirect",
    "UnknownTier",
    "Usage",
    "WorkerClient",
    "WorkerError",
    "WorkerTimeout",
    "WorkerUnavailable",
    "WorkerUnreachable",
    "__version__",
    "new_token",
    "token_sha256",
]
