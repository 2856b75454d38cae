"""The Python client's own logic, on httpx's mock transport: retries and their bounds, Retry-After,
what is never re-sent, errors per code, local checks, the fallback, and the token command.
Against the real Worker: tests/e2e/test_client.py."""

import asyncio
import email.utils
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import yaml

from guruai_cache_client import (
    ERRORS_BY_CODE,
    AsyncFallback,
    AsyncWorkerClient,
    AuthenticationError,
    BadRequestError,
    BurstLimited,
    DailyLimitExceeded,
    DatabaseUnavailable,
    Entitlements,
    Fallback,
    InsecureURL,
    InvalidUserId,
    NoActiveSubscription,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailed,
    RateLimited,
    RateLimitPolicy,
    RetryPolicy,
    ServiceUnavailable,
    SubscriptionNotFound,
    UnexpectedRedirect,
    WorkerClient,
    WorkerError,
    WorkerTimeout,
    WorkerUnavailable,
    WorkerUnreachable,
)
from guruai_cache_client.__main__ import main as token_command
from guruai_cache_client.errors import error_for
from infra import paths

ENTITLEMENTS = {
    "userId": "u1", "tier": "pro", "effectiveTier": "pro", "limit": 10, "used": 1, "remaining": 9,
    "resetsAt": "2026-01-02T00:00:00.000Z", "usageAsOf": "2026-01-01T12:00:05.000Z", "features": ["a", "b"],
}  # fmt: skip
USAGE = {
    "allowed": True, "used": 1, "remaining": 9, "limit": 10, "resetsAt": "2026-01-02T00:00:00.000Z",
    "tier": "pro", "effectiveTier": "pro",
}  # fmt: skip


def run(coroutine):
    """Run a coroutine on a loop of its own. Not asyncio.run: it leaves no current event loop
    behind, and the Pulumi mocks of later tests ask for one."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def error(status, code, headers=None, **extra):
    return httpx.Response(status, json={"error": {"code": code, "message": "m"}, **extra}, headers=headers or {})


class Script:
    """A mock Worker answering with the given responses in turn, recording requests and sleeps."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request):
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def client(self, **options):
        return WorkerClient(
            "https://worker.test", "tok", transport=httpx.MockTransport(self), sleep=self.sleeps.append, **options
        )


def test_a_503_is_retried_after_its_retry_after_then_succeeds():
    script = Script(error(503, "database_unavailable", {"Retry-After": "1"}), httpx.Response(200, json=ENTITLEMENTS))
    result = script.client().entitlements("u1")
    assert isinstance(result, Entitlements) and result.has("a") and result.remaining == 9
    assert script.sleeps == [1.0] and len(script.requests) == 2
    assert script.requests[0].headers["Authorization"] == "Bearer tok"


def test_entitlements_say_how_old_their_count_is():
    answer = Script(httpx.Response(200, json=ENTITLEMENTS)).client().entitlements("u1")
    assert answer.usage_as_of == datetime(2026, 1, 1, 12, 0, 5, tzinfo=UTC)
    older_worker = {key: value for key, value in ENTITLEMENTS.items() if key != "usageAsOf"}
    assert Script(httpx.Response(200, json=older_worker)).client().entitlements("u1").usage_as_of is None
    with pytest.raises(WorkerError, match="'usageAsOf' is not an ISO 8601 time"):
        Script(httpx.Response(200, json={**ENTITLEMENTS, "usageAsOf": "yesterday"})).client().entitlements("u1")


def test_retries_are_bounded_then_the_error_is_raised():
    script = Script(*[error(503, "database_unavailable") for _ in range(3)])
    with pytest.raises(DatabaseUnavailable) as caught:
        script.client(retry=RetryPolicy(retries=2, backoff=0.1)).subscription("u1")
    assert len(script.requests) == 3 and len(script.sleeps) == 2
    assert 0.05 <= script.sleeps[0] <= 0.15 and 0.1 <= script.sleeps[1] <= 0.3  # exponential, with jitter
    assert isinstance(caught.value, WorkerUnavailable) and caught.value.status == 503


