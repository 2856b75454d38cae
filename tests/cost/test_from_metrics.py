"""`guruai-cache estimate --from-metrics`: the traffic the Worker's own data points show (the SQL
`metrics` sends, answered by the local API stub over recorded points), priced beside the
settings' estimate, and each setting it contradicts named."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cloudflare_stub import CloudflareStub, StubState
from pulumi_mocks import ACCOUNT_ID
from test_metrics import TOKEN, dataset, point
from typer.testing import CliRunner

from infra.cost import estimate as cost
from infra.cost import operations
from infra.settings import stack_file_settings
from infra.tools import cli

S, P, U = "GET /subscriptions/{userId}", "PUT /subscriptions/{userId}", "POST /usage/{userId}"


@pytest.fixture
def stub():
    with CloudflareStub(StubState(account_id=ACCOUNT_ID, token=TOKEN, namespaces={})) as running:
        yield running


def invoke(stub, monkeypatch, *args):
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", stub.base_url)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT_ID)
    return CliRunner().invoke(cli.app, ["estimate", "--stack", "dev", "--from-metrics", *args])


TABLE = operations.load_operations()


def recorded(route, outcome, cache, status, entry=None, duration_ms=3.0):
    """A data point as the Worker writes it, with the operations it counted: the table's entry for
    the outcome (or `entry`, an entry of the table under another name, or counts of its own)."""
    data_point = point(route, outcome, cache, status)
    counts = entry if isinstance(entry, dict) else TABLE[entry or outcome]
    data_point["doubles"] = [counts[kind] for kind in operations.OPERATION_KINDS] + [duration_ms]
    return data_point


def record(stub, points, sample_interval=10, days=7):
    """The same points each day of the last `days` (1 in `sample_interval` requests sampled)."""
    now = dt.datetime.now(dt.UTC)
    for day in range(days):
        stub.state.load_data_points(dataset(), points, now - dt.timedelta(days=day, hours=1), sample_interval)


def record_a_week(stub):
    """A week of the dev stack's Worker, sampled 1 in 10: 62 % of lookups hit, 7,000 checks and 700
    updates a day; no usage calls."""
    record(
        stub,
        [
            *[recorded(S, "subscription_get_hit", "hit", 200)] * 434,
            *[recorded(S, "subscription_get_miss", "miss", 200)] * 266,
            *[recorded(P, "subscription_put", "", 200)] * 70,
        ],
    )


def test_the_measured_traffic_is_priced_and_each_contradicted_setting_named(stub, monkeypatch):
    record_a_week(stub)
    result = invoke(stub, monkeypatch, "--json", "--since", "7d")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)["fromMetrics"]
    settings = stack_file_settings("dev")
    assert printed["days"] == 7
    assert printed["measured"]["cacheHitRatio"] == pytest.approx(0.62)
    users = settings.traffic.active_users
    assert printed["measured"]["subscriptionChecksPerUserPerDay"] == pytest.approx(7_000 / users)
    assert printed["measured"]["subscriptionUpdatesPerDay"] == pytest.approx(700)
    assert printed["measured"]["usageCallsPerUserPerDay"] == 0
    contradicted = {c["setting"] for c in printed["contradicted"]}
    assert {"traffic.cacheHitRatio", "traffic.subscriptionChecksPerUserPerDay", "traffic.usageCallsPerUserPerDay"} <= (
        contradicted
    )
    # Priced as the model prices those settings.
    measured = settings.traffic.model_copy(
        update={
            "cache_hit_ratio": 0.62,
            "subscription_checks_per_user_per_day": 7_000 / users,
            "subscription_updates_per_day": 700,
            "usage_calls_per_user_per_day": 0,
            "tier_reads_per_user_per_day": 0,
            "entitlements_checks_per_user_per_day": 0,
            "health_checks_per_day": 0,
        }
    )
    expected = cost.estimate(settings.model_copy(update={"traffic": measured}))
    assert printed["paidMonthlyUsd"] == pytest.approx(expected.paid_monthly_usd, abs=0.005)
    text = invoke(stub, monkeypatch, "--since", "7d").output
    configured = settings.traffic.cache_hit_ratio
    assert f"`traffic.cacheHitRatio` is {configured:.2f}; measured 0.62 over 7 days" in " ".join(text.split())


def test_without_a_token_it_says_which_to_export(stub, monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", stub.base_url)
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    result = CliRunner().invoke(cli.app, ["estimate", "--stack", "dev", "--from-metrics"])
    assert result.exit_code == 2 and "CLOUDFLARE_API_TOKEN is not set" in result.output
    assert "Traceback" not in result.output


def test_the_operations_the_data_points_recorded_are_priced_not_the_tables(stub, monkeypatch):
    """Usage calls whose points count the keyed batch (5 rows read, 4 written), 200 a day each for
    the dev stack's users, but at 10,000 times the volume: the recorded D1 rows are what is priced."""
    keyed = TABLE["usage_post_allowed_keyed"]
    heavier = {**keyed, "d1_rows_written": 3 * keyed["d1_rows_written"]}  # a Worker newer than the table
    record(stub, [*[recorded(U, "usage_post_allowed", "hit", 200, heavier)] * 100], sample_interval=100_000)
    printed = json.loads(invoke(stub, monkeypatch, "--json", "--since", "7d").output)["fromMetrics"]
    calls_a_day = 100 * 100_000
    written = printed["operationsPerDay"]["d1_rows_written"]
    cleanup = calls_a_day * TABLE[operations.PER_DELETED_ROW]["d1_rows_written"]  # each call's key, a day later
    assert written["recorded"] == pytest.approx(calls_a_day * heavier["d1_rows_written"] + cleanup, rel=1e-6)
    assert written["model"] == pytest.approx(calls_a_day * keyed["d1_rows_written"] + cleanup, rel=1e-6)
    # Both past Paid's 50 million rows written a month: the bills differ by the extra rows, at
    # $1.00 a million (all else recorded is what the model has: every lookup a hit, as measured).
    extra = (written["recorded"] - written["model"]) * 30 / 1e6 * 1.00
    assert printed["paidMonthlyUsd"] - printed["modelPaidMonthlyUsd"] == pytest.approx(extra, abs=0.02)
    text = " ".join(invoke(stub, monkeypatch, "--since", "7d").output.split())
    assert f"D1 rows written: {written['recorded']:,.0f} recorded; the model {written['model']:,.0f}" in text


