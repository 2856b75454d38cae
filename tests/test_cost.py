"""The cost estimator: traffic settings x the Worker's per-route operations -> use, limits, bill."""

import datetime as dt
import json
import math

import pulumi
import pytest
from pulumi_mocks import ACCOUNT_ID, run_program
from typer.testing import CliRunner

from infra import paths, worker_contract
from infra import platform as pricing
from infra.cost import estimate as cost
from infra.cost import operations
from infra.cost.free_plan import free_plan_warnings
from infra.settings import SettingsError, load_settings, stack_file_settings
from infra.settings.traffic import Traffic
from infra.tools import cli
from infra.tools.estimate_report import workers_logs_pricing_note

DAY_S = 86_400
GUIDE = {"activeUsers": 10_000, "subscriptionChecksPerUserPerDay": 10, "subscriptionUpdatesPerDay": 100}


@pytest.fixture
def table():
    """The Worker's own table (worker/operations.json): every figure below follows it."""
    return operations.load_operations()


def settings_with(traffic=None, **raw):
    return load_settings({"accountId": ACCOUNT_ID, "traffic": traffic or {}, **raw}, stack="prod", env={})


def meter(result, key):
    """The estimate of one billed quantity or store, by key."""
    return next(m for m in (*result.meters, *result.storage) if m.key == key)


def daily(result, key):
    return meter(result, key).daily


# --- the guide's example --------------------------------------------------------


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
        "workers_log_events",
        "ae_data_points",
        "ae_read_queries",
    ):
        assert daily(result, key) == pytest.approx(by_hand[key]), key
        assert meter(result, key).monthly == pytest.approx(30 * by_hand[key]), key
    assert result.d1_queries_daily == pytest.approx(by_hand["d1_queries"])

    # The guide's "100k reads, 100 writes, $0 within the free tier" misses what cache
    # misses write back and what updates read: the free plan does not hold this traffic.
    assert by_hand["kv_writes"] >= misses > 1_000
    crossed = {m.key for m in result.over_free_limits}
    assert crossed == {m.key for m in pricing.METERS if by_hand[m.key] > m.free_daily_limit}
    assert {"kv_writes", "worker_requests"} <= crossed
    writes = meter(result, "kv_writes")
    assert writes.utilisation == pytest.approx(by_hand["kv_writes"] / 1_000)
    assert writes.exhausted_after_s == pytest.approx(DAY_S * 1_000 / by_hand["kv_writes"])  # 02:24 UTC
    assert result.first_limit_hit is not None and result.first_limit_hit.day == 0
    # On Workers Paid, all of it fits the allowances: the bill is the $5 minimum.
    assert 30 * by_hand["kv_writes"] < 1_000_000 and 30 * by_hand["kv_reads"] < 10_000_000
    assert result.paid_monthly_usd == pytest.approx(5.00)


def test_the_paid_bill_is_the_minimum_plus_each_overage(table):
    big = {"activeUsers": 1_000_000, "subscriptionChecksPerUserPerDay": 10, "cacheHitRatio": 0.95}
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


# --- the guide's KV-counter rate limiter, the reason usage is counted in D1 -----------


def small_app(usage_calls_per_user):
    """1,000 users whose subscription checks fit the free plan, recording usage."""
    return {
        "activeUsers": 1_000,
        "subscriptionChecksPerUserPerDay": 10,
        "subscriptionUpdatesPerDay": 10,
        "cacheHitRatio": 0.99,
        "usageCallsPerUserPerDay": usage_calls_per_user,
    }


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


# --- growth: the day a free limit is hit ----------------------------------------


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


# --- the parts of the model ----------------------------------------------------


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
    traffic = Traffic(active_users=100, usage_calls_per_user_per_day=4, usage_denied_share=0.25, cache_hit_ratio=0.9)
    requests = cost.requests_per_day(traffic, "*/30 * * * *")
    assert requests["usage_post_allowed"] == pytest.approx(400 * 0.75 * 0.9)
    assert requests["usage_post_allowed_cache_miss"] == pytest.approx(400 * 0.75 * 0.1)
    assert requests["usage_post_denied"] == pytest.approx(400 * 0.25 * 0.9)
    assert requests["usage_post_denied_cache_miss"] == pytest.approx(400 * 0.25 * 0.1)
    assert requests["scheduled_cleanup"] == 48
    assert cost.cron_runs_per_day("*/30 * * * *") == 48
    assert cost.cron_runs_per_day("0 3 * * 1") == pytest.approx(1 / 7)


