"""Faults and recovery on real workerd: KV down or refusing writes, D1 down, the rate limiter
failing, the catalog or clients binding missing or corrupt, the cron cleanup on a failing D1.

Each fault gives the documented degradation (docs/worker-api.md, "Degradation"), with its log
line, and when it clears the very next requests succeed on the same running Worker, with
nothing left behind: no stale or negative cache entry written during the fault, no usage
counted by a failed call. Bindings fail through tests/e2e/fault_worker.js (the X-Test-Fault
header, per request).
"""

from __future__ import annotations

import pytest
from local_worker import worker_env
from test_worker_api import assert_error, subscribe

from infra import worker_contract

pytestmark = pytest.mark.e2e

KV_DOWN = {"X-Test-Fault": "kv"}
D1_DOWN = {"X-Test-Fault": "d1"}


def test_kv_outage_serves_from_d1_then_recovers(faulty_worker, user_id):
    w = faulty_worker
    subscribe(w, user_id, tier="pro")
    during = w.get(f"/subscriptions/{user_id}", headers=KV_DOWN)
    assert during.status_code == 200 and during.json()["tier"] == "pro" and during.headers["X-Cache"] == "BYPASS"
    line = w.log_for(during)
    assert line["cache"] == "bypass" and "injected KV failure" in line["kv_error"]
    assert line["ops"]["d1_queries"] == 1 and line["ops"]["kv_writes"] == 0  # no write attempt to a failing KV
    tiers = w.get("/tiers", headers=KV_DOWN)  # the tiers are a binding, not KV
    assert tiers.status_code == 200 and set(tiers.json()) == {t.name for t in w.settings.tiers}
    # Usage reads the subscription from D1 and the limit from the catalog: served and counted.
    used = w.post(f"/usage/{user_id}", headers=KV_DOWN)
    assert used.status_code == 200 and used.json()["used"] == 1
    assert w.log_for(used)["outcome"] == "usage_post_allowed_degraded"
    entitled = w.get(f"/entitlements/{user_id}", headers=KV_DOWN)
    assert entitled.status_code == 200 and entitled.headers["X-Cache"] == "BYPASS" and entitled.json()["used"] == 1
    # A PUT writes D1; the cached entry cannot be dropped, but none was written during the outage.
    put = w.put(f"/subscriptions/{user_id}", {"tier": "premium"}, headers=KV_DOWN)
    assert put.status_code == 200 and w.log_for(put)["outcome"] == "subscription_put_degraded"

    first, second = w.get(f"/subscriptions/{user_id}"), w.get(f"/subscriptions/{user_id}")
    assert (first.status_code, first.headers["X-Cache"], second.headers["X-Cache"]) == (200, "MISS", "HIT")
    assert first.json()["tier"] == second.json()["tier"] == "premium"
    used = w.post(f"/usage/{user_id}")
    assert used.status_code == 200 and used.json()["used"] == 2


def test_d1_outage_leaves_entitlements_answered_while_the_count_in_memory_is_fresh(faulty_worker, user_id):
    w = faulty_worker
    subscribe(w, user_id, tier="pro")
    w.get(f"/subscriptions/{user_id}")  # cached
    assert w.post(f"/usage/{user_id}").json()["used"] == 1  # counted here: in memory
    during = w.get(f"/entitlements/{user_id}", headers=D1_DOWN)
    assert during.status_code == 200 and during.json()["used"] == 1 and during.headers["X-Cache"] == "HIT"
    stale = {**D1_DOWN, **worker_env(ENTITLEMENTS_COUNT_MAX_AGE=0)}  # as once the max age has passed
    assert_error(w.get(f"/entitlements/{user_id}", headers=stale), 503, "database_unavailable")


def test_d1_outage_keeps_cached_reads_then_recovers(faulty_worker, user_id):
    w = faulty_worker
    cached, uncached = user_id, f"{user_id}-b"
    subscribe(w, cached, tier="pro")
    subscribe(w, uncached, tier="pro")
    assert w.get(f"/subscriptions/{cached}").headers["X-Cache"] == "MISS"

    hit = w.get(f"/subscriptions/{cached}", headers=D1_DOWN)  # KV answers: D1 is not asked
    assert hit.status_code == 200 and hit.headers["X-Cache"] == "HIT" and hit.json()["tier"] == "pro"
    refused = [
        w.get(f"/subscriptions/{uncached}", headers=D1_DOWN),
        w.put(f"/subscriptions/{cached}", {"tier": "premium"}, headers=D1_DOWN),
        w.post(f"/usage/{cached}", headers=D1_DOWN),
    ]
    for response in refused:
        assert_error(response, 503, "database_unavailable")
        assert "injected D1 failure" in w.log_for(response)["d1_error"]
    # No count in this Worker's memory (no use counted here yet): it must ask D1.
    assert_error(w.get(f"/entitlements/{cached}", headers=D1_DOWN), 503, "database_unavailable")
    assert w.get("/tiers", headers=D1_DOWN).status_code == 200  # the binding only

    # Nothing from the outage stays: no negative entry for the uncached user, the failed PUT
    # changed nothing (the cached record is still served), the failed usage call not counted.
    after = w.get(f"/subscriptions/{uncached}")
    assert after.status_code == 200 and after.headers["X-Cache"] == "MISS" and after.json()["tier"] == "pro"
    assert w.get(f"/subscriptions/{cached}").json()["tier"] == "pro"
    assert w.post(f"/usage/{cached}").json()["used"] == 1
    assert subscribe(w, cached, tier="premium")["tier"] == "premium"
    assert w.get(f"/subscriptions/{cached}").json()["tier"] == "premium"