def test_a_retry_after_longer_than_the_bound_is_not_waited_for():
    """A daily limit resets in hours: the caller learns at once, with the figures."""
    script = Script(
        error(429, "daily_limit_exceeded", {"Retry-After": "3600"}, allowed=False, remaining=0, limit=10,
              resetsAt="2026-01-02T00:00:00.000Z")
    )  # fmt: skip
    with pytest.raises(DailyLimitExceeded) as caught:
        script.client().record_usage("u1")
    assert script.sleeps == [] and caught.value.limit == 10
    assert caught.value.resets_at == datetime(2026, 1, 2, tzinfo=UTC)


def test_a_burst_limit_is_retried_with_backoff_then_raised():
    script = Script(error(429, "burst_limited"), error(429, "burst_limited"))
    with pytest.raises(BurstLimited):
        script.client(retry=RetryPolicy(retries=1)).record_usage("u1")
    assert len(script.requests) == 2


def test_a_burst_limit_longer_than_the_policy_waits_is_raised_at_once_with_its_retry_after():
    script = Script(error(429, "burst_limited", headers={"Retry-After": "60"}))
    with pytest.raises(BurstLimited) as caught:
        script.client().record_usage("u1")
    assert len(script.requests) == 1 and script.sleeps == []  # no call spent inside the same window
    assert caught.value.retry_after == 60


def test_retry_after_as_an_http_date():
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    delay = RetryPolicy().delay(0, when)
    assert delay is not None and 1 <= delay <= 3


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("slow"), error(503, "database_unavailable"), httpx.Response(502), httpx.Response(520)],
)
def test_a_usage_post_whose_outcome_is_unknown_is_retried_with_the_same_key(failure):
    """A timeout or 5xx may come after the Worker counted the use: the retry carries the first
    attempt's Idempotency-Key, so the Worker replays its answer instead of counting again."""
    script = Script(failure, failure, httpx.Response(200, json=USAGE))
    assert script.client().record_usage("u1").used == 1
    keys = [r.headers.get("Idempotency-Key") for r in script.requests]
    assert len(keys) == 3 and keys[0] is not None and keys == [keys[0]] * 3


def test_each_use_has_a_key_of_its_own_and_a_caller_may_give_it():
    script = Script(*[httpx.Response(200, json=USAGE)] * 3)
    worker = script.client()
    worker.record_usage("u1")
    worker.record_usage("u1")
    worker.record_usage("u1", idempotency_key="order-42-use-1")
    first, second, given = (r.headers["Idempotency-Key"] for r in script.requests)
    assert first != second and given == "order-42-use-1"
    assert str(uuid.UUID(first, version=4)) == first


def test_the_async_client_retries_a_use_with_the_same_key():
    script = Script(httpx.ReadTimeout("slow"), httpx.Response(200, json=USAGE))

    async def use():
        async with AsyncWorkerClient("https://worker.test", "tok", transport=httpx.MockTransport(script)) as c:
            return await c.with_options(retry=RetryPolicy(backoff=0.001)).record_usage("u1")

    assert run(use()).used == 1
    sent = script.requests
    assert len(sent) == 2 and sent[0].headers["Idempotency-Key"] == sent[1].headers["Idempotency-Key"]


def test_a_request_that_never_left_is_retried_even_a_post():
    script = Script(httpx.ConnectError("refused"), httpx.Response(200, json=USAGE))
    assert script.client().record_usage("u1").used == 1
    assert len(script.requests) == 2


def test_a_read_that_timed_out_is_retried():
    script = Script(httpx.ReadTimeout("slow"), httpx.Response(200, json=ENTITLEMENTS))
    assert script.client().entitlements("u1").tier == "pro"


def test_a_bad_user_id_is_refused_without_a_request():
    script = Script()
    for user_id in ("a/b", "a%2Fb", "", "x" * 65, "é"):
        with pytest.raises(InvalidUserId):
            script.client().subscription(user_id)
    assert script.requests == []


def test_a_malformed_success_is_an_error_not_a_wrong_value():
    script = Script(httpx.Response(200, json={"userId": "u1"}))
    with pytest.raises(WorkerError, match="expected 'features'"):
        script.client().entitlements("u1")


def test_an_error_names_its_request_only_when_the_worker_gave_one():
    with pytest.raises(NoActiveSubscription) as answered:
        Script(error(404, "no_active_subscription", {"X-Request-Id": "r-42"})).client().subscription("u1")
    assert str(answered.value).endswith("(request r-42)")  # finds the Worker's log line
    with pytest.raises(WorkerUnreachable) as unreachable:
        Script(*[httpx.ConnectError("refused")] * 3).client().subscription("u1")
    assert "request" not in str(unreachable.value) and str(unreachable.value).endswith("(ConnectError: refused)")


