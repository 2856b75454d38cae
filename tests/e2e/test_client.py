"""The Python client against the real Worker on workerd: every route, sync and async, the errors
by code, retries on a real 503, the fallback when the Worker is unreachable, and the docs' smoke test
and example, run as the docs give them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

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
from infra.tools import wrangler_dev

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


SMOKE_TEST = ROOT / "client" / "examples" / "smoke_test.py"
# As in a shell where the README's `source .venv/bin/activate` ran: the virtualenv's python first.
ACTIVATED = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def smoke_test(*args: str, **options) -> subprocess.Popen:
    """The smoke test run as the docs give it: the file itself, executable, its shebang's python."""
    return subprocess.Popen([str(SMOKE_TEST), *args], env=ACTIVATED, stdout=subprocess.PIPE, text=True, **options)


def test_the_docs_smoke_test_passes_against_the_local_worker(worker):
    process = smoke_test("--url", worker.url, "--local-tokens", str(worker.project.tokens_file))
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    assert output.count("ok  ") == 4 and "usage counted" in output


def test_the_smoke_test_defaults_to_the_local_worker():
    process = smoke_test("--help")
    assert f"http://{wrangler_dev.DEFAULT_IP}:{wrangler_dev.DEFAULT_PORT}" in process.communicate(timeout=30)[0]


def test_the_smoke_test_refuses_plain_http_to_a_deployed_worker_in_one_line():
    url = "http://guruai-worker-dev.acme.workers.dev"
    process = smoke_test("--url", url, "--local-tokens", "unused.json", stderr=subprocess.PIPE)
    _, errors = process.communicate(timeout=30)
    assert process.returncode == 2 and "Traceback" not in errors
    assert "use 'https://guruai-worker-dev.acme.workers.dev'" in errors