def test_negative_hits_are_apart_from_the_hit_ratio_and_the_unsubscribed_share_is_calibrated(stub, monkeypatch):
    """70 lookups of subscribers (49 hits) and 30 of users without one (a third answered by the
    negative cache): the hit ratio is 0.70, not 59/100, and `unsubscribedShare` 0.30."""
    record(
        stub,
        [
            *[recorded(S, "subscription_get_hit", "hit", 200)] * 49,
            *[recorded(S, "subscription_get_miss", "miss", 200)] * 21,
            *[recorded(S, "subscription_get_negative_hit", "hit", 404)] * 10,
            *[recorded(S, "subscription_get_not_found", "miss", 404, "subscription_get_not_found_lapsed")] * 20,
        ],
    )
    printed = json.loads(invoke(stub, monkeypatch, "--json", "--since", "7d").output)["fromMetrics"]
    assert printed["measured"]["cacheHitRatio"] == pytest.approx(0.70)
    assert printed["measured"]["unsubscribedShare"] == pytest.approx(0.30)
    assert printed["negativeCacheHitRatio"] == pytest.approx(1 / 3, abs=1e-4)
    assert {"setting": "traffic.unsubscribedShare", "configured": 0.0, "measured": 0.3} in printed["contradicted"]
    text = " ".join(invoke(stub, monkeypatch, "--since", "7d").output.split())
    assert "`traffic.unsubscribedShare` is 0.00; measured 0.30 over 7 days" in text
    # The dev stack has no route or custom domain: the model expects no negative hit (*.workers.dev).
    assert "negative cache hit ratio measured 0.33; the model derives 0.00" in text


def test_what_the_cache_buys_in_time_is_measured_from_the_data_points_durations(stub, monkeypatch):
    """Hits that took 4 ms and misses that took 40 ms (the Worker's duration_ms): the D1-alone
    design would turn each of the 800 hits a day into a miss, 36 ms dearer."""
    record(
        stub,
        [
            *[recorded(S, "subscription_get_hit", "hit", 200, duration_ms=4.0)] * 80,
            *[recorded(S, "subscription_get_miss", "miss", 200, duration_ms=40.0)] * 20,
            *[recorded(U, "usage_post_allowed", "hit", 200, "usage_post_allowed_keyed", duration_ms=6.0)] * 10,
        ],
    )
    printed = json.loads(invoke(stub, monkeypatch, "--json", "--since", "7d").output)["fromMetrics"]
    hit_ms = (80 * 4.0 + 10 * 6.0) / 90  # a usage call's lookup that KV answered counts as a hit
    assert printed["latencyMs"] == {"kvHit": pytest.approx(hit_ms, abs=0.01), "d1Miss": 40.0}
    text = " ".join(invoke(stub, monkeypatch, "--since", "7d").output.split())
    assert (
        f"a lookup KV answered took {hit_ms:.1f} ms, one D1 answered 40.0 ms (mean duration_ms); "
        f"D1 alone would make the 900 KV hits a day D1 queries, +{40 - hit_ms:.1f} ms each"
    ) in text
