"""Clients and scopes on real workerd: each scope allowed exactly its routes, the burst limit per
client and user, the log line naming the client, and the headers every answer carries."""

from __future__ import annotations

import pytest
from local_worker import BURST_LIMIT, CLIENT_TOKENS
from test_worker_api import assert_error, subscribe

from infra.plan.api import routes
from infra.worker_contract import SCOPES

pytestmark = pytest.mark.e2e

# Every authenticated route, with the scope it needs (from the route table the Worker serves).
CALLS = [
    (method, template, scope)
    for template, methods in routes().items()
    for method, scope in methods.items()
    if scope is not None
]


def call(worker, method, template, user_id, token):
    path = template.replace("{userId}", user_id)
    body = {"tier": "pro"} if method == "PUT" else None
    return worker.request(method, path, token=token, json=body)


@pytest.mark.parametrize("method,template,needed", CALLS, ids=[f"{m} {t}" for m, t, _ in CALLS])
@pytest.mark.parametrize("scope", SCOPES)
def test_each_scope_is_allowed_its_routes_and_denied_the_others(worker, user_id, method, template, needed, scope):
    """The local environment's `local-<scope>` clients hold one scope each."""
    response = call(worker, method, template, user_id, worker.local_tokens[scope])
    line = worker.log_for(response)
    assert line["client"] == f"local-{scope}"
    if scope == needed:
        assert response.status_code != 401
        assert response.status_code != 403 or response.json()["error"]["code"] != "insufficient_scope"
        return
    assert (
        response.headers["WWW-Authenticate"]
        == f'Bearer realm="guruai-cache", error="insufficient_scope", scope="{needed}"'
    )
    assert line["outcome"] == "forbidden" and set(line["ops"].values()) == {0}  # refused before any storage
    if method == "HEAD":  # GET's status and headers, no body
        assert response.status_code == 403 and response.content == b""
        return
    body = assert_error(response, 403, "insufficient_scope", frozenset({"requiredScope"}))
    assert f'"{needed}"' in body["error"]["message"] and body["error"]["requiredScope"] == needed


def test_a_client_with_several_scopes_uses_each(worker, user_id):
    app_a = CLIENT_TOKENS["app-a"]  # read and usage, no write
    subscribe(worker, user_id)
    assert worker.get(f"/entitlements/{user_id}", token=app_a).status_code == 200
    assert worker.post(f"/usage/{user_id}", token=app_a).status_code == 200
    forbidden = worker.put(f"/subscriptions/{user_id}", {"tier": "free"}, token=app_a)
    assert_error(forbidden, 403, "insufficient_scope", frozenset({"requiredScope"}))


def test_an_unknown_token_is_refused_like_a_missing_one(worker):
    for token in ("x" * 43, CLIENT_TOKENS["tester"][:-1], CLIENT_TOKENS["tester"] + "x"):
        response = worker.get("/tiers", token=token)
        assert_error(response, 401, "unauthorized")
        assert "client" not in worker.log_for(response)


def test_one_client_cannot_use_up_another_clients_burst_budget(worker, user_id):
    """The burst limiter is keyed on client and user: app-a's burst leaves app-b's budget whole."""
    subscribe(worker, user_id, tier="premium")  # a daily limit far above the burst limit
    a, b = CLIENT_TOKENS["app-a"], CLIENT_TOKENS["app-b"]
    statuses = []
    for _ in range(2 * BURST_LIMIT + 1):  # fixed windows: this puts more than the limit in one of them
        response = worker.post(f"/usage/{user_id}", token=a)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert_error(response, 429, "burst_limited")
            # The longest the wait can be: the limiter's period (the binding tells no more).
            assert response.headers["Retry-After"] == str(worker.settings.burst_rate_limit.period)
            break
    assert statuses[-1] == 429
    after = worker.post(f"/usage/{user_id}", token=b)  # the same user, right after, by the other client
    assert after.status_code == 200, after.text
    assert worker.log_for(after)["client"] == "app-b"
    assert_error(worker.post(f"/usage/{user_id}", token=a), 429, "burst_limited")  # app-a is still held back


def test_the_log_names_the_client_never_its_token(worker, user_id):
    subscribe(worker, user_id)
    responses = [
        worker.get("/tiers", token=CLIENT_TOKENS["app-a"]),
        worker.post(f"/usage/{user_id}", token=CLIENT_TOKENS["app-b"]),
        worker.get(f"/entitlements/{user_id}", token=worker.local_tokens["read"]),
    ]
    assert [worker.log_for(r)["client"] for r in responses] == ["app-a", "app-b", "local-read"]
    log = worker.log_path.read_text()
    assert not [token for token in [*CLIENT_TOKENS.values(), *worker.local_tokens.values()] if token in log]


@pytest.mark.parametrize(
    "method,path,expected_status",
    [
        ("GET", "/health", 200),
        ("GET", "/tiers", 200),
        ("GET", "/subscriptions/user-pro", 200),
        ("GET", "/entitlements/user-pro", 200),
        ("GET", "/subscriptions/nobody-here", 404),
        ("GET", "/nowhere", 404),
        ("DELETE", "/tiers", 405),
    ],
)
def test_every_answer_is_uncacheable_by_others_and_never_sniffed(worker, method, path, expected_status):
    response = worker.request(method, path)
    assert response.status_code == expected_status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # /tiers: the same for every client and changed only by a deploy, so the caller may keep it (privately).
    tiers = (method, path) == ("GET", "/tiers")
    expected = f"private, max-age={worker.settings.tiers_max_age}" if tiers else "no-store"
    assert response.headers["Cache-Control"] == expected
    unauthenticated = worker.request(method, path, token=None)
    assert unauthenticated.headers["X-Content-Type-Options"] == "nosniff"
    assert unauthenticated.headers["Cache-Control"] == "no-store"