def test_usage_rows_are_kept_for_the_retention_window_and_their_cleanup_is_counted(table):
    traffic = {**small_app(3)}
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


def test_the_prices_say_when_they_were_read():
    assert pricing.PRICES_READ_ON.year >= 2026
    assert all(source.startswith("https://developers.cloudflare.com/") for source in pricing.SOURCES)
    limits = {m.key: m.free_daily_limit for m in pricing.METERS}
    assert limits["kv_writes"] == 1_000 and limits["kv_reads"] == 100_000 and limits["worker_requests"] == 100_000


# --- the operations table --------------------------------------------------------


def test_the_real_operations_table_covers_every_outcome():
    table = operations.load_operations()
    assert set(operations.OUTCOMES) <= set(table)
    assert all(set(ops) == {*operations.OPERATION_KINDS, operations.LOG_SAMPLED} for ops in table.values())
    assert table["subscription_get_hit"]["d1_queries"] == 0  # a hit never reaches D1
    assert table["health"] == {**dict.fromkeys(operations.OPERATION_KINDS, 0), operations.LOG_SAMPLED: 1}


def test_the_table_samples_the_log_lines_of_exactly_the_workers_routine_outcomes():
    """`log: sampled` where the Worker's ROUTINE_OUTCOMES say so (the e2e tests watch the Worker do it)."""
    document = the_real_document()["routes"]
    for key, entry in document.items():
        routine = entry.get("outcome", key) in worker_contract.ROUTINE_OUTCOMES
        assert entry["log"] == ("sampled" if routine else "always"), key
    assert {entry.get("outcome", key) for key, entry in document.items()} >= set(worker_contract.ROUTINE_OUTCOMES)


def test_an_unknown_log_policy_is_refused(tmp_path):
    document = the_real_document()
    document["routes"]["tiers_get"]["log"] = "sometimes"
    path = tmp_path / "operations.json"
    path.write_text(json.dumps(document))
    with pytest.raises(operations.OperationsTableError, match=r'routes\.tiers_get\.log must be "always" or "sampled"'):
        operations.load_operations(path)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "not readable JSON"),
        ('{"routes": []}', '"routes"'),
        ('{"routes": {"health": {}}}', "no entry for subscription_get_hit"),
    ],
)
def test_a_broken_operations_table_is_named(tmp_path, document, message):
    path = tmp_path / "operations.json"
    path.write_text(document)
    with pytest.raises(operations.OperationsTableError, match=message):
        operations.load_operations(path)


def test_the_tables_usage_miss_outcomes_are_its_hit_path_plus_what_a_lookup_miss_adds(table):
    # The model's assumption, checked on the Worker's measured table wherever it lists a miss outcome.
    stripped = {outcome: ops for outcome, ops in table.items() if "_cache_miss" not in outcome}
    derived = operations.with_cache_miss_variants(stripped)
    listed = [
        f"{outcome}{suffix}" for outcome, _, _, suffix in operations.USAGE_LOOKUPS if f"{outcome}{suffix}" in table
    ]
    assert len(listed) == len(operations.USAGE_LOOKUPS)
    for variant in listed:
        assert derived[variant] == table[variant], variant  # the counts, and a line every time


def test_usage_calls_of_users_without_a_subscription_are_refused_and_leave_no_usage_row(table):
    traffic = {**small_app(2), "unsubscribedShare": 0.5, "lapsedShare": 0.25}
    requests = cost.requests_per_day(settings_with(traffic).traffic, "0 3 * * *", subscription_ttl_s=300)
    refused = ("usage_post_no_subscription", "usage_post_no_subscription_cache_miss")
    refused_lapsed = "usage_post_no_subscription_cache_miss_lapsed"
    assert sum(requests[o] for o in refused) + requests[refused_lapsed] == pytest.approx(1_000 * 2 * 0.5)
    missed = 1_000 * 2 * 0.5 * (1 - cost.negative_hit_ratio(0.99, 300))
    assert requests["usage_post_no_subscription_cache_miss"] == pytest.approx(missed * 0.75)
    assert requests[refused_lapsed] == pytest.approx(missed * 0.25)
    assert cost.usage_rows_per_day(settings_with(traffic).traffic) == pytest.approx(500)


