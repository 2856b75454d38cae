"""What observing the Worker costs: Workers Logs events and Analytics Engine data points and queries."""

import pytest
from cost_cases import DAY_S, GUIDE, daily, meter, settings_with, small_app

from infra import platform as pricing
from infra.cost import estimate as cost
from infra.cost import operations
from infra.cost.free_plan import free_plan_warnings


def test_log_events_are_invocation_logs_plus_the_workers_own_lines_times_the_sampling(table):
    """Per request: Cloudflare's invocation log (when on) plus the Worker's line (every miss and
    write; routine answers at requestLog.routineSampleRate), times the logs' head sampling rate."""
    paid = {**GUIDE, "cacheHitRatio": 0.9, "workersPlan": "paid"}  # no KV fallback: the plain sums
    hits, misses, updates, cron = 90_000, 10_000, 100, 1

    def events(**raw):
        return cost.estimate(settings_with(paid, **raw), table).log_events_daily

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


def test_logs_are_billed_by_the_bytes_of_their_events(table):
    """Since 2026-12-01 Workers Logs bills volume: each invocation log and each of the Worker's own
    lines, at its size (the line's measured on workerd: tests/e2e/test_log_volume.py)."""
    paid = {**GUIDE, "cacheHitRatio": 0.9, "workersPlan": "paid"}
    result = cost.estimate(settings_with(paid, requestLog={"routineSampleRate": 1}), table)
    invocations = 90_000 + 10_000 + 100 + 1
    expected = invocations * (cost.INVOCATION_LOG_BYTES + cost.WORKER_LOG_LINE_BYTES)
    assert daily(result, "workers_logs_bytes") == pytest.approx(expected)
    assert result.log_events_daily == pytest.approx(2 * invocations)
    # Kept 7 days on Paid: the stored volume is a week of it.
    assert meter(result, "workers_logs_stored_bytes").bytes == pytest.approx(7 * expected)


def test_free_keeps_its_logs_seven_days_as_paid_does(table):
    """The Observability pricing page: "Seven-day retention included" on Free, as on Paid (Free
    kept 3 days before 2026-12-01). The stored volume a Free stack shows is a week of its ingest."""
    free = {**GUIDE, "cacheHitRatio": 0.9, "workersPlan": "free"}
    result = cost.estimate(settings_with(free, requestLog={"routineSampleRate": 1}), table)
    ingested = daily(result, "workers_logs_bytes")
    assert ingested > 0
    assert meter(result, "workers_logs_stored_bytes").bytes == pytest.approx(7 * ingested)


def test_free_ingests_half_a_gigabyte_a_day_then_drops_the_rest(table):
    """100 times the guide's users logging every line: past 0.5 GB a day Free stops ingesting."""
    big = {"activeUsers": 1_000_000, "subscriptionChecksPerUserPerDay": 10, "cacheHitRatio": 0.99}
    result = cost.estimate(settings_with(big, requestLog={"routineSampleRate": 1}), table)
    logs = meter(result, "workers_logs_bytes")
    assert logs.free_daily_limit == 0.5 * pricing.GB and logs.over_free_limit
    warning = next(line for line in free_plan_warnings(result) if line.startswith("Workers Logs ingested"))
    assert "ingestion stops" in warning and "dropped" in warning


def test_past_the_paid_allowance_logs_cost_25_cents_a_gigabyte_and_10_cents_a_gigabyte_month(table):
    big = {"activeUsers": 1_000_000, "subscriptionChecksPerUserPerDay": 10, "workersPlan": "paid"}
    result = cost.estimate(settings_with(big, requestLog={"routineSampleRate": 1}), table)
    logs = meter(result, "workers_logs_bytes")
    monthly = 30 * (10_000_000 + 100 + 1) * (cost.INVOCATION_LOG_BYTES + cost.WORKER_LOG_LINE_BYTES)
    assert logs.monthly == pytest.approx(monthly)
    assert logs.paid_usd == pytest.approx((monthly - 50e9) / 1e9 * 0.25)
    stored = meter(result, "workers_logs_stored_bytes")
    assert stored.paid_usd == pytest.approx((monthly / 30 * 7 - 12e9) / 1e9 * 0.10)
    assert result.paid_monthly_usd >= 5 + logs.paid_usd + stored.paid_usd


def test_once_kv_writes_run_out_the_would_be_hits_are_logged_as_misses(table):
    result = cost.estimate(settings_with({**GUIDE, "cacheHitRatio": 0.9}), table)
    served = result.kv_fallback.after_s / DAY_S
    assert result.kv_fallback.extra["workers_log_events"] == pytest.approx((1 - served) * 90_000 * (1 - 0.01))
    assert result.kv_fallback.extra["workers_logs_bytes"] == pytest.approx(
        (1 - served) * 90_000 * (1 - 0.01) * cost.WORKER_LOG_LINE_BYTES
    )


def test_analytics_engine_counts_each_request_once_and_its_queries_by_the_traffic_setting(table):
    result = cost.estimate(settings_with({**small_app(1), "metricsQueriesPerDay": 14_400}), table)
    fetches = sum(count for outcome, count in result.requests.items() if outcome != "scheduled_cleanup")
    assert daily(result, "ae_data_points") == pytest.approx(fetches)
    queries = meter(result, "ae_read_queries")
    assert queries.daily == 14_400 and queries.over_free_limit  # 10 panels a minute: past the Free plan's 10,000
    assert any(line.startswith("AE read queries: 14,400/day") for line in free_plan_warnings(result))
    off = cost.estimate(settings_with(small_app(1), metrics={"enabled": False}), table)
    assert daily(off, "ae_data_points") == 0


def test_the_workers_logs_figures_are_those_of_the_volume_pricing():
    assert pricing.WORKERS_LOGS_PRICING_CHANGES_ON.isoformat() == "2026-12-01"
    logs = next(m for m in pricing.METERS if m.key == "workers_logs_bytes")
    assert (logs.free_daily_limit, logs.paid_included_monthly) == (0.5e9, 50e9)
    assert logs.paid_usd_per_million * 1_000 == pytest.approx(0.25)  # $ per GB
    result = cost.estimate(settings_with(GUIDE), operations.load_operations())
    assert result.to_json()["workersLogsPricingChangesOn"] == "2026-12-01"
    assert "https://developers.cloudflare.com/analytics/analytics-engine/pricing/" in result.to_json()["sources"]
