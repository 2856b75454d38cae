"""Faults and recovery on real workerd: KV down, D1 down, the catalog or clients binding missing or corrupt.

Each fault gives the documented degradation (docs/worker-api.md, "Degradation"), and when it clears
the very next requests succeed on the same running Worker, with nothing left behind: no
stale or negative cache entry written during the fault, no usage counted by a failed call.
test_worker_api.py checks each fault's first answer; these check the whole episode.
Bindings fail through tests/e2e/fault_worker.js (the X-Test-Fault header, per request).
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
    assert w.get("/tiers", headers=KV_DOWN).status_code == 200  # the tiers are a binding, not KV
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
    assert_error(w.get(f"/subscriptions/{uncached}", headers=D1_DOWN), 503, "database_unavailable")
    assert_error(w.put(f"/subscriptions/{cached}", {"tier": "premium"}, headers=D1_DOWN), 503, "database_unavailable")
    assert_error(w.post(f"/usage/{cached}", headers=D1_DOWN), 503, "database_unavailable")
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
        assert_error(w.get("/tiers", headers=fault), 503, code)
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