CORRUPT_CATALOGS = {
    "not-json": "{tiers",
    "array": '[{"name": "pro", "dailyRequestLimit": 1000}]',
    "string": '"pro"',
    "null": "null",
    "no-tiers": '{"tiers": {}, "flags": {}, "fallbackTier": "pro"}',
    "tier-not-an-object": '{"tiers": {"pro": "1000 a day"}, "flags": {}, "fallbackTier": "pro"}',
    "limit-not-an-integer": '{"tiers": {"pro": {"dailyRequestLimit": "1000"}}, "flags": {}, "fallbackTier": "pro"}',
    "limit-zero": '{"tiers": {"pro": {"dailyRequestLimit": 0}}, "flags": {}, "fallbackTier": "pro"}',
    "fallback-unknown": '{"tiers": {"pro": {"dailyRequestLimit": 5}}, "flags": {}, "fallbackTier": "gold"}',
    "flag-tiers-not-a-list": '{"tiers": {"pro": {"dailyRequestLimit": 5}}, "flags": {"x": {"tiers": "pro"}}, "fallbackTier": "pro"}',
}


def test_missing_or_corrupt_catalog_is_a_503_then_recovers(faulty_worker, user_id):
    """A Worker deployed with a broken CATALOG binding (by hand: `pulumi up` validates it) refuses
    what needs the tiers, serves the rest, and counts nothing; the next good request succeeds."""
    w = faulty_worker
    subscribe(w, user_id, tier="pro")
    assert w.get(f"/subscriptions/{user_id}").status_code == 200  # cached
    for name, value in [("missing", None), *CORRUPT_CATALOGS.items()]:
        fault = (
            {"X-Test-Fault": "catalog-missing"}
            if value is None
            else {"X-Test-Fault": "catalog-invalid", "X-Test-Catalog": value}
        )
        code = "tier_config_missing" if value is None else "tier_config_invalid"
        body = assert_error(w.get("/tiers", headers=fault), 503, code)
        if value is None:  # the fix, for whoever deployed without it
            assert "pulumi up" in body["error"]["message"] and "guruai-cache local" in body["error"]["message"]
        assert_error(w.put(f"/subscriptions/{user_id}", {"tier": "premium"}, headers=fault), 503, code)
        assert_error(w.post(f"/usage/{user_id}", headers=fault), 503, code)
        assert_error(w.get(f"/entitlements/{user_id}", headers=fault), 503, code)
        got = w.get(f"/subscriptions/{user_id}", headers=fault)  # subscription reads do not need the tiers
        assert got.status_code == 200 and got.json()["tier"] == "pro", name
    assert w.get("/tiers").json() == worker_contract.tiers_document(w.settings.tiers)
    assert subscribe(w, user_id, tier="premium")["tier"] == "premium"
    used = w.post(f"/usage/{user_id}")
    assert used.status_code == 200 and used.json()["used"] == 1  # none of the refused calls counted


@pytest.mark.parametrize("fault,code", [("clients-missing", "clients_unset"), ("clients-invalid", "clients_invalid")])
def test_missing_or_corrupt_clients_is_a_503_for_every_authenticated_route(faulty_worker, fault, code):
    body = assert_error(faulty_worker.get("/tiers", headers={"X-Test-Fault": fault}), 503, code)
    assert "clients" in body["error"]["message"]
    assert faulty_worker.get("/health", headers={"X-Test-Fault": fault}, token=None).status_code == 200
    assert faulty_worker.get("/tiers").status_code == 200


def test_a_failed_invalidation_still_answers_with_the_written_record(faulty_worker, user_id):
    response = faulty_worker.put(f"/subscriptions/{user_id}", {"tier": "pro"}, headers={"X-Test-Fault": "kv-write"})
    assert response.status_code == 201 and response.json()["tier"] == "pro"
    assert faulty_worker.log_for(response)["outcome"] == "subscription_put_new_degraded"


def test_a_failing_rate_limiter_lets_usage_through(faulty_worker, user_id):
    subscribe(faulty_worker, user_id)
    response = faulty_worker.post(f"/usage/{user_id}", headers={"X-Test-Fault": "ratelimiter"})
    assert response.status_code == 200 and response.json()["allowed"] is True


def test_a_failing_cleanup_is_logged_and_reported_as_failed(faulty_worker):
    """The fault wrapper's scheduled handler runs the real cleanup on a failing D1."""
    before = len(faulty_worker.log_lines())
    response = faulty_worker.get("/__scheduled?cron=0+3+*+*+*", token=None, legacy=True)
    assert response.status_code >= 500  # the cron run counts as failed, not silently done
    line = faulty_worker.wait_for_log(lambda line: line.get("event") == "scheduled", "the failed cleanup", after=before)
    assert line["outcome"] == "scheduled_cleanup_failed" and "injected D1 failure" in line["error"]


def test_an_unexpected_failure_is_a_500_in_the_one_error_shape_naming_its_request(faulty_worker):
    """The contract's 500 `internal_error`: the request id in the message and the error object,
    the detail in the log line only, and the headers every answer has."""
    response = faulty_worker.get("/tiers", headers={"X-Test-Fault": "unexpected"})
    body = assert_error(response, 500, "internal_error")
    request_id = response.headers["X-Request-Id"]
    assert request_id in body["error"]["message"] and "injected" not in response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff" and response.headers["Cache-Control"] == "no-store"
    line = faulty_worker.log_for(response)
    assert line["outcome"] == "internal_error" and "injected unexpected failure" in line["error"]