def test_no_active_subscription_is_a_not_found_and_the_old_name_still_catches_it():
    with pytest.raises(NotFoundError):
        Script(error(404, "no_active_subscription")).client().record_usage("u1")
    assert SubscriptionNotFound is NoActiveSubscription  # deprecated alias: old `except` clauses still work


SUBSCRIPTION = {
    "userId": "u1",
    "tier": "pro",
    "status": "active",
    "createdAt": "2026-01-01T00:00:00.000Z",
    "updatedAt": "2026-01-02T00:00:00.000Z",
}


def test_set_subscription_sends_its_preconditions_and_a_412_names_the_current_etag():
    script = Script(
        httpx.Response(201, json=SUBSCRIPTION, headers={"ETag": '"v1"', "Location": "/v1/subscriptions/u1"}),
        error(412, "precondition_failed", {"ETag": '"v2"'}),
        httpx.Response(200, json=SUBSCRIPTION, headers={"ETag": '"v3"'}),
    )
    worker = script.client()
    created = worker.set_subscription("u1", "pro", create_only=True)
    assert (created.meta.status, created.meta.etag) == (201, '"v1"')
    with pytest.raises(PreconditionFailed) as refused:
        worker.set_subscription("u1", "free", if_match=created.meta.etag)
    assert refused.value.etag == '"v2"' and refused.value.status == 412
    worker.set_subscription("u1", "free", if_match=refused.value.etag)
    sent = [(r.headers.get("If-Match"), r.headers.get("If-None-Match")) for r in script.requests]
    assert sent == [(None, "*"), ('"v1"', None), ('"v2"', None)]


def test_one_exception_class_per_documented_error_code():
    spec = yaml.safe_load((paths.WORKER_DIR / "openapi.yaml").read_text())
    assert set(ERRORS_BY_CODE) == set(spec["components"]["schemas"]["ErrorCode"]["enum"])
    assert len(set(ERRORS_BY_CODE.values())) == len(ERRORS_BY_CODE)


class FromOwnDatabase(Fallback):
    def entitlements(self, user_id, error):
        return Entitlements(user_id, "free", "free", 1, 0, 1, datetime(2026, 1, 1, tzinfo=UTC), frozenset({"basic"}))


def test_the_fallback_answers_when_the_worker_cannot_and_only_then():
    unreachable = Script(*[httpx.ConnectError("refused")] * 3)
    answer = unreachable.client(fallback=FromOwnDatabase()).entitlements("u1")
    assert answer.tier == "free" and answer.has("basic")
    down = Script(*[error(503, "database_unavailable")] * 3)
    assert down.client(fallback=FromOwnDatabase()).entitlements("u1").tier == "free"
    with pytest.raises(WorkerUnreachable):  # a method the fallback does not override re-raises
        Script(*[httpx.ConnectError("refused")] * 3).client(fallback=FromOwnDatabase()).subscription("u1")
    with pytest.raises(NoActiveSubscription):  # an answer is an answer: no fallback
        Script(error(404, "no_active_subscription")).client(fallback=FromOwnDatabase()).entitlements("u1")


def test_the_async_client_retries_and_falls_back_the_same_way():
    class AsyncFromOwnDatabase(AsyncFallback):
        async def entitlements(self, user_id, error):
            return FromOwnDatabase().entitlements(user_id, error)

    async def scenario():
        script = Script(
            error(503, "database_unavailable", {"Retry-After": "0"}), httpx.Response(200, json=ENTITLEMENTS)
        )
        sleeps = []

        async def sleep(seconds):
            sleeps.append(seconds)

        async with AsyncWorkerClient("https://w.test", "t", transport=httpx.MockTransport(script), sleep=sleep) as c:
            first = await c.entitlements("u1")
        down = Script(*[httpx.ConnectError("refused")] * 3)
        async with AsyncWorkerClient(
            "https://w.test", "t", transport=httpx.MockTransport(down), sleep=sleep, fallback=AsyncFromOwnDatabase()
        ) as c:
            second = await c.entitlements("u1")
        return first, second, sleeps

    first, second, sleeps = run(scenario())
    assert first.tier == "pro" and second.tier == "free" and sleeps[0] == 0.0


