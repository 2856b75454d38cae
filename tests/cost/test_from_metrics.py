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


def record_a_week(stub):
    """A week of the dev stack's Worker, sampled 1 in 10: 62 % of lookups hit, 7,000 checks and 700
    updates a day; no usage calls."""
    now = dt.datetime.now(dt.UTC)
    for day in range(7):
        when = now - dt.timedelta(days=day, hours=1)
        points = [
            *[point(S, "subscription_get_hit", "hit", 200)] * 434,
            *[point(S, "subscription_get_miss", "miss", 200)] * 266,
            *[point(P, "subscription_put", "", 200)] * 70,
        ]
        stub.state.load_data_points(dataset(), points, when, sample_interval=10)


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