def the_real_document():
    return json.loads(paths.OPERATIONS_TABLE.read_text())


def test_a_cache_miss_variant_listed_in_the_table_is_used_as_listed(tmp_path):
    document = the_real_document()
    listed = {kind: 7 for kind in operations.OPERATION_KINDS}
    document["routes"]["usage_post_allowed_cache_miss"] = listed
    path = tmp_path / "operations.json"
    path.write_text(json.dumps(document))
    table = operations.with_cache_miss_variants(operations.load_operations(path))
    assert table["usage_post_allowed_cache_miss"] == {**listed, operations.LOG_SAMPLED: 0}  # "log" unsaid: always
    routes = document["routes"]
    document["routes"].pop("usage_post_denied_cache_miss", None)
    path.write_text(json.dumps(document))
    table = operations.with_cache_miss_variants(operations.load_operations(path))
    assert table["usage_post_denied_cache_miss"]["kv_writes"] == (
        routes["usage_post_denied"]["kv_writes"]
        + routes["subscription_get_miss"]["kv_writes"]
        - routes["subscription_get_hit"]["kv_writes"]
    )


def test_a_negative_operation_count_is_refused(tmp_path):
    document = the_real_document()
    document["routes"]["tiers_get"]["kv_reads"] = -1
    path = tmp_path / "operations.json"
    path.write_text(json.dumps(document))
    with pytest.raises(
        operations.OperationsTableError, match=r"routes\.tiers_get\.kv_reads must be a number >= 0, got -1"
    ):
        operations.load_operations(path)


# --- traffic settings --------------------------------------------------------------


@pytest.mark.parametrize(
    ("traffic", "key", "says"),
    [
        ({"activeUsers": -5}, "traffic.activeUsers", "(got -5); fix: raise it to at least 0"),
        ({"subscriptionChecksPerUserPerDay": -1}, "traffic.subscriptionChecksPerUserPerDay", "at least 0"),
        (
            {"cacheHitRatio": 90},
            "traffic.cacheHitRatio",
            "between 0 and 1 (got 90); fix: write it as a fraction (90 % is 0.9)",
        ),
        ({"cacheHitRatio": -0.1}, "traffic.cacheHitRatio", "between 0 and 1 (got -0.1)"),
        ({"unsubscribedShare": 1.5}, "traffic.unsubscribedShare", "between 0 and 1"),
        ({"usageDeniedShare": float("nan")}, "traffic.usageDeniedShare", "between 0 and 1"),
        ({"usageCallsPerUserPerDay": float("inf")}, "traffic.usageCallsPerUserPerDay", "use a finite number"),
        ({"activeUsers": 2.5}, "traffic.activeUsers", "use a whole number"),
        ({"workersPlan": "pro"}, "traffic.workersPlan", "(got 'pro'); fix: use one of 'free' or 'paid'"),
        ({"activeUser": 10}, "traffic.activeUser", "did you mean 'traffic.activeUsers'?"),
        ({"activeUsers": True}, "traffic.activeUsers", "a boolean is not a number (got true); fix: use a number"),
        ({"cacheHitRatio": False}, "traffic.cacheHitRatio", "a boolean is not a number (got false)"),
        ({"lapsedShare": 2}, "traffic.lapsedShare", "between 0 and 1"),
    ],
)
def test_bad_traffic_settings_name_key_value_and_fix(traffic, key, says):
    with pytest.raises(SettingsError) as caught:
        settings_with(traffic)
    issues = [str(issue) for issue in caught.value.issues]
    assert len(issues) == 1 and issues[0].startswith(f"{key}: "), issues
    assert says in issues[0]


# --- the command line ------------------------------------------------------------------


def invoke(*args):
    return CliRunner().invoke(cli.app, ["estimate", *args], env={"COLUMNS": "100"})


