"""The parts of the model: traffic settings into requests per outcome (hits, misses, negative
and lapsed lookups, usage, entitlements, cron runs), the hit ratios, and the usage rows kept."""

import pytest
from cost_cases import GUIDE, daily, meter, settings_with, small_app

from infra.cost import estimate as cost
from infra.cost import operations
from infra.settings.traffic import Traffic


def test_unsubscribed_users_take_the_negative_cache_paths():
    traffic = Traffic(
        active_users=100,
        subscription_checks_per_user_per_day=10,
        cache_hit_ratio=0.8,
        unsubscribed_share=0.25,
        lapsed_share=0.4,
    )
    requests = cost.requests_per_day(traffic, "0 3 * * *", subscription_ttl_s=300)
    negative = cost.negative_hit_ratio(0.8, 300)
    assert requests["subscription_get_hit"] == pytest.approx(1_000 * 0.75 * 0.8)
    assert requests["subscription_get_miss"] == pytest.approx(1_000 * 0.75 * 0.2)
    assert requests["subscription_get_negative_hit"] == pytest.approx(1_000 * 0.25 * negative)
    assert requests["subscription_get_not_found"] == pytest.approx(1_000 * 0.25 * (1 - negative) * 0.6)
    assert requests["subscription_get_not_found_lapsed"] == pytest.approx(1_000 * 0.25 * (1 - negative) * 0.4)


def test_negative_entries_live_60_s_so_they_hit_less_than_subscriptions():
    # 0.9 over 300 s means 9 lookups per 300 s in a session; over 60 s that is 1.8: 1.8 / 2.8 = 64 %.
    assert cost.negative_hit_ratio(0.9, 300) == pytest.approx(1.8 / 2.8)
    assert cost.negative_hit_ratio(0.9, 60) == pytest.approx(0.9)  # the same life, the same ratio
    assert cost.negative_hit_ratio(1.0, 300) == 1.0 and cost.negative_hit_ratio(0.0, 300) == 0.0
    # The KV writes that refill them follow: unsubscribed lookups miss 36 %, not 10 %.
    traffic = {**GUIDE, "unsubscribedShare": 1.0, "workersPlan": "paid"}
    negative_writes = cost.requests_per_day(settings_with(traffic).traffic, "0 3 * * *")
    misses = negative_writes["subscription_get_not_found"] + negative_writes["subscription_get_not_found_lapsed"]
    assert misses == pytest.approx(100_000 * (1 - 1.8 / 2.8))


def test_a_lapsed_user_costs_the_d1_row_it_reads(table):
    """A canceled or past_due row is read (1 row) before the status filter drops it; no row costs none."""
    assert table["subscription_get_not_found_lapsed"]["d1_rows_read"] == 1
    assert table["subscription_get_not_found"]["d1_rows_read"] == 0
    traffic = {**GUIDE, "unsubscribedShare": 1.0, "workersPlan": "paid"}
    never, lapsed = (cost.estimate(settings_with({**traffic, "lapsedShare": share}), table) for share in (0, 1))
    requests = lapsed.requests
    misses = requests["subscription_get_not_found_lapsed"]
    assert daily(lapsed, "d1_rows_read") - daily(never, "d1_rows_read") == pytest.approx(misses)


def test_usage_calls_split_into_allowed_and_denied_hits_and_misses_and_cron_runs_follow_the_schedule():
    traffic = Traffic(
        active_users=100,
        usage_calls_per_user_per_day=4,
        usage_denied_share=0.25,
        cache_hit_ratio=0.9,
        keyed_usage_share=0.8,
    )
    requests = cost.requests_per_day(traffic, "*/30 * * * *")
    for keyed, share in (("", 0.2), ("_keyed", 0.8)):
        assert requests[f"usage_post_allowed{keyed}"] == pytest.approx(400 * 0.75 * 0.9 * share)
        assert requests[f"usage_post_allowed{keyed}_cache_miss"] == pytest.approx(400 * 0.75 * 0.1 * share)
        assert requests[f"usage_post_denied{keyed}"] == pytest.approx(400 * 0.25 * 0.9 * share)
        assert requests[f"usage_post_denied{keyed}_cache_miss"] == pytest.approx(400 * 0.25 * 0.1 * share)
    assert requests["scheduled_cleanup"] == 48
    assert cost.cron_runs_per_day("*/30 * * * *") == 48
    assert cost.cron_runs_per_day("0 3 * * 1") == pytest.approx(1 / 7)


def test_usage_rows_are_kept_for_the_retention_window_and_their_cleanup_is_counted(table):
    traffic = {**small_app(3), "keyedUsageShare": 0}  # keyed calls: tests/cost/test_keyed_usage.py
    short, long = (cost.estimate(settings_with(traffic, usageRetentionDays=days), table) for days in (10, 40))
    # One row per user per day, kept `usageRetentionDays` days.
    assert meter(long, "d1_storage_bytes").bytes - meter(short, "d1_storage_bytes").bytes == pytest.approx(
        1_000 * 30 * cost.USAGE_ROW_BYTES
    )
    # Each day the cron deletes as many rows as users recorded use: D1 bills them as written.
    per_call = table["usage_post_allowed"]["d1_rows_written"]
    miss_adds = table["subscription_get_miss"]["d1_rows_written"] - table["subscription_get_hit"]["d1_rows_written"]
    checks_missed = 1_000 * 10 * 0.01
    without_cleanup = (
        3_000 * per_call
        + 3_000 * 0.01 * miss_adds
        + checks_missed * table["subscription_get_miss"]["d1_rows_written"]
        + 10 * table["subscription_put"]["d1_rows_written"]
    )
    assert daily(short, "d1_rows_written") == pytest.approx(
        without_cleanup
        + table["scheduled_cleanup"]["d1_rows_written"]
        + 1_000 * table[operations.PER_DELETED_ROW]["d1_rows_written"]
    )
    assert table[operations.PER_DELETED_ROW]["d1_rows_written"] >= 1  # D1 bills a deleted row as written