class LateWorker:
    """The Worker appearing on `port` only now: each connection there is relayed to `target`."""

    def __init__(self, port: int, target: int) -> None:
        self.server = socket.create_server(("127.0.0.1", port))
        self.target = target
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._relay, args=(source, sink), daemon=True).start()

    @staticmethod
    def _relay(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.server.close()


def test_the_smoke_test_waits_for_a_worker_still_starting(worker):
    port = free_port()
    process = smoke_test("--url", f"http://127.0.0.1:{port}", "--local-tokens", str(worker.project.tokens_file))
    late = None
    try:
        assert "waiting for the Worker" in process.stdout.readline()  # nothing answers yet: it waits
        late = LateWorker(port, int(worker.url.rsplit(":", 1)[1]))
        output, _ = process.communicate(timeout=120)
    finally:
        process.kill()
        if late is not None:
            late.close()
    assert process.returncode == 0, output
    assert output.count("ok  ") == 4


def test_the_smoke_test_says_when_the_worker_never_answers():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    output, _ = smoke_test("--url", url, "--local-tokens", "unused.json", "--wait", "1").communicate(timeout=60)
    assert f"FAIL the Worker at {url} did not answer /health within 1 s" in output
    assert "Connection refused" in output and "(request None)" not in output


def test_the_docs_client_example_runs_against_the_local_worker(worker):
    """docs/client.md's first example, as given, against the local Worker (its URL and tokens)."""
    page = (ROOT / "docs" / "client.md").read_text()
    example = page.split("```python\n", 1)[1].split("```", 1)[0].replace("http://127.0.0.1:8787", worker.url)
    result = subprocess.run(
        [sys.executable, "-c", example], cwd=worker.project.directory, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr  # each call with a token of its scope


def test_the_client_readme_quick_start_runs_against_the_local_worker(worker):
    """client/README.md's quick start, as given, against the local Worker (its URL and tokens)."""
    page = (ROOT / "client" / "README.md").read_text()
    example = page.split("```python\n", 1)[1].split("```", 1)[0].replace("http://127.0.0.1:8787", worker.url)
    result = subprocess.run(
        [sys.executable, "-c", example], cwd=worker.project.directory, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("left today; ai-answers: True\n")  # user-pro, seeded by the local stack


def test_the_async_client_runs_under_trio_against_the_worker(worker, user_id):
    import trio

    async def scenario():
        async with AsyncWorkerClient(worker.url, worker.token) as c:
            await c.set_subscription(user_id, "pro")
            return await c.entitlements(user_id), await c.record_usage(user_id)

    entitled, used = trio.run(scenario)
    assert entitled.effective_tier == "pro" and used.used == 1


def test_results_carry_the_workers_request_id_cache_state_and_figures(worker, user_id):
    with client(worker) as c:
        c.set_subscription(user_id, "pro")
        first, second = c.subscription(user_id), c.subscription(user_id)
        used = c.record_usage(user_id)
        tiers = c.tiers()
    assert first.meta.cache == "MISS" and second.meta.cache == "HIT"  # read from D1, then from KV
    assert first.meta.request_id and first.meta.request_id != second.meta.request_id
    assert used.rate_limit.limit == used.limit and used.rate_limit.remaining == used.remaining
    assert used.rate_limit.resets_at.timestamp() == int(used.resets_at.timestamp())
    assert tiers.meta.max_age == worker.settings.tiers_max_age


# --- the released client 0.2.0 against the v1 Worker ----------------------------------------------

RELEASED_CLIENT = "ef7bb7c"  # main when client 0.2.0 was released (API 2.0.0)
RELEASED_CALLS = """
import sys
import guruai_cache_client as g
from guruai_cache_client import *
assert g.__file__.startswith(sys.argv[1]), g.__file__  # the released source, not this tree's
url, token, read_token, user, small, limit = sys.argv[2:8]
with WorkerClient(url, token) as c:
    assert c.health().status == "ok"
    assert small in c.tiers()
    assert c.set_subscription(user, "pro").tier == "pro"
    assert c.subscription(user).tier == "pro" and c.entitlements(user).effective_tier == "pro"
    assert c.record_usage(user).used == 1
    for call, error in ((lambda: c.subscription(user + "-none"), SubscriptionNotFound),
                        (lambda: c.entitlements(user + "-none"), SubscriptionNotFound),
                        (lambda: c.record_usage(user + "-none"), NoActiveSubscription),
                        (lambda: c.set_subscription(user, "gold"), UnknownTier)):
        try:
            call()
            raise SystemExit(f"no {error.__name__}")
        except error:
            pass
    c.set_subscription(user, small)
    for _ in range(int(limit) - 1):  # one use counted above
        c.record_usage(user)
    try:
        c.record_usage(user)
        raise SystemExit("no DailyLimitExceeded")
    except DailyLimitExceeded as limited:
        assert limited.limit == int(limit) and limited.resets_at is not None, limited.body
with WorkerClient(url, read_token) as c:
    try:
        c.set_subscription(user, "pro")
        raise SystemExit("no InsufficientScope")
    except InsufficientScope as refused:
        assert refused.required_scope == "write", refused.body
with WorkerClient(url, "not-a-token") as c:
    try:
        c.tiers()
        raise SystemExit("no Unauthorized")
    except Unauthorized:
        pass
print("ok")
"""


def test_the_released_client_0_2_0_still_works_against_the_v1_worker(worker, user_id, tmp_path):
    """Until the unprefixed paths' sunset, an app on client 0.2.0 keeps working: every call, and
    the errors it reads (codes, required_scope and the daily figures at 2.0.0's top level)."""
    archive = subprocess.run(
        ["git", "archive", RELEASED_CLIENT, "client/src/guruai_cache_client"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp_path)], input=archive, check=True)
    source = tmp_path / "client" / "src"
    assert (
        "0.2.0"
        in subprocess.run(
            ["git", "show", f"{RELEASED_CLIENT}:client/pyproject.toml"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    arguments = [str(source), worker.url, worker.token, worker.local_tokens["read"], user_id, SMALL_TIER["name"]]
    result = subprocess.run(
        [sys.executable, "-c", RELEASED_CALLS, *arguments, str(SMALL_TIER["dailyRequestLimit"])],
        env={**os.environ, "PYTHONPATH": str(source)}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
