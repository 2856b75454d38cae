"""The guide's example priced by hand: the daily figures, the free plan's limits, the Paid bill, the prices' date."""

import math

import pytest
from cost_cases import DAY_S, GUIDE, daily, meter, settings_with

from infra import platform as pricing
from infra.cost import estimate as cost
from infra.cost import operations
from infra.settings.traffic import Traffic


def test_traffic_defaults_are_the_guides_example():
    assert Traffic().active_users == 10_000
    assert Traffic().subscription_checks_per_user_per_day == 10
    assert Traffic().subscription_updates_per_day == 100


def test_guides_example_comes_out_as_the_hand_calculation(table):
    result = cost.estimate(settings_with({**GUIDE, "cacheHitRatio": 0.9}), table)

    def ops(outcome, kind):
        return table[outcome][kind]

    checks = 10_000 * 10  # 100,000 subscription checks a day
    hits = checks * 0.9  # 90,000 answered from KV
    misses = checks * 0.1  # 10,000 go to D1, then refill KV
    updates = 100
    cron = 1  # "0 3 * * *": once a day; no usage calls, so no usage rows expire
    by_hand = {
        kind: hits * ops("subscription_get_hit", kind)
        + misses * ops("subscription_get_miss", kind)
        + updates * ops("subscription_put", kind)
        + cron * ops("scheduled_cleanup", kind)
        for kind in operations.OPERATION_KINDS
    }
    by_hand["worker_requests"] = checks + updates + cron

    # On the Free plan the day's 1,000 KV writes run out: from then the Worker caches nothing,
    # and every lookup that would have hit reads D1 like a miss, until 00:00 UTC.
    served = 1_000 / by_hand["kv_writes"]
    for kind in ("d1_queries", "d1_rows_read", "d1_rows_written"):
        by_hand[kind] += (1 - served) * hits * (ops("subscription_get_miss", kind) - ops("subscription_get_hit", kind))
    assert result.kv_fallback is not None and result.kv_fallback.cause == "KV writes"
    assert result.kv_fallback.after_s == pytest.approx(served * DAY_S)
    assert result.kv_fallback.extra["d1_rows_read"] == pytest.approx((1 - served) * hits)  # one row per lookup

    # Workers Logs: Cloudflare's invocation log for every invocation, and the Worker's own line
    # for every miss, write and cron run, and for 1 % of the hits (requestLog.routineSampleRate);
    # once the KV writes are gone the would-be hits are misses, each logged.
    invocation_logs = by_hand["worker_requests"]
    own_lines = misses + updates + cron + hits * (served * 0.01 + (1 - served))
    by_hand["workers_log_events"] = invocation_logs + own_lines
    by_hand["workers_logs_bytes"] = invocation_logs * cost.INVOCATION_LOG_BYTES + own_lines * cost.WORKER_LOG_LINE_BYTES
    by_hand["workers_cpu_ms"] = by_hand["worker_requests"] * 2  # traffic.cpuMsPerRequest
    by_hand["ae_data_points"] = checks + updates  # one per request; the cron run writes none
    by_hand["ae_read_queries"] = 0  # traffic.metricsQueriesPerDay

    for key in (
        "kv_reads",
        "kv_writes",
        "kv_deletes",
        "kv_lists",
        "d1_rows_read",
        "d1_rows_written",
        "worker_requests",
        "workers_logs_bytes",
        "workers_cpu_ms",
        "ae_data_points",
        "ae_read_queries",
    ):
        assert daily(result, key) == pytest.approx(by_hand[key]), key
        assert meter(result, key).monthly == pytest.approx(30 * by_hand[key]), key
    assert result.d1_queries_daily == pytest.approx(by_hand["d1_queries"])
    assert result.log_events_daily == pytest.approx(by_hand["workers_log_events"])

    # The guide's "100k reads, 100 writes, $0 within the free tier" misses what cache
    # misses write back and what updates read: the free plan does not hold this traffic.
    assert by_hand["kv_writes"] >= misses > 1_000
    crossed = {m.key for m in result.over_free_limits}
    limited = [m for m in pricing.METERS if m.free_daily_limit is not None]
    assert crossed == {m.key for m in limited if by_hand[m.key] > m.free_daily_limit}
    assert {"kv_writes", "worker_requests"} <= crossed
    writes = meter(result, "kv_writes")
    assert writes.utilisation == pytest.approx(by_hand["kv_writes"] / 1_000)
    assert writes.exhausted_after_s == pytest.approx(DAY_S * 1_000 / by_hand["kv_writes"])  # 02:24 UTC
    assert result.first_limit_hit is not None and result.first_limit_hit.day == 0
    # On Workers Paid, all of it fits the allowances: the bill is the $5 minimum.
    assert 30 * by_hand["kv_writes"] < 1_000_000 and 30 * by_hand["kv_reads"] < 10_000_000
    assert result.paid_monthly_usd == pytest.approx(5.00)