LOOPBACK_URLS = ["http://127.0.0.1:8787", "http://localhost:8787/", "http://[::1]:8787", "http://127.0.0.2"]
REMOTE_HTTP_URLS = [
    "http://guruai-worker-prod.acme.workers.dev",
    "http://10.0.0.5:8787",
    "http://localhost.example.com",
]


class Recorder:
    """A transport that answers /entitlements and records what it was sent."""

    def __init__(self):
        self.requests: list[httpx.Request] = []

    def __call__(self, request):
        self.requests.append(request)
        return httpx.Response(200, json=ENTITLEMENTS)


@pytest.mark.parametrize("url", REMOTE_HTTP_URLS)
def test_plain_http_to_another_host_is_refused_before_a_token_is_sent(url):
    recorder = Recorder()
    with pytest.raises(InsecureURL) as sync_refusal:
        WorkerClient(url, "secret-token", transport=httpx.MockTransport(recorder))

    async def open_async():
        AsyncWorkerClient(url, "secret-token", transport=httpx.MockTransport(recorder))

    with pytest.raises(InsecureURL) as async_refusal:
        run(open_async())
    assert recorder.requests == []
    for refusal in (sync_refusal, async_refusal):
        message = str(refusal.value)
        assert repr(url) in message and "https://" in message and "secret-token" not in message
    assert isinstance(sync_refusal.value, ValueError)


@pytest.mark.parametrize("url", ["ftp://worker.test", "worker.test:8787", "127.0.0.1:8787"])
def test_a_url_without_http_or_https_is_refused(url):
    with pytest.raises(InsecureURL, match="https://"):
        WorkerClient(url, "t")


@pytest.mark.parametrize("url", [*LOOPBACK_URLS, "https://guruai-worker-prod.acme.workers.dev"])
def test_https_and_plain_http_to_this_machine_are_allowed(url):
    recorder = Recorder()
    with WorkerClient(url, "t", transport=httpx.MockTransport(recorder)) as worker:
        assert worker.entitlements("u1").tier == "pro"

    async def scenario():
        async with AsyncWorkerClient(url, "t", transport=httpx.MockTransport(recorder)) as worker:
            return await worker.entitlements("u1")

    assert run(scenario()).tier == "pro"
    assert [str(r.url) for r in recorder.requests] == [url.rstrip("/") + "/v1/entitlements/u1"] * 2
    assert {r.headers["Authorization"] for r in recorder.requests} == {"Bearer t"}


def test_new_token_prints_a_token_and_the_config_with_its_digest_only(capsys):
    assert token_command(["new-token", "--name", "billing", "--scope", "write"]) == 0
    out = capsys.readouterr().out
    token = out.split("it is not stored anywhere): ")[1].split()[0]
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 43
    assert f"pulumi config set --path 'clients.billing.tokenSha256' {digest}" in out
    assert "pulumi config set --path 'clients.billing.scopes[0]' write" in out
    assert out.count(token) == 1  # shown once, never in a command line
    assert json.dumps(token)  # printable as is


def test_new_token_requires_a_scope_and_says_there_is_no_default(capsys):
    with pytest.raises(SystemExit) as stopped:
        token_command(["new-token", "--name", "billing"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--scope is required" in err and "there is no every-scope default" in err
    with pytest.raises(SystemExit):
        token_command(["new-token", "--help"])
    assert "required, repeatable" in capsys.readouterr().out


def test_the_clients_scopes_and_statuses_are_the_workers():
    """The client package ships without infra/: a test holds its literals equal to the contract's."""
    from typing import get_args

    from guruai_cache_client.__main__ import SCOPES
    from guruai_cache_client.models import Scope, SubscriptionStatus
    from infra import worker_contract

    assert get_args(Scope) == SCOPES == tuple(worker_contract.SCOPES)
    assert get_args(SubscriptionStatus) == tuple(worker_contract.SUBSCRIPTION_STATUSES)


# --- which answers are retried (issue 17, "Retries") ------------------------------------------


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504, 520, 522, 524, 530])
def test_a_transient_answer_to_a_read_is_retried(status):
    """Reads and the idempotent PUT: a timeout, a passing 5xx, or Cloudflare's own 52x."""
    script = Script(httpx.Response(status, text="<html>error</html>"), httpx.Response(200, json=ENTITLEMENTS))
    assert script.client().entitlements("u1").tier == "pro"
    assert len(script.requests) == 2 and len(script.sleeps) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 501])