def test_estimate_json_is_the_models_figures():
    result = invoke("--stack", "prod", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    expected = cost.estimate(stack_file_settings("prod"))
    assert printed["stack"] == "prod"
    for meter in expected.meters:
        assert printed["meters"][meter.key]["daily"] == pytest.approx(meter.daily, abs=1e-3)
        assert printed["meters"][meter.key]["monthly"] == pytest.approx(meter.monthly, abs=1e-3)
        assert printed["meters"][meter.key]["freeDailyLimit"] == meter.free_daily_limit
    assert printed["overFreeLimits"] == [m.key for m in expected.over_free_limits]
    assert printed["paidMonthlyUsd"] == pytest.approx(expected.paid_monthly_usd, abs=0.005)
    assert printed["pricesReadOn"] == pricing.PRICES_READ_ON.isoformat()


def test_estimate_prints_a_table_with_daily_figures_limits_and_the_bill():
    result = invoke("--stack", "prod")
    assert result.exit_code == 0, result.output
    expected = cost.estimate(stack_file_settings("prod"))
    writes = meter(expected, "kv_writes")
    row = next(line for line in result.output.splitlines() if line.strip().startswith("KV writes"))
    assert f"{writes.daily:,.0f}" in row and f"{writes.utilisation:.1%}" in row
    assert f"used up by {cost.utc_clock(writes.exhausted_after_s)} UTC" in result.output
    assert f"Workers Paid: ${expected.paid_monthly_usd:,.2f} a month" in result.output
    printed = " ".join(result.output.split())
    assert (
        f"at random times over the day the subscription TTL would give {expected.random_arrival_hit_ratio:.1%}"
        in printed
    )
    assert expected.kv_fallback is not None
    assert f"from {cost.utc_clock(expected.kv_fallback.after_s)} UTC, with the KV writes gone" in printed


def test_estimate_kv_counter_prices_the_guides_limiter(monkeypatch, tmp_path):
    stack_file = tmp_path / "Pulumi.busy.yaml"
    stack_file.write_text("config:\n  guruai-cache:traffic:\n    usageCallsPerUserPerDay: 10\n")
    monkeypatch.setattr(paths, "STACKS_DIR", tmp_path)
    in_d1 = json.loads(invoke("--stack", "busy", "--json").output)
    kv_counter = json.loads(invoke("--stack", "busy", "--json", "--kv-counter").output)
    assert kv_counter["usageStore"] == "kv-counter"
    table = operations.load_operations()
    usage = 10_000 * 10  # default users and hit ratio (0.9)
    miss_adds = table["subscription_get_miss"]["kv_writes"] - table["subscription_get_hit"]["kv_writes"]
    in_d1_usage_writes = usage * table["usage_post_allowed"]["kv_writes"] + usage * 0.1 * miss_adds
    added = kv_counter["meters"]["kv_writes"]["daily"] - in_d1["meters"]["kv_writes"]["daily"]
    assert added == pytest.approx(usage - in_d1_usage_writes)


def test_estimate_traffic_option_tries_other_figures_validated_like_the_stacks():
    tried = json.loads(
        invoke("--stack", "prod", "--json", "-t", "activeUsers=500", "--traffic", "workersPlan=paid").output
    )
    expected = cost.estimate(settings_with({"activeUsers": 500, "workersPlan": "paid"}))
    assert tried["traffic"]["activeUsers"] == 500 and tried["traffic"]["workersPlan"] == "paid"
    assert tried["meters"]["kv_reads"]["daily"] == pytest.approx(meter(expected, "kv_reads").daily)
    bad = invoke("--stack", "prod", "-t", "cacheHitRatio=90")
    assert bad.exit_code == 2
    assert "traffic.cacheHitRatio: a share must lie between 0 and 1 (got 90)" in bad.output
    assert "stack 'prod'" in bad.output
    malformed = invoke("--stack", "prod", "-t", "activeUsers")
    assert malformed.exit_code == 2 and "expected KEY=VALUE" in malformed.output


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            "config:\n  guruai-cache:traffic:\n    cacheHitRatio: 95\n",
            "traffic.cacheHitRatio: a share must lie between 0 and 1",
        ),
        (None, "Pulumi.typo.yaml not found"),
    ],
)
def test_estimate_mistakes_are_one_line_and_exit_2(monkeypatch, tmp_path, yaml_text, message):
    if yaml_text is not None:
        (tmp_path / "Pulumi.typo.yaml").write_text(yaml_text)
    monkeypatch.setattr(paths, "STACKS_DIR", tmp_path)
    result = invoke("--stack", "typo")
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_estimate_without_the_operations_table_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(paths, "OPERATIONS_TABLE", tmp_path / "operations.json")
    result = invoke("--stack", "dev")
    assert result.exit_code == 2
    assert "operations.json not found" in result.output


