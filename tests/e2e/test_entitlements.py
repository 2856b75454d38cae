"""GET /entitlements/:userId on real workerd: features by tier and flag, the cached subscription
with today's count as this Worker read or counted it (and how old it is), invalidation, and a
subscription whose tier is no longer configured."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from local_worker import ENTITLEMENTS_COUNT_MAX_AGE, SMALL_TIER, worker_env
from test_worker_api import assert_error, subscribe

pytestmark = pytest.mark.e2e
SKEW = dt.timedelta(seconds=1)  # the Worker's clock against the test's (one machine; ms apart)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def expected_features(settings, tier_name: str) -> list[str]:
    """The tier's features, plus each enabled flag whose tiers include the tier (or that has none)."""
    tier = next(t for t in settings.tiers if t.name == tier_name)
    flags = {
        name
        for name, flag in settings.feature_flags.items()
        if flag.enabled and (flag.tiers is None or tier_name in flag.tiers)
    }
    return sorted(set(tier.features) | flags)


@pytest.mark.parametrize("tier", ["free", "pro", "premium", SMALL_TIER["name"]])
def test_features_are_the_tiers_plus_the_enabled_flags_for_it(worker, user_id, tier):
    subscribe(worker, user_id, tier=tier)
    body = worker.get(f"/entitlements/{user_id}").json()
    assert body["features"] == expected_features(worker.settings, tier)
    assert body["tier"] == body["effectiveTier"] == tier
    assert body["limit"] == next(t.daily_request_limit for t in worker.settings.tiers if t.name == tier)
    assert "retired-search" not in body["features"]  # a disabled flag gives nothing
    assert ("starter-tour" in body["features"]) == (tier == SMALL_TIER["name"])  # a flag for one tier
    assert ("ai-answers-v2" in body["features"]) == (tier in ("pro", "premium"))


def as_of(response) -> dt.datetime:
    return dt.datetime.fromisoformat(response.json()["usageAsOf"])


def test_cached_like_a_subscription_with_the_count_this_worker_read_or_counted(worker, user_id):
    subscribe(worker, user_id, tier=SMALL_TIER["name"])
    before = dt.datetime.now(dt.UTC)
    first = worker.get(f"/entitlements/{user_id}")
    assert first.headers["X-Cache"] == "MISS" and first.json()["used"] == 0
    assert first.json()["remaining"] == SMALL_TIER["dailyRequestLimit"]
    assert worker.log_for(first)["usage_count"] == "d1" and before - SKEW <= as_of(first) <= now() + SKEW
    for _ in range(3):
        assert worker.post(f"/usage/{user_id}").status_code == 200
    counted = now()
    hit = worker.get(f"/entitlements/{user_id}")
    assert hit.headers["X-Cache"] == "HIT"
    # This Worker counted the uses itself: its answer has them, without asking D1.
    assert (hit.json()["used"], hit.json()["remaining"]) == (3, SMALL_TIER["dailyRequestLimit"] - 3)
    line = worker.log_for(hit)
    assert line["usage_count"] == "memory" and line["ops"]["d1_queries"] == 0 and line["ops"]["kv_reads"] == 1
    assert as_of(first) < as_of(hit) <= counted + SKEW  # as of the last use counted
    assert hit.json()["resetsAt"] == worker.post(f"/usage/{user_id}").json()["resetsAt"]
    assert hit.headers["Cache-Control"] == "no-store"  # it changes with every usage call


