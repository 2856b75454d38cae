"""The guide's KV-counter rate limiter, priced: the reason usage is counted in D1."""

import pytest
from cost_cases import DAY_S, GUIDE, daily, meter, settings_with, small_app

from infra.cost import estimate as cost


def test_the_kv_counter_spends_the_free_writes_that_d1_counting_leaves_alone(table):
    settings = settings_with(small_app(10))  # 10,000 usage calls a day
    in_d1 = cost.estimate(settings, table)
    kv_counter = cost.estimate(settings, table, usage_store="kv-counter")

    other_writes = daily(cost.estimate(settings_with(small_app(0)), table), "kv_writes")  # cache refills
    # A usage call looks up the subscription: 99 % hit KV, 1 % miss and refill it.
    miss_adds = table["subscription_get_miss"]["kv_writes"] - table["subscription_get_hit"]["kv_writes"]
    usage_writes = 10_000 * table["usage_post_allowed"]["kv_writes"] + 10_000 * 0.01 * miss_adds
    assert daily(in_d1, "kv_writes") == pytest.approx(other_writes + usage_writes)
    assert usage_writes <= 100  # at most the 1 % of lookups that miss
    assert daily(kv_counter, "kv_writes") == pytest.approx(other_writes + 10_000)  # the guide: one put per call
    assert in_d1.over_free_limits == ()
    assert [m.key for m in kv_counter.over_free_limits] == ["kv_writes"]
    # Traffic spread over the day: the 1,000 free writes are gone this many seconds after 00:00 UTC.
    assert meter(kv_counter, "kv_writes").exhausted_after_s == pytest.approx(DAY_S * 1_000 / (other_writes + 10_000))


def test_the_kv_counter_breaks_the_free_plan_past_a_few_hundred_calls_a_day(table):
    other_writes = daily(cost.estimate(settings_with(small_app(0)), table), "kv_writes")
    most_calls = 1_000 - other_writes  # each allowed call writes the counter once
    fits = cost.estimate(settings_with(small_app(most_calls / 1_000)), table, usage_store="kv-counter")
    over = cost.estimate(settings_with(small_app((most_calls + 10) / 1_000)), table, usage_store="kv-counter")
    assert not fits.over_free_limits
    assert [m.key for m in over.over_free_limits] == ["kv_writes"]


def test_exactly_at_a_limit_still_fits_whatever_the_float_rounding(table):
    # 1,000 x 0.9 usage calls + 100 cache refills: 1,000 KV writes, the free plan's limit to the write.
    at_limit = cost.estimate(settings_with(small_app(0.9)), table, usage_store="kv-counter")
    assert meter(at_limit, "kv_writes").daily == pytest.approx(1_000)
    assert not at_limit.over_free_limits


def test_at_the_guides_scale_the_kv_counter_runs_dry_within_minutes(table):
    guide_with_usage = {**GUIDE, "cacheHitRatio": 1.0, "usageCallsPerUserPerDay": 10}  # 100,000 calls a day
    writes = meter(cost.estimate(settings_with(guide_with_usage), table, usage_store="kv-counter"), "kv_writes")
    assert writes.daily >= 100_000
    assert writes.exhausted_after_s <= DAY_S * 1_000 / 100_000  # 864 s: 14.4 minutes after 00:00 UTC
    in_d1 = meter(cost.estimate(settings_with(guide_with_usage), table), "kv_writes")
    assert in_d1.daily == pytest.approx(100 * table["subscription_put"]["kv_writes"])  # only what updates write
