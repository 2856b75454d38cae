"""When a limit is reached: the day growth crosses a free limit, the D1 database full, and the
free plan's KV writes running out during the day (every lookup then reads D1)."""

import pytest
from cost_cases import DAY_S, GUIDE, daily, settings_with, small_app
from pulumi_mocks import run_program

from infra.cost import estimate as cost


def test_the_first_limit_day_is_the_first_day_growth_crosses_a_limit(table):
    growing = {**small_app(1), "monthlyUserGrowth": 0.1}
    settings = settings_with(growing)
    hit = cost.estimate(settings, table).first_limit_hit
    assert hit is not None and hit.day > 0

    def crossed_on(day):
        users = round(1_000 * 1.1 ** (day / 30))
        return cost.estimate(settings_with({**growing, "activeUsers": users}), table).over_free_limits

    assert crossed_on(hit.day) and not crossed_on(hit.day - 1)
    assert hit.active_users == round(1_000 * 1.1 ** (hit.day / 30))
    assert hit.label in {m.label for m in crossed_on(hit.day)}


def test_without_growth_traffic_within_the_limits_never_hits_one(table):
    assert cost.estimate(settings_with(small_app(1)), table).first_limit_hit is None


def d1_bytes(users, retention_days=35, usage_calls=1):
    """What the model stores in D1 for `users` active users (all subscribed, each using the API daily):
    their subscriptions, usage rows, and each call's Idempotency-Key, kept its day-long window and
    up to a day more until the daily cron deletes it."""
    return users * (
        cost.SUBSCRIPTION_ROW_BYTES
        + min(1, usage_calls) * retention_days * cost.USAGE_ROW_BYTES
        + usage_calls * 2 * cost.KEY_ROW_BYTES
    )


def test_on_workers_paid_the_day_the_database_reaches_10_gb_is_named(table, logged):
    # 1 M users x (200 + 35 x 100 + 2 x 250) bytes = 4.2 GB today; +10 % users a month crosses 10 GB later.
    growing = {"activeUsers": 1_000_000, "usageCallsPerUserPerDay": 1, "monthlyUserGrowth": 0.1, "workersPlan": "paid"}
    result = cost.estimate(settings_with(growing), table)
    full = result.database_full
    assert full is not None and full.label == "D1 database size (10 GB per database on Workers Paid)"
    assert d1_bytes(cost.users_on_day(settings_with(growing).traffic, full.day)) > 10e9
    assert d1_bytes(cost.users_on_day(settings_with(growing).traffic, full.day - 1)) <= 10e9
    assert full.active_users == cost.users_on_day(settings_with(growing).traffic, full.day)
    assert result.to_json()["databaseFull"] == {"day": full.day, "limit": full.label, "activeUsers": full.active_users}
    run_program("prod", {"traffic": growing}, dry_run=True)
    assert any(f"the D1 database reaches its limit on day {full.day}" in w for w in logged["warn"])


def test_a_database_that_stays_small_is_never_full(table):
    assert cost.estimate(settings_with({"workersPlan": "paid"}), table).database_full is None


def test_on_the_free_plan_the_database_is_full_at_500_mb(table):
    result = cost.estimate(settings_with({"activeUsers": 200_000, "usageCallsPerUserPerDay": 1}), table)
    assert d1_bytes(200_000) > 500e6
    assert result.database_full is not None and result.database_full.day == 0
    assert (
        "500 MB" not in result.database_full.label
        and "0.5 GB per database on Workers Free" in result.database_full.label
    )


def test_once_kv_writes_run_out_every_lookup_reads_d1_for_the_rest_of_the_day(table, logged):
    traffic = {**GUIDE, "cacheHitRatio": 0.9}
    free, paid = (cost.estimate(settings_with({**traffic, "workersPlan": plan}), table) for plan in ("free", "paid"))
    assert paid.kv_fallback is None  # Paid bills the extra writes instead of refusing them
    fallback = free.kv_fallback
    assert fallback is not None and cost.utc_clock(fallback.after_s) == "02:24"
    assert daily(free, "d1_rows_read") - daily(paid, "d1_rows_read") == pytest.approx(fallback.extra["d1_rows_read"])
    assert fallback.extra["d1_rows_read"] == pytest.approx(90_000 * (1 - 0.1))  # 90 % of the day's 90,000 hits
    assert free.to_json()["kvFallback"]["fromUtc"] == "02:24"
    run_program("prod", {"traffic": traffic}, dry_run=True)
    assert any("from 02:24 UTC, with the KV writes gone, the Worker caches nothing" in w for w in logged["warn"])


def test_no_fallback_while_kv_fits_the_free_plan(table):
    assert cost.estimate(settings_with(small_app(1)), table).kv_fallback is None


def test_lookups_of_users_without_a_subscription_cost_no_kv_write(table):
    """Their negative entries live in the Cache API: unknown ids never use up KV's daily writes."""
    traffic = {
        "activeUsers": 10_000,
        "subscriptionChecksPerUserPerDay": 0,
        "subscriptionUpdatesPerDay": 0,
        "entitlementsChecksPerUserPerDay": 10,
        "unsubscribedShare": 1.0,
        "lapsedShare": 1.0,
    }
    result = cost.estimate(settings_with(traffic), table)
    assert daily(result, "kv_writes") == 0 and result.kv_fallback is None


def test_the_kv_fallback_counts_entitlements_of_users_without_a_subscription_too(table):
    """Once KV reads run out, a cached 'no subscription' for entitlements misses like any other."""
    traffic = {
        "activeUsers": 20_000,
        "subscriptionChecksPerUserPerDay": 0,
        "subscriptionUpdatesPerDay": 0,
        "entitlementsChecksPerUserPerDay": 10,
        "unsubscribedShare": 1.0,
        "lapsedShare": 1.0,
    }
    result = cost.estimate(settings_with(traffic), table)
    fallback = result.kv_fallback
    assert fallback is not None and "KV reads" in fallback.cause
    served = fallback.after_s / DAY_S
    negative_hits = result.requests["entitlements_get_negative_hit"]
    per_miss = table["entitlements_get_not_found_lapsed"]["d1_rows_read"]
    assert per_miss == 1 and fallback.extra["d1_rows_read"] == pytest.approx((1 - served) * negative_hits * per_miss)
