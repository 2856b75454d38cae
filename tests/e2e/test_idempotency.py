"""POST /usage with an Idempotency-Key on real workerd: a use is counted once, however often it is sent."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from local_worker import BURST_LIMIT, CLIENT_TOKENS, SMALL_TIER, worker_env

pytestmark = pytest.mark.e2e


def subscribe(worker, user_id: str, tier: str = "pro") -> None:
    response = worker.put(f"/subscriptions/{user_id}", {"tier": tier, "status": "active"})
    assert response.status_code in (200, 201), response.text


def count(worker, user_id: str) -> int:
    rows = worker.d1(f"SELECT count FROM usage WHERE user_id = '{user_id}'")
    return rows[0]["count"] if rows else 0


def keyed(key: str, **variables: object) -> dict[str, str]:
    return {"Idempotency-Key": key, **(worker_env(**variables) if variables else {})}


def test_a_replay_returns_the_stored_answer_and_counts_nothing(worker, user_id):
    subscribe(worker, user_id)
    key = str(uuid.uuid4())
    first = worker.post(f"/usage/{user_id}", headers=keyed(key))
    other = worker.post(f"/usage/{user_id}")  # another use in between: the replay still says "used 1"
    replay = worker.post(f"/usage/{user_id}", headers=keyed(key))
    assert first.status_code == replay.status_code == 200
    assert first.json()["used"] == 1 and other.json()["used"] == 2
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert replay.headers[name] == first.headers[name]
    assert count(worker, user_id) == 2
    assert worker.log_for(replay)["outcome"] == "usage_post_allowed_replayed"


def test_concurrent_requests_with_one_key_count_once(worker, user_id):
    concurrent = 20
    assert concurrent < BURST_LIMIT  # only the key is at play here
    subscribe(worker, user_id)
    worker.get(f"/subscriptions/{user_id}")  # cached: the requests meet at D1 together
    key = str(uuid.uuid4())
    start = threading.Barrier(concurrent)
    with httpx.Client(base_url=worker.api_url, timeout=60, limits=httpx.Limits(max_connections=concurrent)) as client:

        def one_use(_):
            start.wait()
            return client.post(
                f"/usage/{user_id}", headers={"Authorization": f"Bearer {worker.token}", "Idempotency-Key": key}
            )

        with ThreadPoolExecutor(max_workers=concurrent) as pool:
            responses = list(pool.map(one_use, range(concurrent)))
    assert [r.status_code for r in responses] == [200] * concurrent
    assert {r.json()["used"] for r in responses} == {1}
    assert sum("Idempotent-Replayed" not in r.headers for r in responses) == 1  # one counted, the rest replayed
    assert count(worker, user_id) == 1


def test_a_refused_use_is_replayed_as_refused(worker, user_id):
    limit = SMALL_TIER["dailyRequestLimit"]
    subscribe(worker, user_id, tier=SMALL_TIER["name"])
    window = worker.settings.usage_window_seconds
    worker.d1(f"INSERT INTO usage VALUES ({int(time.time()) // window * window}, '{user_id}', {limit})")
    key = str(uuid.uuid4())
    first = worker.post(f"/usage/{user_id}", headers=keyed(key))
    replay = worker.post(f"/usage/{user_id}", headers=keyed(key))
    assert first.status_code == replay.status_code == 429
    # The same answer, but for the request id (each request has its own, in its X-Request-Id too).
    first_error, replay_error = first.json()["error"], replay.json()["error"]
    assert first_error.pop("requestId") != replay_error.pop("requestId")
    assert first_error == replay_error and first_error["code"] == "daily_limit_exceeded"
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert count(worker, user_id) == limit


def test_a_replay_after_the_window_counts_again_and_the_cron_deletes_old_keys(worker, user_id):
    subscribe(worker, user_id)
    key = str(uuid.uuid4())
    first = worker.post(f"/usage/{user_id}", headers=keyed(key))
    within = worker.post(f"/usage/{user_id}", headers=keyed(key, IDEMPOTENCY_WINDOW_SECONDS=3600))
    assert within.headers.get("Idempotent-Replayed") == "true"
    time.sleep(2.1)  # the key is now older than a 1 s window
    after = worker.post(f"/usage/{user_id}", headers=keyed(key, IDEMPOTENCY_WINDOW_SECONDS=1))
    assert (first.json()["used"], after.json()["used"]) == (1, 2)
    assert "Idempotent-Replayed" not in after.headers
    assert count(worker, user_id) == 2
    # The cron (at the default window, a day) keeps today's key and deletes one a day older.
    worker.d1(
        f"INSERT INTO usage_keys (key, fingerprint, owner, created_at, window_start, used_before, used, limit_value, tier, effective_tier) VALUES ('{user_id}-old', 'x', 'x', {int(time.time()) - 86400 - 60}, 0, 0, 1, 1, 'pro', 'pro')"
    )
    response = worker.get(f"/__scheduled?cron={worker.settings.cron.replace(' ', '+')}", token=None, legacy=True)
    assert response.status_code == 200
    worker.wait_for_log(
        lambda line: line.get("event") == "scheduled" and line.get("deleted_keys", 0) >= 1, "the cleanup"
    )
    left = worker.d1(f"SELECT key FROM usage_keys WHERE key IN ('{key}', '{user_id}-old')")
    assert left == [{"key": key}]


def test_a_key_reused_for_another_user_or_client_is_refused_and_counts_nothing(worker, user_id):
    other_user = f"{user_id}-b"
    subscribe(worker, user_id)
    subscribe(worker, other_user)
    key = str(uuid.uuid4())
    assert worker.post(f"/usage/{user_id}", headers=keyed(key)).status_code == 200
    for response in (
        worker.post(f"/usage/{other_user}", headers=keyed(key)),
        worker.post(f"/usage/{user_id}", headers=keyed(key), token=CLIENT_TOKENS["app-a"]),
    ):
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert (count(worker, user_id), count(worker, other_user)) == (1, 0)


@pytest.mark.parametrize("key", ["", "a" * 256, "has space", "tab\tinside"])
def test_a_malformed_key_is_refused_before_anything_counts(worker, user_id, key):
    subscribe(worker, user_id)
    response = worker.post(f"/usage/{user_id}", headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert count(worker, user_id) == 0
