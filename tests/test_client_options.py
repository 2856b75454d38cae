"""The client's knobs (issue 17, "Knobs users of stripe-python and openai-python expect"), on
httpx's mock transport: User-Agent and version, the logger, per-call options and the deadline,
the app's own httpx client, the environment's defaults, what results say besides their body,
the tiers' cache, and the async client under trio. Against the real Worker: tests/e2e/test_client.py."""

import importlib.metadata
import logging
import tomllib

import httpx
import pytest
import trio
from test_python_client import ENTITLEMENTS, USAGE, Script, error

from guruai_cache_client import (
    AsyncWorkerClient,
    DatabaseUnavailable,
    Fallback,
    MissingURL,
    RateLimit,
    Tiers,
    WorkerClient,
    WorkerUnreachable,
    __version__,
)
from guruai_cache_client.logs import log
from infra import paths

TIERS = {"free": {"name": "free", "monthlyPrice": 0, "dailyRequestLimit": 10, "features": ["basic"]}}


class Clock:
    """Time that moves only when the client sleeps (or a test says so): no timed assertions."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_the_user_agent_names_the_installed_version():
    script = Script(httpx.Response(200, json=ENTITLEMENTS))
    script.client().entitlements("u1")
    installed = importlib.metadata.version("guruai-cache-client")
    declared = tomllib.loads((paths.ROOT / "client" / "pyproject.toml").read_text())["project"]["version"]
    assert __version__ == installed == declared  # a stale install would show here
    assert script.requests[0].headers["User-Agent"] == f"guruai-cache-client/{installed}"


def test_retries_and_fallbacks_are_logged_without_the_token(caplog):
    class Answer(Fallback):
        def subscription(self, user_id, error):
            return "from the app"

    caplog.set_level(logging.DEBUG, logger="guruai_cache_client")
    script = Script(error(503, "database_unavailable", {"X-Request-Id": "r-1"}), httpx.Response(200, json=ENTITLEMENTS))
    script.client().entitlements("u1")
    Script(*[httpx.ConnectError("refused")] * 3).client(fallback=Answer()).subscription("u1")
    retries = [r for r in caplog.records if r.levelno == logging.INFO]
    assert retries[0].getMessage().startswith("retrying GET /entitlements/u1 in ")
    assert "(attempt 2 of 3): 503 database_unavailable (request r-1)" in retries[0].getMessage()
    fallbacks = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert fallbacks == [
        "GET /subscriptions/u1: the Worker did not answer (ConnectError: refused); answered by the fallback Answer"
    ]
    Script(*[error(503, "database_unavailable", {"X-Request-Id": "r-2"})] * 3).client(fallback=Answer()).subscription(
        "u1"
    )
    assert caplog.records[-1].getMessage() == (
        "GET /subscriptions/u1: 503 database_unavailable: m (request r-2); answered by the fallback Answer"
    )
    assert all("tok" not in r.getMessage() for r in caplog.records)


def test_a_token_in_a_log_record_is_redacted(caplog):
    caplog.set_level(logging.INFO, logger="guruai_cache_client")
    log.info("sent %s", {"Authorization": "Bearer s3cr3t-token"})
    log.info("Authorization: bearer %s", "s3cr3t-token")
    log.info("header: Bearer s3cr3t-token")
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3 and not any("s3cr3t" in m for m in messages)
    assert "Bearer [redacted]" in messages[2]


def test_with_options_changes_a_copy_for_some_calls():
    script = Script(
        error(503, "database_unavailable"), error(503, "database_unavailable"), httpx.Response(200, json=ENTITLEMENTS)
    )
    worker = script.client()
    with pytest.raises(DatabaseUnavailable):
        worker.with_options(max_retries=0, timeout=1.5).entitlements("u1")
    assert len(script.requests) == 1
    assert script.requests[0].extensions["timeout"]["read"] == 1.5
    assert worker.entitlements("u1").tier == "pro"  # the original keeps its retries and timeout
    assert len(script.requests) == 3 and script.requests[1].extensions["timeout"]["read"] == 5.0


def test_the_deadline_bounds_the_whole_call_with_its_retries():
    clock = Clock()
    script = Script(*[error(503, "database_unavailable", {"Retry-After": "0.6"})] * 3)
    worker = WorkerClient(
        "https://w.test", "t", transport=httpx.MockTransport(script), sleep=clock.sleep, clock=clock, deadline=1.0
    )
    with pytest.raises(DatabaseUnavailable):
        worker.entitlements("u1")
    assert clock.now == 100.6  # one wait of 0.6 s; the second would end past the deadline
    assert len(script.requests) == 2
    assert script.requests[1].extensions["timeout"]["read"] == pytest.approx(0.4)  # what is left


def test_no_retry_starts_after_the_deadline():
    clock = Clock()
    requests = []

    def slow_then_refused(request):
        requests.append(request)
        clock.now += 3  # the attempt alone used the whole deadline
        raise httpx.ConnectError("refused")

    worker = WorkerClient(
        "https://w.test", "t", transport=httpx.MockTransport(slow_then_refused), sleep=clock.sleep, clock=clock
    )
    with pytest.raises(WorkerUnreachable, match="refused"):  # the last attempt's own failure
        worker.with_options(deadline=2.0).entitlements("u1")
    assert len(requests) == 1
    with pytest.raises(WorkerUnreachable):
        worker.entitlements("u1")  # no deadline: the retries
    assert len(requests) == 4


def test_the_apps_own_http_client_is_used_and_left_open():
    script = Script(httpx.Response(200, json=ENTITLEMENTS))
    own = httpx.Client(transport=httpx.MockTransport(script), headers={"X-App": "billing"})
    with WorkerClient("https://w.test", "t", http_client=own) as worker:
        assert worker.entitlements("u1").tier == "pro"
    assert script.requests[0].headers["X-App"] == "billing" and not own.is_closed  # the app closes its own
    with pytest.raises(TypeError, match=r"http_client: expected an httpx.Client, got AsyncClient"):
        WorkerClient("https://w.test", "t", http_client=httpx.AsyncClient())


def test_the_url_and_token_default_to_the_environment(monkeypatch):
    monkeypatch.setenv("GURUAI_CACHE_URL", "https://guruai-worker-dev.acme.workers.dev")
    monkeypatch.setenv("GURUAI_CACHE_TOKEN", "env-token")
    script = Script(httpx.Response(200, json=ENTITLEMENTS))
    WorkerClient(transport=httpx.MockTransport(script)).entitlements("u1")
    assert str(script.requests[0].url) == "https://guruai-worker-dev.acme.workers.dev/v1/entitlements/u1"
    assert script.requests[0].headers["Authorization"] == "Bearer env-token"
    assert repr(WorkerClient()) == "WorkerClient('https://guruai-worker-dev.acme.workers.dev')"  # no token
    monkeypatch.delenv("GURUAI_CACHE_URL")
    with pytest.raises(MissingURL, match="pass base_url, or set GURUAI_CACHE_URL"):
        WorkerClient()


def test_results_say_their_request_id_cache_state_and_rate_limit():
    headers = {"X-Request-Id": "r-7", "X-Cache": "HIT"}
    figures = {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "9", "X-RateLimit-Reset": "1767312000"}
    script = Script(
        httpx.Response(200, json=ENTITLEMENTS, headers=headers), httpx.Response(200, json=USAGE, headers=figures)
    )
    worker = script.client()
    entitled = worker.entitlements("u1")
    assert (entitled.meta.request_id, entitled.meta.cache, entitled.meta.rate_limit) == ("r-7", "HIT", None)
    used = worker.record_usage("u1")
    assert used.rate_limit == RateLimit(limit=10, remaining=9, resets_at=used.resets_at)
    assert used.meta.cache is None and used.meta.request_id is None
    again = Script(httpx.Response(200, json=ENTITLEMENTS, headers={"X-Request-Id": "r-8"})).client().entitlements("u1")
    assert again == entitled  # meta is not part of the value


def test_the_tiers_are_kept_for_their_max_age():
    clock = Clock()
    cached = {"Cache-Control": "private, max-age=60", "X-Request-Id": "r-1"}
    script = Script(*[httpx.Response(200, json=TIERS, headers=cached)] * 2)
    worker = WorkerClient("https://w.test", "t", transport=httpx.MockTransport(script), clock=clock)
    first = worker.tiers()
    assert isinstance(first, Tiers) and first["free"].features == ("basic",) and first.meta.max_age == 60
    clock.now += 59
    assert worker.with_options(max_retries=0).tiers() is first and len(script.requests) == 1  # copies share it
    clock.now += 1
    assert worker.tiers() == first and len(script.requests) == 2
    uncached = Script(*[httpx.Response(200, json=TIERS, headers={"Cache-Control": "no-store"})] * 2)
    other = uncached.client()
    other.tiers()
    other.tiers()
    assert len(uncached.requests) == 2


def test_the_tiers_are_revalidated_with_their_etag_after_max_age_and_a_304_keeps_them():
    clock = Clock()
    cached = {"Cache-Control": "private, max-age=60", "ETag": '"c1"'}
    script = Script(
        httpx.Response(200, json=TIERS, headers=cached),
        httpx.Response(304, headers={**cached, "Cache-Control": "private, max-age=30"}),
        httpx.Response(
            200, json={**TIERS, "pro": {**TIERS["free"], "name": "pro"}}, headers={**cached, "ETag": '"c2"'}
        ),
    )
    worker = WorkerClient("https://w.test", "t", transport=httpx.MockTransport(script), clock=clock)
    first = worker.tiers()
    clock.now += 60
    again = worker.tiers()  # past max-age: revalidated, not fetched whole
    assert again == first and again.meta.status == 304 and again.meta.max_age == 30
    assert script.requests[1].headers["If-None-Match"] == '"c1"'
    clock.now += 29
    assert worker.tiers() is again and len(script.requests) == 2  # kept for the 304's max-age
    clock.now += 1
    changed = worker.tiers()
    assert set(changed) == {"free", "pro"} and changed.meta.etag == '"c2"'
    assert script.requests[0].headers.get("If-None-Match") is None


def test_the_async_client_runs_under_trio():
    """anyio's sleep, not asyncio's: asyncio.sleep fails outside an asyncio loop."""

    async def scenario():
        script = Script(
            error(503, "database_unavailable", {"Retry-After": "0"}), httpx.Response(200, json=ENTITLEMENTS)
        )
        async with AsyncWorkerClient("https://w.test", "t", transport=httpx.MockTransport(script)) as worker:
            entitled = await worker.with_options(timeout=2).entitlements("u1")
        return entitled, len(script.requests)

    entitled, sent = trio.run(scenario)
    assert entitled.tier == "pro" and sent == 2
