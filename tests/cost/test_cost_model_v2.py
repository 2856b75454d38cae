"""Issue 18's corrections to the model: the bill's range across hit ratios, negative entries on
*.workers.dev, usage windows from `ttls.rateLimit`, stored subscriptions, CPU time, the text."""

from pathlib import Path

import pytest
from cost_cases import GUIDE, daily, meter, settings_with, small_app

from infra import platform as pricing
from infra.cost import estimate as cost

DOMAIN = {"customDomain": {"hostname": "cache.example.com", "zoneId": "f" * 32}}


def test_the_paid_bill_is_a_range_from_the_assumed_to_the_random_arrival_hit_ratio(table):
    """The guide's prod traffic on Paid: $5.00 at the assumed 90 %, $14.50 at the 3.4 % random
    arrivals give (each user's first lookup misses, and lookups far apart miss)."""
    paid = {**GUIDE, "workersPlan": "paid"}
    result = cost.estimate(settings_with(paid), table)
    at_random = cost.estimate(settings_with({**paid, "cacheHitRatio": result.random_arrival_hit_ratio}), table)
    assert result.paid_range_usd == pytest.approx((result.paid_monthly_usd, at_random.paid_monthly_usd))
    assert [round(v, 2) for v in result.paid_range_usd] == [5.00, 14.50]
    assert result.to_json()["paidMonthlyUsdRange"] == [5.0, 14.5]


def test_the_range_carries_the_negative_cache_ratio_down_with_the_hit_ratio(table):
    paid = {**GUIDE, "workersPlan": "paid", "unsubscribedShare": 0.5, "activeUsers": 200_000}
    result = cost.estimate(settings_with(paid, **DOMAIN), table)
    ratio = result.random_arrival_hit_ratio
    at_random = cost.estimate(settings_with({**paid, "cacheHitRatio": ratio}, **DOMAIN), table)
    assert at_random.requests["subscription_get_negative_hit"] == pytest.approx(
        200_000 * 10 * 0.5 * cost.negative_hit_ratio(ratio, 300)
    )
    assert result.paid_range_usd[1] == pytest.approx(at_random.paid_monthly_usd)


def test_on_workers_dev_alone_no_negative_entry_hits_so_every_such_lookup_reads_kv_then_d1(table):
    """The Cache API does nothing on *.workers.dev (Cloudflare's Cache API page)."""
    traffic = {**small_app(0), "unsubscribedShare": 0.5}
    with_domain = cost.estimate(settings_with(traffic, **DOMAIN), table)
    dev_only = cost.estimate(settings_with(traffic), table)
    assert with_domain.requests["subscription_get_negative_hit"] > 0
    assert dev_only.requests["subscription_get_negative_hit"] == 0
    unsubscribed = 1_000 * 10 * 0.5
    assert dev_only.requests["subscription_get_not_found_lapsed"] == pytest.approx(unsubscribed)  # lapsedShare 1
    assert dev_only.negative_hit_ratio == 0
    assert daily(dev_only, "d1_rows_read") > daily(with_domain, "d1_rows_read")
    assert daily(dev_only, "kv_reads") == pytest.approx(daily(with_domain, "kv_reads"))  # read, then D1


def test_usage_rows_follow_the_rate_limit_window(table):
    """Rows a day = users x min(calls per user, 86,400 / window): with an hourly window and 30
    calls a day, 24 rows per user a day, not one."""
    traffic = small_app(30)
    daily_window = cost.estimate(settings_with(traffic), table)
    hourly_settings = settings_with(traffic, ttls={"rateLimit": 3600})
    hourly = cost.estimate(hourly_settings, table)
    assert cost.usage_rows_per_day(hourly.traffic, 3600) == pytest.approx(1_000 * 24)
    extra_rows = 1_000 * (24 - 1) * hourly_settings.usage_retention_days  # each kept that many days
    assert meter(hourly, "d1_storage_bytes").bytes - meter(daily_window, "d1_storage_bytes").bytes == pytest.approx(
        extra_rows * cost.USAGE_ROW_BYTES
    )


def test_d1_keeps_a_row_for_every_user_ever_subscribed(table):
    unsubscribed = {**GUIDE, "unsubscribedShare": 0.2, "lapsedShare": 0.5}
    result = cost.estimate(settings_with(unsubscribed), table)
    # Subscribers and the lapsed ones (their canceled rows stay): 8,000 + 1,000.
    assert meter(result, "d1_storage_bytes").bytes == pytest.approx(9_000 * cost.SUBSCRIPTION_ROW_BYTES)
    stored = cost.estimate(settings_with({**unsubscribed, "storedSubscriptions": 50_000}), table)
    assert meter(stored, "d1_storage_bytes").bytes == pytest.approx(50_000 * cost.SUBSCRIPTION_ROW_BYTES)


def test_as_users_grow_updates_grow_with_them_and_rows_are_never_deleted(table):
    settings = settings_with({**GUIDE, "storedSubscriptions": 30_000})
    grown = cost.with_users(settings, 20_000).traffic
    assert grown.subscription_updates_per_day == pytest.approx(200)
    assert grown.stored_subscriptions == 40_000


def test_cpu_time_is_priced_against_paids_included_30_million_ms(table):
    big = {"activeUsers": 1_000_000, "subscriptionChecksPerUserPerDay": 10, "workersPlan": "paid"}
    result = cost.estimate(settings_with({**big, "cpuMsPerRequest": 5}), table)
    cpu = meter(result, "workers_cpu_ms")
    requests = sum(result.requests.values())
    assert cpu.daily == pytest.approx(requests * 5)
    assert cpu.paid_usd == pytest.approx((30 * requests * 5 - 30e6) / 1e6 * 0.02)
    assert cpu.free_daily_limit is None  # Free caps each invocation's CPU instead, billing none


def test_the_limits_text_is_right():
    assert pricing.AE_MAX_DATA_POINTS_PER_INVOCATION == 250
    source = Path(pricing.__file__).read_text()
    assert "250 data points per invocation" in source and "25 data points" not in source
    assert "renewal date" in source