def test_a_count_from_another_worker_arrives_within_the_max_age_and_the_answer_says_how_old(
    worker, faulty_worker, user_id
):
    """Two isolates (two `wrangler dev`s on one D1): a use the other counts is in this one's
    answer once its count is older than ENTITLEMENTS_COUNT_MAX_AGE; until then `usageAsOf` says
    it is the earlier count. POST /usage is exact all along."""
    subscribe(worker, user_id)
    read = worker.get(f"/entitlements/{user_id}")
    assert read.json()["used"] == 0 and worker.log_for(read)["usage_count"] == "d1"
    assert faulty_worker.post(f"/usage/{user_id}").json()["used"] == 1  # counted by the other Worker
    stale = worker.get(f"/entitlements/{user_id}")
    assert (stale.json()["used"], as_of(stale)) == (0, as_of(read))  # not yet here, and it says so
    assert worker.log_for(stale)["usage_count"] == "memory"
    time.sleep(max(0.0, (as_of(read) - now()).total_seconds()) + ENTITLEMENTS_COUNT_MAX_AGE + 0.2)
    fresh = worker.get(f"/entitlements/{user_id}")
    assert fresh.json()["used"] == 1 and as_of(fresh) > as_of(read)
    assert worker.log_for(fresh)["usage_count"] == "d1"
    assert worker.post(f"/usage/{user_id}").json()["used"] == 2  # the exact count, whatever memory held


def test_a_max_age_of_0_reads_the_count_every_time(worker, user_id):
    subscribe(worker, user_id)
    worker.post(f"/usage/{user_id}")
    live = worker.get(f"/entitlements/{user_id}", headers=worker_env(ENTITLEMENTS_COUNT_MAX_AGE=0))
    assert live.json()["used"] == 1 and worker.log_for(live)["usage_count"] == "d1"


def test_a_refused_use_drops_the_count_so_the_next_answer_reads_it(worker, user_id):
    subscribe(worker, user_id, tier=SMALL_TIER["name"])
    for _ in range(SMALL_TIER["dailyRequestLimit"]):
        worker.post(f"/usage/{user_id}")
    assert worker.post(f"/usage/{user_id}").status_code == 429
    after = worker.get(f"/entitlements/{user_id}")
    assert after.json()["remaining"] == 0 and worker.log_for(after)["usage_count"] == "d1"


def test_a_put_invalidates_the_entitlements_too(worker, user_id):
    subscribe(worker, user_id, tier="free")
    worker.get(f"/entitlements/{user_id}")
    assert worker.get(f"/entitlements/{user_id}").headers["X-Cache"] == "HIT"
    subscribe(worker, user_id, tier="premium")
    after = worker.get(f"/entitlements/{user_id}")
    assert after.headers["X-Cache"] == "MISS" and after.json()["tier"] == "premium"
    assert after.json()["features"] == expected_features(worker.settings, "premium")


def test_no_active_subscription_is_a_404_cached_negatively(worker, user_id):
    first = worker.get(f"/entitlements/{user_id}")
    assert_error(first, 404, "no_active_subscription")
    second = worker.get(f"/entitlements/{user_id}")
    assert_error(second, 404, "no_active_subscription")
    assert second.headers["X-Cache"] == "HIT" and worker.log_for(second)["ops"]["d1_queries"] == 0
    subscribe(worker, user_id, status="canceled")
    assert_error(worker.get(f"/entitlements/{user_id}"), 404, "no_active_subscription")


def test_a_tier_no_longer_configured_gets_the_fallback_tier_not_a_503(worker, user_id):
    """A row whose tier a deploy removed (written straight into D1, as the old deploy left it)."""
    worker.d1(
        "INSERT INTO subscriptions (user_id, tier, status, created_at, updated_at) "
        f"VALUES ('{user_id}', 'gold', 'active', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
    )
    fallback = worker.settings.effective_fallback_tier
    limit = next(t.daily_request_limit for t in worker.settings.tiers if t.name == fallback)
    entitled = worker.get(f"/entitlements/{user_id}")
    assert entitled.status_code == 200, entitled.text
    body = entitled.json()
    assert (body["tier"], body["effectiveTier"], body["limit"]) == ("gold", fallback, limit)
    assert body["features"] == expected_features(worker.settings, fallback)
    assert worker.log_for(entitled)["tier_fallback"] == {"tier": "gold", "applied": fallback}
    used = worker.post(f"/usage/{user_id}")
    assert used.status_code == 200 and used.json()["effectiveTier"] == fallback and used.json()["limit"] == limit
    assert worker.get(f"/subscriptions/{user_id}").json()["tier"] == "gold"  # the record itself is unchanged
    assert_error(worker.put(f"/subscriptions/{user_id}", {"tier": "gold"}), 400, "unknown_tier")  # no new ones
