"""The Worker's API on real workerd (`wrangler dev`): auth, validation, caching, limits, cleanup."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from local_worker import BURST_LIMIT, SMALL_TIER, worker_env

from infra import worker_contract
from infra.plan.seeds import seed_entries
from infra.plan.worker import worker_plan
from infra.tools import local

pytestmark = pytest.mark.e2e

ROUTES = [
    ("GET", "/tiers"),
    ("GET", "/subscriptions/user-pro"),
    ("PUT", "/subscriptions/user-pro"),
    ("POST", "/usage/user-pro"),
    ("GET", "/nowhere"),
]


DAILY_EXTRAS = frozenset({"allowed", "remaining", "limit", "resetsAt"})  # the daily 429's figures, inside `error`


def assert_error(response: httpx.Response, status: int, code: str, extras: frozenset[str] = frozenset()) -> dict:
    """The one error shape: code, message, the request id and the error's own extras, all inside `error`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "requestId", *extras} and body["error"]["code"] == code, body
    assert body["error"]["requestId"] == response.headers["X-Request-Id"]
    assert body["error"]["message"] and ".js:" not in response.text and "    at " not in response.text
    return body


def subscribe(worker, user_id: str, tier: str = "pro", status: str = "active") -> dict:
    response = worker.put(f"/subscriptions/{user_id}", {"tier": tier, "status": status})
    assert response.status_code in (200, 201), response.text  # 201: created
    return response.json()


# --- auth and errors -----------------------------------------------------------------------


def test_health_needs_no_token_and_names_the_catalog_it_serves(worker):
    version = worker_plan(worker.settings, "local").catalog["version"]
    for legacy in (False, True):  # /v1/health and /health
        response = worker.get("/health", token=None, legacy=legacy)
        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "apiVersion": "3.0.0",
            "environment": "local",
            "catalogVersion": version,
        }


@pytest.mark.parametrize("method,path", ROUTES)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Bearer {token}x", "Basic {token}", "Bearer"])
def test_every_other_route_needs_the_service_token(worker, method, path, authorization):
    headers = {} if authorization is None else {"Authorization": authorization.format(token=worker.token)}
    response = worker.request(method, path, token=None, headers=headers, json={"tier": "pro"})
    assert_error(response, 401, "unauthorized")
    # RFC 6750 3: the realm; error="invalid_token" when a bearer token was sent and no client holds it.
    sent_a_token = authorization is not None and authorization.startswith("Bearer ") and authorization != "Bearer"
    challenge = 'Bearer realm="guruai-cache"' + (', error="invalid_token"' if sent_a_token else "")
    assert response.headers["WWW-Authenticate"] == challenge


def test_unknown_routes_and_methods_get_json_errors(worker):
    assert_error(worker.get("/nowhere"), 404, "not_found")
    assert_error(worker.get("/subscriptions/a/b"), 404, "not_found")
    wrong_method = worker.request("DELETE", "/subscriptions/user-pro")
    assert_error(wrong_method, 405, "method_not_allowed")
    assert wrong_method.headers["Allow"] == "GET, HEAD, PUT"
    assert_error(worker.get("/usage/user-pro"), 405, "method_not_allowed")


# A raw path, sent as is: none of these may reach another KV key or D1 row.
@pytest.mark.parametrize(
    "raw_id",
    ["a:b", "..%2Ftiers", "..%2F..%2Fconfig:tiers", "", "x" * 600, "a%00b", "a%20b", "%C3%A9", "subscription:user-pro"],
    ids=["colon", "dot-dot-slash", "traversal", "empty", "600-bytes", "nul", "space", "non-ascii", "key-prefix"],
)
def test_user_ids_are_validated_before_any_storage_access(worker, raw_id):
    for method in ("GET", "PUT", "POST"):
        path = f"/{'usage' if method == 'POST' else 'subscriptions'}/{raw_id}"
        response = worker.request(method, path, json={"tier": "pro"})
        assert_error(response, 400, "invalid_user_id")
        assert set(worker.log_for(response)["ops"].values()) == {0}


