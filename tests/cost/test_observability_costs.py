"""What observing the Worker costs: Workers Logs events and Analytics Engine data points and queries."""

import datetime as dt

import pytest
from cost_cases import DAY_S, GUIDE, daily, meter, settings_with, small_app

from infra import platform as pricing
from infra.cost import estimate as cost
from infra.cost import operations
from infra.cost.free_plan import free_plan_warnings
from infra.tools.estimate_report import workers_logs_pricing_note


def test_log_events_are_invocation_logs_plus_the_workers_own_lines_times_the_sampling(table):
    """Per request: Cloudflare's invocation log (when on) plus the Worker's line (every miss and
    write; routine answers at requestLog.routineSampleRate), times the logs' head sampling rate."""
    paid = {**GUIDE, "cacheHitRatio": 0.9, "workersPlan": "paid"}  # no KV fallback: the plain sums
    hits, misses, updates, cron = 90_000, 10_000, 100, 1

    def events(**raw):
        return daily(cost.estimate(settings_with(paid, **raw), table), "workers_log_events")

    invocations = hits + misses + updates + cron
    assert events() == pytest.approx(invocations + misses + updates + cron + 0.01 * hits)
    assert events(requestLog={"routineSampleRate": 1}) == pytest.approx(2 * invocations)  # a line per request
    assert events(requestLog={"routineSampleRate": 0}) == pytest.approx(invocations + misses + updates + cron)
    no_invocation_logs = {"logs": {"invocationLogs": False}}
    assert events(observability=no_invocation_logs) == pytest.approx(misses + updates + cron + 0.01 * hits)
    tenth = {"logs": {"headSamplingRate": 0.1}}
    assert events(observability=tenth) == pytest.approx(0.1 * events())
    assert events(observability={"logs": {"enabled": False}}) == 0
    assert events(observability={"logs": {"persist": False}}) == 0  # sent elsewhere, not kept by Workers Logs
    assert events(observability={"enabled": False}) == 0


def test_a_line_per_request_took_the_whole_free_log_allowance_and_sampling_frees_it(table):
    """Just under the Free plan's 100,000 requests a day (KV writes fitting): with a line per
    request, invocation logs and lines came to all of the 200,000 events a day; sampled routine
    lines leave almost half of it."""
    fits = {"activeUsers": 9_989, "subscriptionChecksPerUserPerDay": 10, "cacheHitRatio": 0.99}
    every_line = cost.estimate(settings_with(fits, requestLog={"routineSampleRate": 1}), table)
    sampled = cost.estimate(settings_with(fits), table)
    assert every_line.kv_fallback is None and sampled.kv_fallback is None
    assert meter(every_line, "worker_requests").daily == 99_991
    assert meter(every_line, "workers_log_events").utilisation == pytest.approx(2 * 99_991 / 200_000)
    logs = meter(sampled, "workers_log_events")
    assert logs.free_daily_limit == 200_000 and logs.utilisation < 0.53


def test_past_the_paid_allowance_log_events_cost_60_cents_a_million(table):
    big = {"activeUsers": 100_000, "subscriptionChecksPerUserPerDay": 10, "workersPlan": "paid"}
    result = cost.estimate(settings_with(big, requestLog={"routineSampleRate": 1}), table)
    logs = meter(result, "workers_log_events")
    monthly = 30 * 2 * (1_000_000 + 100 + 1)  # invocation log + own line, each request
    assert logs.monthly == pytest.approx(monthly)
    assert logs.paid_usd == pytest.approx((monthly - 20_000_000) / 1e6 * 0.60)
    assert logs.billed and result.paid_monthly_usd >= 5 + logs.paid_usd


def test_once_kv_writes_run_out_the_would_be_hits_are_logged_as_misses(table):
    result = cost.estimate(settings_with({**GUIDE, "cacheHitRatio": 0.9}), table)
    served = result.kv_fallback.after_s / DAY_S
    assert result.kv_fallback.extra["workers_log_events"] == pytest.approx((1 - served) * 90_000 * (1 - 0.01))


def test_analytics_engine_counts_each_request_once_and_its_queries_by_the_traffic_setting(table):
    result = cost.estimate(settings_with({**small_app(1), "metricsQueriesPerDay": 14_400}), table)
    fetches = sum(count for outcome, count in result.requests.items() if outcome != "scheduled_cleanup")
    assert daily(result, "ae_data_points") == pytest.approx(fetches)
    queries = meter(result, "ae_read_queries")
    assert queries.daily == 14_400 and queries.over_free_limit  # 10 panels a minute: past the Free plan's 10,000
    assert any(line.startswith("AE read queries: 14,400/day") for line in free_plan_warnings(result))
    off = cost.estimate(settings_with(small_app(1), metrics={"enabled": False}), table)
    assert daily(off, "ae_data_points") == 0


def test_the_estimate_says_when_workers_logs_prices_change():
    assert pricing.WORKERS_LOGS_PRICING_CHANGES_ON.isoformat() == "2026-12-01"
    assert pricing.PRICES_READ_ON < pricing.WORKERS_LOGS_PRICING_CHANGES_ON
    before = workers_logs_pricing_note(dt.date(2026, 11, 30))
    assert "applies until 2026-11-30" in before and "from 2026-12-01 Cloudflare Observability pricing" in before
    after = workers_logs_pricing_note(dt.date(2026, 12, 1))
    assert "out of date" in after and "re-read" in after
    result = cost.estimate(settings_with(GUIDE), operations.load_operations())
    assert result.to_json()["workersLogsPricingChangesOn"] == "2026-12-01"
    assert "https://developers.cloudflare.com/analytics/analytics-engine/pricing/" in result.to_json()["sources"]