def test_a_final_answer_is_not_retried(status):
    script = Script(httpx.Response(status, text="no"), httpx.Response(200, json=ENTITLEMENTS))
    with pytest.raises(WorkerError):
        script.client().entitlements("u1")
    assert len(script.requests) == 1


def test_a_decimal_retry_after_is_waited_for():
    script = Script(error(503, "database_unavailable", {"Retry-After": "1.5"}), httpx.Response(200, json=ENTITLEMENTS))
    assert script.client().entitlements("u1").tier == "pro"
    assert script.sleeps == [1.5]
    assert RetryPolicy().delay(0, " 0.25 ") == 0.25
    assert RetryPolicy().delay(0, "-1") is None and RetryPolicy().delay(0, "soon") is None


def test_the_daily_limit_is_raised_at_once_even_when_its_window_resets_soon():
    """Its Retry-After is the window's end: a few seconds before midnight it is short, and a
    retry would still be refused until then (and would use the retries on a final answer)."""
    script = Script(
        error(429, "daily_limit_exceeded", {"Retry-After": "1"}, allowed=False, remaining=0, limit=10,
              resetsAt="2026-01-02T00:00:00.000Z"),
        httpx.Response(200, json=USAGE),
    )  # fmt: skip
    with pytest.raises(DailyLimitExceeded) as caught:
        script.client().record_usage("u1")
    assert len(script.requests) == 1 and script.sleeps == []
    assert caught.value.resets_at == datetime(2026, 1, 2, tzinfo=UTC) and caught.value.retry_after == 1


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_and_says_so(status):
    """The token must not follow a redirect to another host; the error names where it pointed."""
    script = Script(httpx.Response(status, headers={"Location": "https://elsewhere.test/entitlements/u1"}))
    with pytest.raises(UnexpectedRedirect) as caught:
        script.client(fallback=FromOwnDatabase()).entitlements("u1")  # an answer: no fallback
    assert len(script.requests) == 1
    assert caught.value.location == "https://elsewhere.test/entitlements/u1" and caught.value.status == status
    assert "'https://elsewhere.test/entitlements/u1'" in str(caught.value) and "check the base URL" in str(caught.value)


def test_a_redirect_is_not_followed_by_an_http_client_that_would():
    script = Script(httpx.Response(302, headers={"Location": "https://elsewhere.test/"}))
    own = httpx.Client(transport=httpx.MockTransport(script), follow_redirects=True)
    with pytest.raises(UnexpectedRedirect):
        WorkerClient("https://worker.test", "tok", http_client=own, sleep=script.sleeps.append).entitlements("u1")
    assert [str(r.url) for r in script.requests] == ["https://worker.test/v1/entitlements/u1"]


def test_a_timeout_after_sending_is_its_own_error_a_refused_connection_is_not():
    """A fallback that counts locally must know whether the Worker may have counted the use."""
    with pytest.raises(WorkerTimeout) as timed_out:
        Script(*[httpx.ReadTimeout("slow")] * 3).client().record_usage("u1")
    assert isinstance(timed_out.value, WorkerUnreachable)  # caught as before by `except WorkerUnreachable`
    assert "the outcome is unknown" in str(timed_out.value)
    for never_arrived in (httpx.ConnectError("refused"), httpx.ConnectTimeout("slow to connect")):
        with pytest.raises(WorkerUnreachable) as caught:
            Script(*[never_arrived] * 3).client().record_usage("u1")
        assert not isinstance(caught.value, WorkerTimeout)


def test_the_fallback_is_told_a_timed_out_use_may_have_been_counted():
    class CountLocally(Fallback):
        def record_usage(self, user_id, error):
            self.error = error
            raise error

    fallback = CountLocally()
    with pytest.raises(WorkerTimeout):
        Script(*[httpx.WriteTimeout("slow")] * 3).client(fallback=fallback).record_usage("u1")
    assert isinstance(fallback.error, WorkerTimeout)


def test_a_408_without_a_code_is_unavailable_so_the_fallback_answers():
    script = Script(*[httpx.Response(408)] * 3)
    assert script.client(fallback=FromOwnDatabase()).entitlements("u1").tier == "free"


