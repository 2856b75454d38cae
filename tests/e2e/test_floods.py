"""What a flood costs, on real workerd: the Worker cannot be turned against its own bill.

A client asking for user ids that do not exist writes nothing to KV (whose daily writes the
whole account shares: 1,000 on the Free plan) and is stopped by the client limiter; callers
without a token, or with made-up methods, buy no log line per request and no new index value.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from local_worker import CLIENT_LIMIT_SMALL, RunningWorker, worker_env

pytestmark = pytest.mark.e2e

UNKNOWN_IDS = 300


def data_points(worker: RunningWorker, responses: list[httpx.Response]) -> list[dict]:
    """The data point each response's request wrote, read from the log once the last is in."""
    worker.data_points_for(responses[-1])
    by_id = {line["request_id"]: line["points"] for line in worker.log_lines() if line.get("event") == "data_points"}
    return [point for response in responses for point in by_id[response.headers["X-Request-Id"]]]


def kv_writes(point: dict) -> float:
    return point["doubles"][1]  # METRICS_DATA_POINT's doubles: kv_reads, kv_writes, ...


def test_unknown_user_ids_cost_no_kv_write(worker):
    ids = [f"nobody-{uuid.uuid4().hex[:12]}" for _ in range(UNKNOWN_IDS)]
    first = [worker.get(f"/subscriptions/{user_id}") for user_id in ids]
    assert {response.status_code for response in first} == {404}
    assert sum(kv_writes(point) for point in data_points(worker, first)) == 0
    listed = worker.wrangler("kv", "key", "list", "--binding", "KV", "--prefix", "subscription:nobody-")
    assert not any(user_id in listed.stdout for user_id in ids)  # no KV key for any of them
    # The negative entry is kept where it costs nothing (this data center's Cache API): no D1 again.
    again = worker.get(f"/subscriptions/{ids[0]}")
    assert again.status_code == 404 and again.headers["X-Cache"] == "HIT"
    assert data_points(worker, [again])[0]["doubles"][4] == 0  # d1_queries


def test_a_subscriber_right_after_a_not_found_is_served(worker, user_id):
    assert worker.get(f"/subscriptions/{user_id}").status_code == 404  # now cached negatively
    assert worker.put(f"/subscriptions/{user_id}", {"tier": "pro"}).status_code == 201
    assert worker.get(f"/subscriptions/{user_id}").status_code == 200  # the PUT dropped the negative entry


def test_a_client_over_its_limit_gets_429_before_any_storage_access(limited_worker):
    responses = []
    for _ in range(2 * CLIENT_LIMIT_SMALL + 2):  # a window turning over mid-way starts the count again
        responses.append(limited_worker.get(f"/subscriptions/nobody-{uuid.uuid4().hex[:12]}"))
        if responses[-1].status_code == 429:
            break
    refused = responses[-1]
    assert refused.status_code == 429, [r.status_code for r in responses]
    assert refused.json()["error"]["code"] == "client_rate_limited"
    assert refused.headers["Retry-After"] == "60"
    [point] = data_points(limited_worker, [refused])
    assert point["blobs"][1] == "client_rate_limited" and set(point["doubles"][:-1]) == {0}  # no KV, no D1
    # Another client has its own budget.
    other = limited_worker.get("/tiers", token=limited_worker.local_tokens["read"])
    assert other.status_code == 200


def test_unauthenticated_and_not_found_floods_write_no_log_line_per_request(worker):
    with worker.sending(worker_env(ROUTINE_LOG_SAMPLE_RATE=0)):
        unauthenticated = [worker.get("/tiers", token=None) for _ in range(100)]
        wrong_token = [worker.get(f"/subscriptions/u{n}", token="wrong") for n in range(50)]
        not_found = [worker.get(f"/nowhere-{n}") for n in range(50)]
    flood = unauthenticated + wrong_token + not_found
    assert {r.status_code for r in unauthenticated + wrong_token} == {401}
    assert {r.status_code for r in not_found} == {404}
    points = data_points(worker, flood)
    assert len(points) == len(flood)  # every request still counted
    request_ids = {response.headers["X-Request-Id"] for response in flood}
    logged = [
        line for line in worker.log_lines() if line.get("request_id") in request_ids and line["event"] == "request"
    ]
    assert logged == []
    # At the configured rate the lines are sampled like routine ones, and say so.
    with worker.sending(worker_env(ROUTINE_LOG_SAMPLE_RATE=1)):
        sampled = worker.get("/tiers", token=None)
    assert worker.log_for(sampled)["sample_rate"] == 1


def test_made_up_methods_share_one_index_value(worker):
    methods = ["PATCH", "DELETE", "OPTIONS"]  # workerd itself answers made-up ones (FOO) with a 501
    responses = [worker.request(method, "/health", token=None) for method in methods]
    responses += [worker.request(method, "/tiers") for method in methods]
    assert {r.status_code for r in responses} == {405}
    points = data_points(worker, responses)
    assert {point["indexes"][0] for point in points} == {"OTHER /health", "OTHER /tiers"}
    assert {point["blobs"][0] for point in points} == {"OTHER /health", "OTHER /tiers"}
    # The routes' own methods keep their names.
    [head] = data_points(worker, [worker.request("HEAD", "/health", token=None)])
    assert head["indexes"] == ["HEAD /health"]
