"""Faults and recovery on real workerd: KV down, D1 down, config:tiers missing or corrupt.

Each fault gives the documented degradation (docs/worker-api.md, "Degradation"), and when it clears
the very next requests succeed on the same running Worker, with nothing left behind: no
stale or negative cache entry written during the fault, no usage counted by a failed call.
test_worker_api.py checks each fault's first answer; these check the whole episode.
KV and D1 fail through tests/e2e/fault_worker.js (the X-Test-Fault header, per request);
the tier config is broken for real, in the local KV, and re-seeded.
"""

from __future__ import annotations

import pytest
from test_worker_api import assert_error, subscribe

from infra import worker_contract
from infra.tools import local

pytestmark = pytest.mark.e2e

KV_DOWN = {"X-Test-Fault": "kv"}
D1_DOWN = {"X-Test-Fault": "d1"}


def test_kv_outage_serves_from_d1_then_recovers(faulty_worker, user_id):
    w = faulty_worker
    subscribe(w, user_id, tier="pro")
    during = w.get(f"/subscriptions/{user_id}", headers=KV_DOWN)
    assert during.status_code == 200 and during.json()["tier"] == "pro" and during.headers["X-Cache"] == "BYPASS"
    assert_error(w.get("/tiers", headers=KV_DOWN), 503, "tier_config_unavailable")
    # Usage needs the tier's limit, which lives in KV: refused, and not counted.
    assert_error(w.post(f"/usage/{user_id}", headers=KV_DOWN), 503, "tier_config_unavailable")
    # A PUT checks its tier against KV first: refused, and D1 keeps the old record.
    assert_error(
        w.put(f"/subscriptions/{user_id}", {"tier": "premium"}, headers=KV_DOWN), 503, "tier_config_unavailable"
    )

    first, second = w.get(f"/subscriptions/{user_id}"), w.get(f"/subscriptions/{user_id}")
    assert (first.status_code, first.headers["X-Cache"], second.headers["X-Cache"]) == (200, "MISS", "HIT")
    assert first.json()["tier"] == second.json()["tier"] == "pro"
    assert w.get("/tiers").status_code == 200
    used = w.post(f"/usage/{user_id}")
    assert used.status_code == 200 and used.json()["used"] == 1  # the refused call was not counted


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
    assert w.get("/tiers", headers=D1_DOWN).status_code == 200  # KV only

    # Nothing from the outage stays: no negative entry for the uncached user, the failed PUT
    # changed nothing (the cached record is still served), the failed usage call not counted.
    after = w.get(f"/subscriptions/{uncached}")
    assert after.status_code == 200 and after.headers["X-Cache"] == "MISS" and after.json()["tier"] == "pro"
    assert w.get(f"/subscriptions/{cached}").json()["tier"] == "pro"
    assert w.post(f"/usage/{cached}").json()["used"] == 1
    assert subscribe(w, cached, tier="premium")["tier"] == "premium"
    assert w.get(f"/subscriptions/{cached}").json()["tier"] == "premium"


CORRUPT_TIERS = {
    "not-json": "{tiers",
    "array": '[{"name": "pro", "dailyRequestLimit": 1000}]',
    "string": '"pro"',
    "null": "null",
    "empty": "{}",
    "tier-not-an-object": '{"pro": "1000 a day"}',
    "limit-not-an-integer": '{"pro": {"name": "pro", "dailyRequestLimit": "1000"}}',
    "limit-zero": '{"pro": {"name": "pro", "dailyRequestLimit": 0}}',
}


def test_missing_or_corrupt_tier_config_is_a_503_then_recovers_when_reseeded(worker, user_id):
    subscribe(worker, user_id, tier="pro")
    assert worker.get(f"/subscriptions/{user_id}").status_code == 200  # cached
    try:
        for name, value in [("missing", None), *CORRUPT_TIERS.items()]:
            if value is None:
                worker.wrangler("kv", "key", "delete", worker_contract.TIERS_KEY, "--binding", "KV")
            else:
                worker.wrangler("kv", "key", "put", worker_contract.TIERS_KEY, value, "--binding", "KV")
            code = "tier_config_missing" if value is None else "tier_config_invalid"
            body = assert_error(worker.get("/tiers"), 503, code)
            assert "guruai-cache local" in body["error"]["message"], name
            assert_error(worker.put(f"/subscriptions/{user_id}", {"tier": "premium"}), 503, code)
            assert_error(worker.post(f"/usage/{user_id}"), 503, code)
            got = worker.get(f"/subscriptions/{user_id}")  # subscription reads do not need the tiers
            assert got.status_code == 200 and got.json()["tier"] == "pro", name
    finally:
        local.seed_kv(worker.project, worker.settings)
    assert worker.get("/tiers").json() == worker_contract.tiers_document(worker.settings.tiers)
    assert subscribe(worker, user_id, tier="premium")["tier"] == "premium"
    used = worker.post(f"/usage/{user_id}")
    assert used.status_code == 200 and used.json()["used"] == 1  # none of the refused calls counted