# --- API v1 (issue 17): the base path, the error families, the extras inside `error` -----------


def test_calls_go_under_the_contracts_base_path_whether_or_not_the_url_names_it():
    from guruai_cache_client.urls import API_BASE_PATH
    from infra.plan.api import base_path

    assert base_path() == API_BASE_PATH  # the client ships without the spec: this holds them equal
    for url in ("https://worker.test", "https://worker.test/", "https://worker.test/v1"):
        script = Script(httpx.Response(200, json=ENTITLEMENTS))
        WorkerClient(url, "tok", transport=httpx.MockTransport(script)).entitlements("u1")
        assert str(script.requests[0].url) == "https://worker.test/v1/entitlements/u1", url


@pytest.mark.parametrize(
    ("status", "code", "family"),
    [
        (400, "invalid_user_id", BadRequestError), (413, "body_too_large", BadRequestError),
        (422, "idempotency_key_reused", BadRequestError), (405, "method_not_allowed", BadRequestError),
        (401, "unauthorized", AuthenticationError), (403, "insufficient_scope", PermissionDeniedError),
        (404, "not_found", NotFoundError),
        (404, "no_active_subscription", NotFoundError), (429, "burst_limited", RateLimited),
        (500, "internal_error", WorkerUnavailable), (503, "database_unavailable", WorkerUnavailable),
    ],
)  # fmt: skip
def test_each_codes_class_is_in_its_statuss_family(status, code, family):
    assert issubclass(ERRORS_BY_CODE[code], family)
    found = error_for(status, {"error": {"code": code, "message": "m"}}, None)
    assert type(found) is ERRORS_BY_CODE[code] and found.code == code


@pytest.mark.parametrize(
    ("status", "family"),
    [(400, BadRequestError), (409, BadRequestError), (401, AuthenticationError), (403, PermissionDeniedError),
     (404, NotFoundError), (429, RateLimited), (500, WorkerUnavailable), (503, ServiceUnavailable)],
)  # fmt: skip
def test_a_code_this_client_does_not_know_keeps_its_value_in_its_statuss_family(status, family):
    script = Script(*[error(status, "a_code_from_a_later_version")] * 3)
    with pytest.raises(family) as caught:
        script.client(max_retries=0).subscription("u1")
    assert type(caught.value) is family and caught.value.code == "a_code_from_a_later_version"
    assert "a_code_from_a_later_version" in str(caught.value)


def test_an_errors_extras_are_read_inside_the_error_and_at_the_top_level_of_an_api_2_answer():
    figures = {"allowed": False, "remaining": 0, "limit": 10, "resetsAt": "2026-01-02T00:00:00.000Z"}
    v1 = {"error": {"code": "daily_limit_exceeded", "message": "m", "requestId": "r", **figures}}
    v2 = {"error": {"code": "daily_limit_exceeded", "message": "m"}, **figures}
    for body in (v1, v2):
        found = error_for(429, body, "r")
        assert isinstance(found, DailyLimitExceeded)
        assert (found.limit, found.resets_at) == (10, datetime(2026, 1, 2, tzinfo=UTC))
    scope = {"code": "insufficient_scope", "message": "m"}
    assert error_for(403, {"error": {**scope, "requiredScope": "write"}}, None).required_scope == "write"
    assert error_for(403, {"error": scope, "requiredScope": "write"}, None).required_scope == "write"


def test_a_replayed_use_says_so_and_the_ratelimit_fields_are_in_meta():
    headers = {
        "Idempotent-Replayed": "true",
        "RateLimit-Policy": '"burst";q=40;w=60, "daily";q=10;w=86400',
        "RateLimit": '"daily";r=9;t=3600',
    }
    usage = Script(httpx.Response(200, json=USAGE, headers=headers)).client().record_usage("u1")
    assert usage.replayed is True
    assert usage.meta is not None and usage.meta.policy("daily") == RateLimitPolicy("daily", 10, 86400, 9, 3600)
    assert usage.meta.policy("burst") == RateLimitPolicy("burst", 40, 60, None, None)
    fresh = Script(httpx.Response(200, json=USAGE)).client().record_usage("u1")
    assert fresh.replayed is False and fresh.meta is not None and fresh.meta.policies == ()
