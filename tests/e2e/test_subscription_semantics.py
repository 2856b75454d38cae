"""What a subscription's reader and writer rely on, on real workerd (issue 17): one answer for "no
active subscription" on every route, 201 with Location on a create, the ETag and the conditional
PUT (If-Match, If-None-Match: *) decided in D1 with the write, and /tiers' ETag and 304."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from guruai_cache_client import NoActiveSubscription, PreconditionFailed, WorkerClient
from infra.plan.worker import worker_plan

pytestmark = pytest.mark.e2e


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"], body
    return body


def put(worker, user_id: str, tier: str = "pro", status: str = "active", **headers: str) -> httpx.Response:
    return worker.put(f"/subscriptions/{user_id}", {"tier": tier, "status": status}, headers=headers)


def stored(worker, user_id: str) -> list[dict]:
    return worker.d1(f"SELECT tier, status FROM subscriptions WHERE user_id = '{user_id}'")


# --- no active subscription: one answer everywhere -----------------------------------------------


@pytest.mark.parametrize("status", ["canceled", "past_due", None])
def test_a_user_without_an_active_subscription_gets_404_no_active_subscription_on_every_route(worker, user_id, status):
    if status is not None:
        written = put(worker, user_id, status=status)
        # The PUT answers with the record whatever its status, and D1 keeps it.
        assert written.status_code == 201 and written.json()["status"] == status
        assert stored(worker, user_id) == [{"tier": "pro", "status": status}]
    for response in (
        worker.get(f"/subscriptions/{user_id}"),
        worker.get(f"/entitlements/{user_id}"),
        worker.post(f"/usage/{user_id}"),
    ):
        assert_error(response, 404, "no_active_subscription")
    assert worker.d1(f"SELECT * FROM usage WHERE user_id = '{user_id}'") == []  # nothing counted


def test_canceling_a_cached_subscription_makes_every_read_404(worker, user_id):
    assert put(worker, user_id).status_code == 201
    assert worker.get(f"/subscriptions/{user_id}").status_code == 200  # cached now
    assert put(worker, user_id, status="canceled").status_code == 200
    assert_error(worker.get(f"/subscriptions/{user_id}"), 404, "no_active_subscription")
    assert_error(worker.get(f"/entitlements/{user_id}"), 404, "no_active_subscription")
    assert_error(worker.post(f"/usage/{user_id}"), 404, "no_active_subscription")


# --- 201 Created, 200 OK ---------------------------------------------------------------------------


def test_put_answers_201_with_location_when_it_creates_and_200_when_it_updates(worker, user_id):
    created = put(worker, user_id)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/v1/subscriptions/{user_id}"
    updated = put(worker, user_id, tier="premium")
    assert updated.status_code == 200 and "Location" not in updated.headers
    assert updated.json()["createdAt"] == created.json()["createdAt"]
    assert updated.json()["tier"] == "premium"


# --- ETag and If-Match ---------------------------------------------------------------------------


def test_get_and_put_carry_the_same_strong_etag_for_the_same_record_and_a_new_one_after_a_write(worker, user_id):
    written = put(worker, user_id)
    etag = written.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    miss, hit = worker.get(f"/subscriptions/{user_id}"), worker.get(f"/subscriptions/{user_id}")
    assert (miss.headers["X-Cache"], hit.headers["X-Cache"]) == ("MISS", "HIT")
    assert miss.headers["ETag"] == hit.headers["ETag"] == etag
    rewritten = put(worker, user_id)  # the same tier and status: a new version all the same
    assert rewritten.headers["ETag"] != etag
    assert worker.get(f"/subscriptions/{user_id}").headers["ETag"] == rewritten.headers["ETag"]


def test_a_put_with_a_stale_if_match_is_412_writes_nothing_and_names_the_current_etag(worker, user_id):
    old = put(worker, user_id).headers["ETag"]
    current = put(worker, user_id, tier="premium").headers["ETag"]
    refused = put(worker, user_id, tier="free", **{"If-Match": old})
    assert_error(refused, 412, "precondition_failed")
    assert refused.headers["ETag"] == current
    assert stored(worker, user_id) == [{"tier": "premium", "status": "active"}]
    assert worker.get(f"/subscriptions/{user_id}").json()["tier"] == "premium"
    # The 412's ETag is the one to retry with.
    retried = put(worker, user_id, tier="free", **{"If-Match": refused.headers["ETag"]})
    assert retried.status_code == 200 and retried.json()["tier"] == "free"


@pytest.mark.parametrize(
    "if_match",
    ["{etag}", '"x", {etag}', "*"],
    ids=["its-etag", "in-a-list", "any"],
)
def test_a_put_whose_if_match_holds_writes(worker, user_id, if_match):
    etag = put(worker, user_id).headers["ETag"]
    written = put(worker, user_id, tier="premium", **{"If-Match": if_match.format(etag=etag)})
    assert written.status_code == 200, written.text
    assert stored(worker, user_id) == [{"tier": "premium", "status": "active"}]


@pytest.mark.parametrize("if_match", ['W/"{tag}"', '"garbage"', "not a tag", '"{tag}x"'])
def test_a_weak_or_foreign_if_match_never_matches(worker, user_id, if_match):
    etag = put(worker, user_id).headers["ETag"]
    refused = put(worker, user_id, tier="premium", **{"If-Match": if_match.format(tag=etag.strip('"'))})
    assert_error(refused, 412, "precondition_failed")
    assert stored(worker, user_id) == [{"tier": "pro", "status": "active"}]


def test_if_match_on_a_user_without_a_subscription_is_412_and_creates_nothing(worker, user_id):
    refused = put(worker, user_id, **{"If-Match": "*"})
    assert_error(refused, 412, "precondition_failed")
    assert "ETag" not in refused.headers
    assert stored(worker, user_id) == []


def test_if_none_match_star_creates_once_and_refuses_to_overwrite(worker, user_id):
    created = put(worker, user_id, **{"If-None-Match": "*"})
    assert created.status_code == 201, created.text
    refused = put(worker, user_id, tier="premium", **{"If-None-Match": "*"})
    assert_error(refused, 412, "precondition_failed")
    assert refused.headers["ETag"] == created.headers["ETag"]
    assert stored(worker, user_id) == [{"tier": "pro", "status": "active"}]


def test_a_conditional_put_drops_the_cached_entry_as_any_put_does(worker, user_id):
    etag = put(worker, user_id).headers["ETag"]
    assert worker.get(f"/subscriptions/{user_id}").headers["X-Cache"] == "MISS"
    assert put(worker, user_id, tier="premium", **{"If-Match": etag}).status_code == 200
    after = worker.get(f"/subscriptions/{user_id}")
    assert after.headers["X-Cache"] == "MISS" and after.json()["tier"] == "premium"


def test_of_concurrent_writers_with_one_etag_exactly_one_writes(worker, user_id):
    """Writers that all read the same version race to change it: D1 decides each PUT's If-Match in
    the statement that writes, so one wins and every other gets the 412 with the winner's ETag."""
    etag = put(worker, user_id).headers["ETag"]
    writers = 12
    tiers = ["free", "premium"] * (writers // 2)
    barrier = threading.Barrier(writers)

    def write(tier: str) -> httpx.Response:
        with httpx.Client(base_url=worker.url, timeout=30) as client:
            barrier.wait()
            return client.put(
                f"/subscriptions/{user_id}",
                json={"tier": tier},
                headers={"Authorization": f"Bearer {worker.token}", "If-Match": etag},
            )

    with ThreadPoolExecutor(writers) as pool:
        responses = list(pool.map(write, tiers))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [412] * (writers - 1), statuses
    [winner] = [response for response in responses if response.status_code == 200]
    assert {response.headers["ETag"] for response in responses} == {winner.headers["ETag"]}
    assert stored(worker, user_id) == [{"tier": winner.json()["tier"], "status": "active"}]


# --- /tiers: ETag and 304 ------------------------------------------------------------------------


def test_tiers_carry_the_catalog_version_as_etag_and_answer_a_current_copy_with_304(worker):
    first = worker.get("/tiers")
    version = worker_plan(worker.settings, "local").catalog["version"]
    assert first.status_code == 200 and first.headers["ETag"] == f'"{version}"'
    for if_none_match in (
        first.headers["ETag"],
        f"W/{first.headers['ETag']}",
        f'"other", {first.headers["ETag"]}',
        "*",
    ):
        again = worker.get("/tiers", headers={"If-None-Match": if_none_match})
        assert again.status_code == 304, (if_none_match, again.status_code)
        assert again.content == b""
        assert again.headers["ETag"] == first.headers["ETag"]
        assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    changed = worker.get("/tiers", headers={"If-None-Match": '"an-older-catalog"'})
    assert changed.status_code == 200 and changed.json() == first.json()


# --- the Python client on the real Worker --------------------------------------------------------


def test_the_client_writes_over_what_it_read_and_a_stale_version_raises_precondition_failed(worker, user_id):
    with WorkerClient(worker.url, worker.token) as client:
        created = client.set_subscription(user_id, "pro", create_only=True)
        assert created.meta.status == 201
        with pytest.raises(PreconditionFailed):
            client.set_subscription(user_id, "pro", create_only=True)
        read = client.subscription(user_id)
        assert read.meta.etag == created.meta.etag
        changed = client.set_subscription(user_id, "premium", if_match=read.meta.etag)
        assert changed.meta.status == 200 and changed.tier == "premium"
        with pytest.raises(PreconditionFailed) as stale:
            client.set_subscription(user_id, "free", if_match=read.meta.etag)
        assert stale.value.etag == changed.meta.etag
        client.set_subscription(user_id, "pro", status="canceled")
        with pytest.raises(NoActiveSubscription):
            client.subscription(user_id)


def test_the_client_revalidates_its_tiers_with_the_worker_after_max_age(worker):
    clock = [0.0]
    with WorkerClient(worker.url, worker.token, clock=lambda: clock[0]) as client:
        first = client.tiers()
        clock[0] += first.meta.max_age
        again = client.tiers()
    assert again.meta.status == 304 and again == first and again.meta.etag == first.meta.etag