def test_the_longest_valid_user_id_works(worker):
    longest = "z" * 64
    assert subscribe(worker, longest)["userId"] == longest
    assert worker.get(f"/subscriptions/{longest}").status_code == 200
    assert_error(worker.get(f"/subscriptions/{longest}z"), 400, "invalid_user_id")


# --- subscriptions -------------------------------------------------------------------------


def test_cache_aside_miss_then_hit_and_invalidation_after_put(worker, user_id):
    put = subscribe(worker, user_id, tier="pro")
    assert put["userId"] == user_id and put["tier"] == "pro" and put["status"] == "active"
    first = worker.get(f"/subscriptions/{user_id}")
    second = worker.get(f"/subscriptions/{user_id}")
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert first.json() == second.json() == put
    assert (worker.log_for(first)["cache"], worker.log_for(second)["cache"]) == ("miss", "hit")  # hit/miss counts

    upgraded = subscribe(worker, user_id, tier="premium")  # writes D1, then deletes the cached entry
    after = worker.get(f"/subscriptions/{user_id}")
    assert after.headers["X-Cache"] == "MISS" and after.json() == upgraded and after.json()["tier"] == "premium"
    assert worker.get(f"/subscriptions/{user_id}").headers["X-Cache"] == "HIT"


def test_no_active_subscription_is_cached_negatively_without_querying_d1_again(worker, user_id):
    first = worker.get(f"/subscriptions/{user_id}")
    assert_error(first, 404, "no_active_subscription")
    assert first.headers["X-Cache"] == "MISS" and worker.log_for(first)["ops"]["d1_queries"] == 1
    second = worker.get(f"/subscriptions/{user_id}")
    assert_error(second, 404, "no_active_subscription")
    assert second.headers["X-Cache"] == "HIT" and worker.log_for(second)["ops"]["d1_queries"] == 0
    subscribe(worker, user_id)  # the PUT also drops the negative entry
    assert worker.get(f"/subscriptions/{user_id}").status_code == 200


def test_canceled_and_past_due_subscriptions_are_not_active(worker, user_id):
    for status in ("canceled", "past_due"):
        assert subscribe(worker, user_id, status=status)["status"] == status
        assert_error(worker.get(f"/subscriptions/{user_id}"), 404, "no_active_subscription")
    subscribe(worker, user_id, status="trialing")
    assert worker.get(f"/subscriptions/{user_id}").json()["status"] == "trialing"


def test_cache_entries_expire_after_the_configured_ttls_and_no_negative_entry_goes_to_kv(worker, user_id):
    """Positive entries live SUBSCRIPTION_TTL in KV; an absent user's lives in the Cache API, not in KV."""
    absent = f"{user_id}-absent"
    subscribe(worker, user_id)
    before = time.time()
    worker.get(f"/subscriptions/{user_id}")
    worker.get(f"/subscriptions/{absent}")
    listed = worker.wrangler("kv", "key", "list", "--binding", "KV", "--prefix", f"subscription:{user_id}")
    expirations = {entry["name"]: entry["expiration"] for entry in json.loads(listed.stdout)}
    ttl = worker.settings.ttls.subscription
    assert before + ttl - 5 <= expirations[f"subscription:{user_id}"] <= time.time() + ttl + 1
    assert f"subscription:{absent}" not in expirations


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({"tier": "gold"}, 400, "unknown_tier"),
        ({"tier": "pro", "status": "paused"}, 400, "invalid_body"),
        ({"status": "active"}, 400, "invalid_body"),
        ({"tier": "pro", "plan": "x"}, 400, "invalid_body"),
        (["pro"], 400, "invalid_body"),
        ("not json", 400, "invalid_json"),
        ({"tier": "pro", "padding": "x" * 5000}, 413, "body_too_large"),
    ],
    ids=["unknown-tier", "bad-status", "no-tier", "extra-field", "array", "not-json", "too-large"],
)
def test_put_rejects_invalid_bodies_and_writes_nothing(worker, user_id, body, status, code):
    content = body if isinstance(body, str) else json.dumps(body)
    response = worker.request("PUT", f"/subscriptions/{user_id}", content=content)
    error = assert_error(response, status, code)
    if code == "unknown_tier":
        assert all(tier in error["error"]["message"] for tier in (t.name for t in worker.settings.tiers))
    assert worker.log_for(response)["ops"]["d1_queries"] == 0
    assert_error(worker.get(f"/subscriptions/{user_id}"), 404, "no_active_subscription")