def test_the_paid_bill_is_the_minimum_plus_each_overage(table):
    big = {
        "activeUsers": 1_000_000,
        "subscriptionChecksPerUserPerDay": 10,
        "cacheHitRatio": 0.95,
        "workersPlan": "paid",
    }
    result = cost.estimate(settings_with(big), table)
    bill = unbilled = 0.0
    for priced in pricing.METERS:
        monthly = 30 * meter(result, priced.key).daily
        overage = max(0, monthly - priced.paid_included_monthly) / 1e6 * priced.paid_usd_per_million
        if priced.billed:
            bill += overage
        else:
            unbilled += overage
    bill += 5.00
    for stored_meter in pricing.STORAGE_METERS:
        stored = meter(result, stored_meter.key).bytes
        bill += max(0, stored - stored_meter.paid_included_bytes) / 1e9 * stored_meter.paid_usd_per_gb_month
    # 10 M checks a day: 300 M KV reads a month against 10 M included, at $0.50 per million.
    reads = meter(result, "kv_reads")
    assert reads.paid_usd == pytest.approx((30 * reads.daily - 10_000_000) / 1e6 * 0.50)
    assert reads.paid_usd > 100
    assert result.paid_monthly_usd == pytest.approx(bill)
    # Analytics Engine: a data point per request (10 M checks + 100 updates a day), 300 M a month against 10 M included at
    # $0.25 per million; Cloudflare prices it but does not bill it yet.
    assert {m.key for m in pricing.METERS if not m.billed} == {"ae_data_points", "ae_read_queries"}
    assert (
        result.unbilled_monthly_usd == pytest.approx(unbilled) == pytest.approx((30 * 10_000_100 - 10e6) / 1e6 * 0.25)
    )
    assert result.to_json()["unbilledMonthlyUsd"] == round(unbilled, 2)


def test_the_paid_quote_of_a_free_stack_prices_no_work_that_only_free_causes(table):
    """Out of KV writes, Free falls back to D1 reads and more log lines: Paid never runs out, so
    the quote of a Free stack is the bill of the same traffic on Paid (issue 18: $729.84 against
    $569.62 at a million users before the fix)."""
    million = {"activeUsers": 1_000_000, "subscriptionChecksPerUserPerDay": 10}
    free = cost.estimate(settings_with(million), table)
    paid = cost.estimate(settings_with({**million, "workersPlan": "paid"}), table)
    assert free.kv_fallback is not None and paid.kv_fallback is None
    assert free.own_paid_monthly_usd > paid.paid_monthly_usd  # the fallback's work, priced
    assert free.paid_monthly_usd == pytest.approx(paid.paid_monthly_usd)
    assert free.to_json()["paidMonthlyUsd"] == round(paid.paid_monthly_usd, 2)


def test_the_prices_say_when_they_were_read():
    assert pricing.PRICES_READ_ON.year >= 2026
    assert all(source.startswith("https://developers.cloudflare.com/") for source in pricing.SOURCES)
    limits = {m.key: m.free_daily_limit for m in pricing.METERS}
    assert limits["kv_writes"] == 1_000 and limits["kv_reads"] == 100_000 and limits["worker_requests"] == 100_000


def test_hand_checked_clock():
    assert cost.utc_clock(DAY_S * 1_000 / 10_000) == "02:24"
    assert math.isclose(DAY_S * 1_000 / 100_000 / 60, 14.4)