# --- the warning at pulumi preview / up ----------------------------------------------------


@pytest.fixture
def logged(monkeypatch):
    messages = {"warn": [], "info": []}
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: messages["warn"].append(message))
    monkeypatch.setattr(pulumi.log, "info", lambda message, *a, **k: messages["info"].append(message))
    return messages


def test_preview_warns_when_expected_traffic_crosses_a_free_limit(logged):
    run_program("prod", {"traffic": GUIDE}, dry_run=True)
    expected = cost.estimate(settings_with(GUIDE))
    warnings = [m for m in logged["warn"] if "Workers Free plan" in m]
    assert len(warnings) == 1
    for meter in expected.over_free_limits:
        assert f"{meter.label}: {meter.daily:,.0f}/day expected" in warnings[0]
    assert "guruai-cache estimate --stack prod" in warnings[0]
    assert f"${expected.paid_monthly_usd:,.2f} a month" in warnings[0]


def test_committed_stacks_dev_previews_quietly_and_prod_at_the_guides_traffic_warns(logged):
    run_program("dev", dry_run=True)
    assert not [m for m in logged["warn"] if "Workers Free plan" in m]
    run_program("prod", dry_run=True)
    assert [m for m in logged["warn"] if "Workers Free plan" in m and "stack 'prod'" in m]


def test_preview_is_quiet_when_the_traffic_fits(logged):
    run_program("prod", {"traffic": small_app(1)}, dry_run=True)
    assert not [m for m in logged["warn"] if "Workers Free plan" in m]


def test_on_workers_paid_preview_states_the_bill_instead(logged):
    run_program("prod", {"traffic": {**GUIDE, "workersPlan": "paid"}}, dry_run=True)
    assert not [m for m in logged["warn"] if "Workers Free plan" in m]
    assert any("a month on Workers Paid" in m for m in logged["info"])


def test_bad_traffic_stops_preview_before_any_resource(logged):
    with pytest.raises(Exception, match=r"traffic\.cacheHitRatio"):
        run_program("prod", {"traffic": {"cacheHitRatio": 2}}, dry_run=True)


def test_hand_checked_clock():
    assert cost.utc_clock(DAY_S * 1_000 / 10_000) == "02:24"
    assert math.isclose(DAY_S * 1_000 / 100_000 / 60, 14.4)


def test_a_boolean_on_the_command_line_is_refused_not_read_as_one_user():
    result = invoke("--stack", "dev", "-t", "activeUsers=true")
    assert result.exit_code == 2
    assert "traffic.activeUsers: a boolean is not a number (got true)" in " ".join(result.output.split())


# --- the D1 database's own size limit ------------------------------------------------------


def d1_bytes(users, retention_days=35, usage_calls=1):
    """What the model stores in D1 for `users` active users (all subscribed, each using the API daily)."""
    return users * (cost.SUBSCRIPTION_ROW_BYTES + min(1, usage_calls) * retention_days * cost.USAGE_ROW_BYTES)


def test_on_workers_paid_the_day_the_database_reaches_10_gb_is_named(table, logged):
    # 1 M users x (200 + 35 x 100) bytes = 3.7 GB today; +10 % users a month crosses 10 GB later.
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


# --- the free plan's KV allowance running out ------------------------------------------------


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


# --- what observing the Worker costs: Workers Logs, Analytics Engine ----------------------


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


def test_the_kv_fallback_counts_entitlements_of_users_without_a_subscription_too(table):
    """Once KV writes run out, a cached 'no subscription' for entitlements misses like any other."""
    traffic = {
        "activeUsers": 10_000,
        "subscriptionChecksPerUserPerDay": 0,
        "subscriptionUpdatesPerDay": 0,
        "entitlementsChecksPerUserPerDay": 10,
        "unsubscribedShare": 1.0,
        "lapsedShare": 1.0,
    }
    result = cost.estimate(settings_with(traffic), table)
    fallback = result.kv_fallback
    assert fallback is not None
    served = fallback.after_s / DAY_S
    negative_hits = result.requests["entitlements_get_negative_hit"]
    per_miss = table["entitlements_get_not_found_lapsed"]["d1_rows_read"]
    assert per_miss == 1 and fallback.extra["d1_rows_read"] == pytest.approx((1 - served) * negative_hits * per_miss)