def test_an_oversize_body_without_content_length_is_refused_too(worker, user_id):
    chunks = iter([b'{"tier": "pro", "padding": "', b"x" * 5000, b'"}'])  # sent chunked: no Content-Length
    response = worker.request("PUT", f"/subscriptions/{user_id}", content=chunks)
    assert_error(response, 413, "body_too_large")


def test_a_chunked_body_within_the_limit_is_read_whole(worker, user_id):
    chunks = iter([b'{"tier": ', b'"pro", "status": "tri', b'aling"}'])  # sent chunked, split mid-value
    response = worker.request("PUT", f"/subscriptions/{user_id}", content=chunks)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "trialing"


def test_a_chunked_body_is_refused_once_past_the_limit_not_read_to_its_end(worker, user_id):
    """The Worker counts a chunked body as it arrives and stops reading past 4 KB: the rest of a
    100 MB body is never sent, where reading it whole first would take all of it."""
    sent = []
    total_chunks = 1_600  # 64 KB each: 100 MB

    def body():
        for _ in range(total_chunks):
            sent.append(1)
            yield b"x" * 65_536

    before = len(worker.log_lines())
    with httpx.Client(base_url=worker.api_url, timeout=60) as fresh:  # its own connection: the Worker ends it
        response = fresh.put(
            f"/subscriptions/{user_id}", content=body(), headers={"Authorization": f"Bearer {worker.token}"}
        )
    assert len(sent) < total_chunks / 2, f"{len(sent)} of {total_chunks} chunks were sent"
    line = worker.wait_for_log(
        lambda line: line.get("event") == "request" and line.get("method") == "PUT" and line.get("status") == 413,
        "the refused PUT",
        after=before,
    )
    assert line["outcome"] == "invalid_request" and line["ops"]["d1_queries"] == 0
    # The client gets that 413, or, when the connection closes while it is still sending, the
    # 503 `wrangler dev`'s own proxy answers in its place (local only: no such proxy deploys).
    if response.status_code != 413:
        assert response.status_code == 503 and "restarted mid-request" in response.text, response.text


# --- tiers and seeds -------------------------------------------------------------------------


def test_tiers_route_serves_the_seeded_config(worker):
    response = worker.get("/tiers")
    assert response.status_code == 200
    assert response.json() == worker_contract.tiers_document(worker.settings.tiers)
    assert SMALL_TIER["name"] in response.json()


@pytest.mark.parametrize("max_age", [0, 600])
def test_tiers_answer_with_the_tiers_max_age_zero_included(worker, max_age):
    """0 is a max-age (callers revalidate every time), not a variable to replace with its default."""
    response = worker.get("/tiers", headers=worker_env(TIERS_MAX_AGE=max_age))
    assert response.headers["Cache-Control"] == f"private, max-age={max_age}"


def test_local_kv_holds_exactly_the_settings_seed_values(worker, tmp_path):
    expected = seed_entries(worker.settings)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(list(expected)))
    result = worker.wrangler("kv", "bulk", "get", str(keys), "--binding", "KV")
    stored, _ = json.JSONDecoder().raw_decode(result.stdout[result.stdout.index("{") :])
    assert {key: entry["value"] for key, entry in stored.items()} == expected
    # config:catalog is the catalog the Worker serves, for readers that are not the Worker
    catalog = json.loads(expected[worker_contract.CATALOG_KEY])
    assert worker.get("/health").json()["catalogVersion"] == catalog["version"]
    assert set(catalog["flags"]) == set(worker.settings.feature_flags)


def test_dev_subscriptions_from_the_settings_are_in_local_d1(worker):
    rows = worker.d1(
        "SELECT user_id, tier, status FROM subscriptions WHERE user_id GLOB 'user-*' ORDER BY user_id"
    )  # GLOB: case matters (LIKE would match USER-PRO)
    expected = sorted((sub.user_id, sub.tier, sub.status) for sub in worker.settings.dev_subscriptions)
    assert [(r["user_id"], r["tier"], r["status"]) for r in rows] == expected


