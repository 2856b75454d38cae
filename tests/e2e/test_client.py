"""The Python client against the real Worker on workerd: every route, sync and async, the errors
by code, retries on a real 503, the fallback when the Worker is unreachable, and the docs' smoke test."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from local_worker import ROOT, SMALL_TIER, free_port

from guruai_cache_client import (
    AsyncWorkerClient,
    DailyLimitExceeded,
    DatabaseUnavailable,
    Entitlements,
    Fallback,
    InsufficientScope,
    NoActiveSubscription,
    RetryPolicy,
    SubscriptionNotFound,
    Unauthorized,
    UnknownTier,
    WorkerClient,
    WorkerUnreachable,
)

pytestmark = pytest.mark.e2e


def run(coroutine):
    """Run a coroutine on a loop of its own. Not asyncio.run: it leaves no current event loop
    behind, and the Pulumi mocks of later tests ask for one."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def client(worker, token=None, **options) -> WorkerClient:
    return WorkerClient(worker.url, token or worker.token, **options)


def test_every_route_through_the_sync_client(worker, user_id):
    with client(worker) as c:
        assert c.health().environment == "local"
        assert {t.name for t in c.tiers().values()} == {t.name for t in worker.settings.tiers}
        written = c.set_subscription(user_id, "pro")
        assert (written.user_id, written.tier, written.status) == (user_id, "pro", "active")
        assert c.subscription(user_id) == written
        entitled = c.entitlements(user_id)
        assert entitled.effective_tier == "pro" and entitled.has("ai-answers") and entitled.used == 0
        used = c.record_usage(user_id)
        assert used.used == 1 and used.remaining == used.limit - 1
        assert c.entitlements(user_id).remaining == entitled.remaining - 1


def test_every_route_through_the_async_client(worker, user_id):
    async def scenario():
        async with AsyncWorkerClient(worker.url, worker.token) as c:
            await c.set_subscription(user_id, "premium")
            results = await asyncio.gather(c.subscription(user_id), c.entitlements(user_id), c.tiers(), c.health())
            return results, await c.record_usage(user_id)

    (subscription, entitled, tiers, health), used = run(scenario())
    assert subscription.tier == entitled.tier == "premium" and "premium" in tiers and health.status == "ok"
    assert used.used == 1


def test_the_workers_errors_arrive_as_their_classes(worker, user_id):
    with client(worker, token="not-a-client-token") as c, pytest.raises(Unauthorized):
        c.tiers()
    with client(worker, token=worker.local_tokens["read"]) as c, pytest.raises(InsufficientScope) as caught:
        c.set_subscription(user_id, "pro")
    assert caught.value.required_scope == "write" and caught.value.status == 403 and caught.value.request_id
    with client(worker) as c:
        with pytest.raises(SubscriptionNotFound):
            c.entitlements(user_id)
        with pytest.raises(NoActiveSubscription):
            c.record_usage(user_id)
        with pytest.raises(UnknownTier):
            c.set_subscription(user_id, "gold")
        c.set_subscription(user_id, SMALL_TIER["name"])
        for _ in range(SMALL_TIER["dailyRequestLimit"]):
            c.record_usage(user_id)
        with pytest.raises(DailyLimitExceeded) as limited:
            c.record_usage(user_id)
    assert limited.value.limit == SMALL_TIER["dailyRequestLimit"] and limited.value.resets_at is not None


def test_a_real_503_is_retried_then_raised(faulty_worker, user_id):
    sleeps = []
    with (
        client(faulty_worker, headers={"X-Test-Fault": "d1"}, sleep=sleeps.append) as c,
        pytest.raises(DatabaseUnavailable),
    ):
        c.subscription(user_id)
    assert len(sleeps) == RetryPolicy().retries  # the bound: retries, then the error


class Degraded(Fallback):
    """The app's own answer while the Worker is out of reach: here, the free tier's features."""

    def entitlements(self, user_id, error):
        self.error = error
        return Entitlements(user_id, "free", "free", 100, 0, 100, datetime.now(UTC), frozenset({"basic-search"}))


def test_the_fallback_answers_when_the_worker_is_unreachable():
    fallback = Degraded()
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with WorkerClient(closed, "t", fallback=fallback, timeout=2, sleep=lambda s: None) as c:
        answer = c.entitlements("user-pro")
        with pytest.raises(WorkerUnreachable):
            c.subscription("user-pro")  # the fallback does not answer this one
    assert answer.tier == "free" and isinstance(fallback.error, WorkerUnreachable)


def test_the_docs_smoke_test_passes_against_the_local_worker(worker):
    result = subprocess.run(
        [sys.executable, str(ROOT / "client" / "examples" / "smoke_test.py"), "--url", worker.url,
         "--local-tokens", str(worker.project.tokens_file)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok  ") == 4 and "usage counted" in result.stdout