def test_usage_calls_of_users_without_a_subscription_are_refused_and_leave_no_usage_row(table):
    traffic = {**small_app(2), "unsubscribedShare": 0.5, "lapsedShare": 0.25}
    requests = cost.requests_per_day(settings_with(traffic).traffic, "0 3 * * *", subscription_ttl_s=300)
    refused = ("usage_post_no_subscription", "usage_post_no_subscription_cache_miss")
    refused_lapsed = "usage_post_no_subscription_cache_miss_lapsed"
    assert sum(requests[o] for o in refused) + requests[refused_lapsed] == pytest.approx(1_000 * 2 * 0.5)
    missed = 1_000 * 2 * 0.5 * (1 - cost.negative_hit_ratio(0.99, 300))
    assert requests["usage_post_no_subscription_cache_miss"] == pytest.approx(missed * 0.75)
    assert requests[refused_lapsed] == pytest.approx(missed * 0.25)
    assert cost.usage_rows_per_day(settings_with(traffic).traffic, 86_400) == pytest.approx(500)


def test_entitlements_checks_are_priced_from_their_own_outcomes(table):
    """GET /entitlements: the subscription's cache entry (same hit ratio) plus today's count, priced
    as read from D1 every time (the dear side: how often an isolate has it in memory is unknown)."""
    # On Workers Paid: no KV fallback on top (the Free plan's writes would run out and add D1 reads).
    guide = {**GUIDE, "cacheHitRatio": 0.9, "workersPlan": "paid"}
    base = cost.estimate(settings_with(guide), table)
    more = cost.estimate(settings_with({**guide, "entitlementsChecksPerUserPerDay": 20}), table)
    calls = 10_000 * 20
    hit, miss = "entitlements_get_hit_count_read", "entitlements_get_miss_count_read"
    assert more.requests[hit] == pytest.approx(calls * 0.9)
    assert more.requests[miss] == pytest.approx(calls * 0.1)
    assert "entitlements_get_hit" not in more.requests  # the count from memory is never assumed
    for kind in ("kv_reads", "kv_writes", "d1_rows_read"):
        added = calls * 0.9 * table[hit][kind] + calls * 0.1 * table[miss][kind]
        assert daily(more, kind) - daily(base, kind) == pytest.approx(added)
    assert table[hit]["d1_queries"] == 1 and table["entitlements_get_hit"]["d1_queries"] == 0


def test_the_random_arrival_hit_ratio_is_the_guides_ttl_against_its_check_rate():
    # 10 checks a user a day, 300 s TTL: 10/86,400 x 300 = 0.0347 lookups per TTL.
    per_ttl = 10 / 86_400 * 300
    assert cost.random_arrival_hit_ratio(Traffic(), 300) == pytest.approx(per_ttl / (1 + per_ttl))  # 3.4 %
    assert cost.random_arrival_hit_ratio(Traffic(), 300) < 0.04


def test_the_kv_counter_looks_up_no_subscription_so_its_usage_calls_do_not_raise_the_ratio():
    traffic = Traffic(usage_calls_per_user_per_day=10)  # 10 checks + 10 usage calls a user a day
    with_usage, checks_only = (20 / 86_400 * 300, 10 / 86_400 * 300)
    assert cost.random_arrival_hit_ratio(traffic, 300, "d1") == pytest.approx(with_usage / (1 + with_usage))  # 6.5 %
    assert cost.random_arrival_hit_ratio(traffic, 300, "kv-counter") == pytest.approx(checks_only / (1 + checks_only))


def test_evenly_spaced_lookups_further_apart_than_the_ttl_never_hit():
    """Why the random-arrival ratio is no floor: one lookup every 301 s with a 300 s TTL hits nothing."""
    expires, hits = -1.0, 0
    for now in range(0, 301 * 1_000, 301):
        if now < expires:
            hits += 1
        else:
            expires = now + 300
    assert hits == 0 < cost.random_arrival_hit_ratio(Traffic(subscription_checks_per_user_per_day=86_400 / 301), 300)


def test_the_random_arrival_hit_ratio_matches_a_simulated_cache():
    import random

    rng, ttl, rate = random.Random(5), 300.0, 1 / 200  # one lookup every 200 s on average
    now, expires, hits, lookups = 0.0, -1.0, 0, 200_000
    for _ in range(lookups):
        now += rng.expovariate(rate)
        if now < expires:
            hits += 1
        else:
            expires = now + ttl  # a miss fills the cache; hits do not extend it
    traffic = Traffic(subscription_checks_per_user_per_day=86_400 * rate)
    assert hits / lookups == pytest.approx(cost.random_arrival_hit_ratio(traffic, int(ttl)), abs=0.01)