# --- usage -----------------------------------------------------------------------------------


def test_usage_post_counts_against_the_tiers_daily_limit(worker, user_id):
    subscribe(worker, user_id, tier="pro")
    limit = next(t.daily_request_limit for t in worker.settings.tiers if t.name == "pro")
    first, second = worker.post(f"/usage/{user_id}"), worker.post(f"/usage/{user_id}")
    assert first.status_code == second.status_code == 200
    assert first.json()["allowed"] is True and first.json()["limit"] == limit
    assert (first.json()["remaining"], second.json()["remaining"]) == (limit - 1, limit - 2)
    assert second.headers["X-RateLimit-Limit"] == str(limit)
    assert second.headers["X-RateLimit-Remaining"] == str(limit - 2)
    window = worker.settings.usage_window_seconds
    assert int(second.headers["X-RateLimit-Reset"]) == (int(time.time()) // window + 1) * window


def test_daily_limit_is_exact_under_concurrent_requests(worker, user_id):
    limit, concurrent = SMALL_TIER["dailyRequestLimit"], 3 * SMALL_TIER["dailyRequestLimit"]
    assert concurrent < BURST_LIMIT  # only the daily limit is at play here
    subscribe(worker, user_id, tier=SMALL_TIER["name"])
    worker.get(f"/subscriptions/{user_id}")
    start = threading.Barrier(concurrent)
    with httpx.Client(base_url=worker.api_url, timeout=60, limits=httpx.Limits(max_connections=concurrent)) as client:

        def one_use(_):
            start.wait()
            return client.post(f"/usage/{user_id}", headers={"Authorization": f"Bearer {worker.token}"})

        with ThreadPoolExecutor(max_workers=concurrent) as pool:
            responses = list(pool.map(one_use, range(concurrent)))
    allowed = [r for r in responses if r.status_code == 200]
    denied = [r for r in responses if r.status_code != 200]
    assert len(allowed) == limit  # neither over- nor under-counted
    assert sorted(r.json()["remaining"] for r in allowed) == list(range(limit))  # each count handed out once
    for response in denied:
        body = assert_error(response, 429, "daily_limit_exceeded", DAILY_EXTRAS)["error"]
        assert (body["allowed"], body["remaining"], body["limit"]) == (False, 0, limit)
        assert response.headers["X-RateLimit-Limit"] == str(limit) and response.headers["X-RateLimit-Remaining"] == "0"
        assert int(response.headers["Retry-After"]) > 0
    assert_error(worker.post(f"/usage/{user_id}"), 429, "daily_limit_exceeded", DAILY_EXTRAS)
    rows = worker.d1(f"SELECT count FROM usage WHERE user_id = '{user_id}'")
    assert rows == [{"count": limit}]


def test_burst_limit_answers_429_before_the_daily_limit(worker, user_id):
    subscribe(worker, user_id, tier="premium")  # a daily limit far above the burst limit
    statuses = []
    # Fixed windows: 2 x limit + 1 requests put more than `limit` in one window, whatever the timing.
    for _ in range(2 * BURST_LIMIT + 1):
        response = worker.post(f"/usage/{user_id}")
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert_error(response, 429, "burst_limited")
            # What the burst 429 can tell (draft-ietf-httpapi-ratelimit-headers-12): the policy and
            # nothing left; the binding tells not when its window ends, so Retry-After is its period.
            assert response.headers["RateLimit-Policy"] == f'"burst";q={BURST_LIMIT};w=60'
            assert response.headers["RateLimit"] == '"burst";r=0'
            assert response.headers["Retry-After"] == "60"
            break
    assert statuses[:BURST_LIMIT] == [200] * BURST_LIMIT
    assert statuses[-1] == 429


def test_usage_without_an_active_subscription_is_refused(worker, user_id):
    assert_error(worker.post(f"/usage/{user_id}"), 404, "no_active_subscription")
    subscribe(worker, user_id, status="canceled")
    assert_error(worker.post(f"/usage/{user_id}"), 404, "no_active_subscription")
    assert worker.d1(f"SELECT * FROM usage WHERE user_id = '{user_id}'") == []


# --- scheduled cleanup -------------------------------------------------------------------------


def test_scheduled_cleanup_deletes_usage_rows_past_retention(worker, user_id):
    now, day = int(time.time()), 86400
    retention = worker.settings.usage_retention_days
    ages = {"old": retention + 5, "just-old": retention + 1, "kept": retention - 1, "today": 0}
    values = ", ".join(f"({now - age * day}, '{user_id}-{name}', 3)" for name, age in ages.items())
    worker.d1(f"INSERT INTO usage (window_start, user_id, count) VALUES {values}")
    response = worker.get(f"/__scheduled?cron={worker.settings.cron.replace(' ', '+')}", token=None, legacy=True)
    assert response.status_code == 200
    line = worker.wait_for_log(
        lambda line: line.get("event") == "scheduled" and line.get("deleted", 0) >= 2, "the cleanup"
    )
    assert line["cron"] == worker.settings.cron
    left = worker.d1(f"SELECT user_id FROM usage WHERE user_id LIKE '{user_id}-%' ORDER BY user_id")
    assert [row["user_id"] for row in left] == [f"{user_id}-kept", f"{user_id}-today"]


def test_a_cleanup_time_in_the_future_deletes_nothing_newer_than_the_retention_window(worker, user_id):
    """Under wrangler dev anyone can run the cron with any time (/cdn-cgi/handler/scheduled, no
    token): the Worker counts back from now at the latest, so a far-future time keeps today's rows."""
    now, day = int(time.time()), 86400
    retention = worker.settings.usage_retention_days
    ages = {"old": retention + 5, "kept": retention - 1, "today": 0}
    values = ", ".join(f"({now - age * day}, '{user_id}-{name}', 3)" for name, age in ages.items())
    worker.d1(f"INSERT INTO usage (window_start, user_id, count) VALUES {values}")
    far_future_ms = (now + 100 * 365 * day) * 1000
    before = len(worker.log_lines())
    response = worker.get(f"/cdn-cgi/handler/scheduled?time={far_future_ms}", token=None, legacy=True)
    assert response.status_code == 200
    line = worker.wait_for_log(lambda line: line.get("event") == "scheduled", "the cleanup", after=before)
    assert line["outcome"] == "scheduled_cleanup"
    cutoff = dt.datetime.fromisoformat(line["cutoff"]).timestamp()
    assert cutoff <= time.time() - retention * day  # counted back from now, not from the given time
    left = worker.d1(f"SELECT user_id FROM usage WHERE user_id LIKE '{user_id}-%' ORDER BY user_id")
    assert [row["user_id"] for row in left] == [f"{user_id}-kept", f"{user_id}-today"]


# --- the catalog binding --------------------------------------------------------------------


def test_the_worker_reads_its_tiers_from_the_binding_not_from_kv(worker, user_id):
    """config:tiers stays seeded for other readers; deleting it changes nothing for the Worker."""
    subscribe(worker, user_id)
    worker.wrangler("kv", "key", "delete", worker_contract.TIERS_KEY, "--binding", "KV")
    try:
        tiers = worker.get("/tiers")
        assert tiers.status_code == 200 and tiers.json() == worker_contract.tiers_document(worker.settings.tiers)
        assert worker.log_for(tiers)["ops"]["kv_reads"] == 0
        assert worker.post(f"/usage/{user_id}").status_code == 200
        assert subscribe(worker, user_id, tier="premium")["tier"] == "premium"
    finally:
        local.seed_kv(worker.project, worker.settings)


# --- API v1: HEAD, the RateLimit fields, the unprefixed paths -----------------------------------


def ratelimit_fields(response: httpx.Response) -> tuple[str, int, int]:
    """RateLimit's daily item, read as a client would: (policy name, r, t)."""
    match = re.fullmatch(r'"(\w+)";r=(\d+);t=(\d+)', response.headers["RateLimit"])
    assert match, response.headers["RateLimit"]
    return match.group(1), int(match.group(2)), int(match.group(3))


def test_usage_answers_and_entitlements_carry_the_ietf_ratelimit_fields_beside_the_x_ones(worker, user_id):
    limit = SMALL_TIER["dailyRequestLimit"]
    window = worker.settings.usage_window_seconds
    policy = f'"burst";q={BURST_LIMIT};w=60, "daily";q={limit};w={window}'
    subscribe(worker, user_id, tier=SMALL_TIER["name"])
    used = worker.post(f"/usage/{user_id}")
    assert used.headers["RateLimit-Policy"] == policy
    name, remaining, reset = ratelimit_fields(used)
    until_reset = int(used.headers["X-RateLimit-Reset"]) - time.time()
    assert (name, remaining) == ("daily", limit - 1) and abs(reset - until_reset) <= 2
    entitlements = worker.get(f"/entitlements/{user_id}")
    assert entitlements.headers["RateLimit-Policy"] == policy
    assert ratelimit_fields(entitlements)[:2] == ("daily", limit - 1)
    window_start = int(time.time()) // window * window
    worker.d1(f"UPDATE usage SET count = {limit} WHERE user_id = '{user_id}' AND window_start = {window_start}")
    denied = worker.post(f"/usage/{user_id}")
    assert_error(denied, 429, "daily_limit_exceeded", DAILY_EXTRAS)
    assert denied.headers["RateLimit-Policy"] == policy and ratelimit_fields(denied)[:2] == ("daily", 0)


@pytest.mark.parametrize("template", ["/health", "/tiers", "/subscriptions/{}", "/entitlements/{}"])
def test_head_answers_every_get_route_with_its_status_and_headers_and_no_body(worker, user_id, template):
    subscribe(worker, user_id)
    for path in (template.format(user_id), template.format("nobody-here")):
        got, head = worker.get(path), worker.request("HEAD", path)
        assert head.status_code == got.status_code and head.content == b""
        # Per request, or about the body (HEAD has none): the rest must be the same.
        varying = {
            "x-request-id",
            "content-length",
            "transfer-encoding",
            "content-encoding",
            "date",
            "x-cache",
            "ratelimit",
        }
        assert {k: v for k, v in head.headers.items() if k not in varying} == {
            k: v for k, v in got.headers.items() if k not in varying
        }
        assert worker.log_for(head)["method"] == "HEAD"


def test_the_health_route_answers_under_v1_and_nothing_else_answers_outside_the_documents_paths(worker):
    assert worker.get("/health", token=None).json()["apiVersion"] == "3.0.0"
    assert_error(worker.get("/v1/tiers"), 404, "not_found")  # /v1/v1/tiers
    assert_error(worker.get("/v2/tiers", legacy=True), 404, "not_found")


def test_the_unprefixed_paths_answer_as_api_2_with_deprecation_sunset_and_their_successor(worker, user_id):
    subscribe(worker, user_id)
    old = worker.get(f"/subscriptions/{user_id}?x=1", legacy=True)
    assert old.status_code == 200 and old.json() == worker.get(f"/subscriptions/{user_id}").json()
    # RFC 9745 (Deprecation: @<Unix seconds>), RFC 8594 (Sunset: an HTTP-date), RFC 8288's Link.
    assert old.headers["Deprecation"] == "@1796601600"
    assert old.headers["Sunset"] == "Wed, 30 Jun 2027 23:59:59 GMT"
    assert old.headers["Link"] == f'</v1/subscriptions/{user_id}?x=1>; rel="successor-version"'
    new = worker.get(f"/subscriptions/{user_id}")
    assert not {"Deprecation", "Sunset", "Link"} & set(new.headers)
    # The log line says which calls still use the old paths (who to tell before the sunset).
    assert worker.log_for(old)["deprecated_path"] is True and "deprecated_path" not in worker.log_for(new)
    # 2.0.0's error shape: the extras at the top level too (a 2.0.0 caller reads them there).
    app_b = worker.local_tokens["usage"]
    refused = worker.get("/tiers", token=app_b, legacy=True)
    assert refused.status_code == 403 and refused.json()["requiredScope"] == "read"
    assert refused.json()["error"]["code"] == "insufficient_scope" and refused.headers["Deprecation"]
    unknown = worker.get("/nowhere", legacy=True)
    assert unknown.status_code == 404 and unknown.headers["Sunset"] and "Link" not in unknown.headers
