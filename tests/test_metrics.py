"""`guruai-cache metrics` against the local API stub, whose Analytics Engine SQL API runs the SQL
the command sends in SQLite over data points shaped as the Worker writes them (the e2e test
tests/e2e/test_observability.py feeds it the Worker's own)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cloudflare_stub import CloudflareStub, StubState
from pulumi_mocks import ACCOUNT_ID
from typer.testing import CliRunner

from infra import paths, worker_contract
from infra.cost.operations import OPERATION_KINDS
from infra.settings import stack_file_settings
from infra.tools import cli, metrics

TOKEN = "test-analytics-token-" + "a" * 20
S, U, E = "GET /subscriptions/{userId}", "POST /usage/{userId}", "GET /entitlements/{userId}"


def dataset() -> str:
    """The dev stack's dataset, as the command finds it from the (tests' own) stack file."""
    return stack_file_settings("dev").names("dev").metrics_dataset


def point(route: str, outcome: str, cache: str, status: int, client: str = "app") -> dict:
    """A data point in the Worker's shape (worker_contract.METRICS_DATA_POINT)."""
    fields = {"route": route, "outcome": outcome, "cache": cache, "status": str(status), "client": client}
    doubles = [0.0] * len(OPERATION_KINDS) + [3.0]
    return {
        "indexes": [fields[worker_contract.METRICS_DATA_POINT["index"]]],
        "blobs": [fields[name] for name in worker_contract.METRICS_DATA_POINT["blobs"]],
        "doubles": doubles,
    }


# A day of traffic: hits, misses, negative hits, denials of each kind, an outage, health checks.
TRAFFIC = [
    *[point(S, "subscription_get_hit", "hit", 200)] * 9,
    point(S, "subscription_get_miss", "miss", 200),
    *[point(S, "subscription_get_negative_hit", "hit", 404)] * 2,
    *[point(U, "usage_post_allowed", "hit", 200)] * 3,
    *[point(U, "usage_post_denied", "hit", 429)] * 2,
    point(U, "usage_post_no_subscription_cache_miss", "miss", 403),
    point(U, "usage_post_allowed_degraded", "bypass", 200),
    point(E, "d1_unavailable", "miss", 503),
    *[point("GET /health", "health", "", 200, client="")] * 5,
    *[point("GET /tiers", "unauthorized", "", 401, client="")] * 2,
]


@pytest.fixture
def stub():
    with CloudflareStub(StubState(account_id=ACCOUNT_ID, token=TOKEN, namespaces={})) as running:
        yield running


def invoke(stub, monkeypatch, *args, token=TOKEN, account=ACCOUNT_ID):
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", stub.base_url)
    for name, value in (("CLOUDFLARE_API_TOKEN", token), ("CLOUDFLARE_ACCOUNT_ID", account)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return CliRunner().invoke(cli.app, ["metrics", *args])


def figures(stub, monkeypatch, *args) -> dict:
    result = invoke(stub, monkeypatch, "--stack", "dev", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_each_routes_hit_ratio_misses_denials_and_errors_come_from_the_data_points(stub, monkeypatch):
    stub.state.load_data_points(dataset(), TRAFFIC)
    report = figures(stub, monkeypatch)
    assert report["stack"] == "dev" and report["dataset"] == "guruai_requests_dev"
    routes = report["routes"]
    assert set(routes) == {S, U, E, "GET /health", "GET /tiers"}
    # 9 hits and 2 negative hits (the cache answered "no subscription") against 1 miss.
    assert routes[S] | {"statuses": None} == {
        "requests": 12, "hits": 11, "misses": 1, "bypasses": 0, "hitRatio": round(11 / 12, 4),
        "denials": 0, "errors": 0, "statuses": None,
    }  # fmt: skip
    assert routes[S]["statuses"] == {"200": 10, "404": 2}
    # Denials: over the daily limit (429) and without a subscription (403); KV down is a bypass.
    assert (routes[U]["denials"], routes[U]["hits"], routes[U]["misses"], routes[U]["bypasses"]) == (3, 5, 1, 1)
    assert routes[U]["hitRatio"] == round(5 / 7, 4)
    assert (routes[E]["errors"], routes[E]["requests"]) == (1, 1)
    assert routes["GET /health"]["hitRatio"] is None  # no lookup, no ratio
    assert routes["GET /tiers"]["denials"] == 2  # refused tokens count on the route they asked for
    assert report["total"]["requests"] == len(TRAFFIC) and report["total"]["errors"] == 1
    assert report["total"]["denials"] == 5


def test_the_sql_sent_is_analytics_engines_and_weights_each_point_by_its_sample_interval(stub, monkeypatch):
    stub.state.load_data_points(dataset(), [point(S, "subscription_get_hit", "hit", 200)] * 3, sample_interval=100)
    stub.state.load_data_points(dataset(), [point(S, "subscription_get_miss", "miss", 200)], sample_interval=1)
    route = figures(stub, monkeypatch)["routes"][S]
    assert (route["hits"], route["misses"], route["requests"]) == (300, 1, 301)  # sampled: each stands for 100
    [sql] = stub.state.analytics.queries
    assert sql.startswith("SELECT blob1 AS route, blob3 AS cache, blob4 AS status, SUM(_sample_interval) AS requests")
    assert f"FROM {dataset()} WHERE timestamp >= toDateTime(" in sql and sql.endswith("FORMAT JSON")
    assert [request[:2] for request in stub.state.requests] == [
        ("POST", f"/client/v4/accounts/{ACCOUNT_ID}/analytics_engine/sql")
    ]


def test_the_window_reaches_back_since_and_no_further(stub, monkeypatch):
    now = dt.datetime.now(dt.UTC)
    stub.state.load_data_points(dataset(), [point(S, "subscription_get_hit", "hit", 200)], now - dt.timedelta(hours=1))
    stub.state.load_data_points(dataset(), [point(S, "subscription_get_miss", "miss", 200)], now - dt.timedelta(days=2))
    assert figures(stub, monkeypatch)["routes"][S]["requests"] == 1  # the default: 24h
    assert figures(stub, monkeypatch, "--since", "3d")["routes"][S]["requests"] == 2
    assert figures(stub, monkeypatch, "--since", "30m")["routes"] == {}
    window = figures(stub, monkeypatch, "--since", "90m")
    since, until = dt.datetime.fromisoformat(window["since"]), dt.datetime.fromisoformat(window["until"])
    assert until - since == dt.timedelta(minutes=90)


def test_the_table_shows_each_route_and_the_total(stub, monkeypatch):
    stub.state.load_data_points(dataset(), TRAFFIC)
    result = invoke(stub, monkeypatch, "--stack", "dev")
    assert result.exit_code == 0, result.output
    rows = {line[:23].strip(): line[23:].split() for line in result.output.splitlines()}
    # requests, hit %, hits, misses, bypass, denied, errors
    assert rows["GET /subscriptions/:id"] == ["12", "91.7%", "11", "1", "0", "0", "0"]
    assert rows["POST /usage/:id"] == ["7", "71.4%", "5", "1", "1", "3", "0"]
    assert rows["GET /health"] == ["5", "-", "0", "0", "0", "0", "0"]
    assert rows["all routes"] == [str(len(TRAFFIC)), "80.0%", "16", "3", "1", "5", "1"]  # 16 hits of 20 lookups


def test_a_window_without_data_points_says_so(stub, monkeypatch):
    stub.state.load_data_points(dataset(), [])
    result = invoke(stub, monkeypatch, "--stack", "dev")
    assert result.exit_code == 0 and "no data points from" in result.output and dataset() in result.output


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--since", "2x"], {}, "--since '2x': use a duration like 30m, 24h or 7d"),
        (["--since", "0h"], {}, "--since '0h': use a duration"),
        (["--since", "100d"], {}, "keeps data points 90 days; use 90d or less"),
        ([], {"token": None}, "CLOUDFLARE_API_TOKEN is not set: export a token allowed Account Analytics: Read"),
        ([], {"token": "wrong"}, "the API token was refused (HTTP 401)"),
        ([], {"account": None}, "stack 'dev' has no account id: `pulumi config set accountId"),
        ([], {"account": "0" * 32}, "the API token was refused (HTTP 403)"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(stub, monkeypatch, args, env, message):
    stub.state.load_data_points(dataset(), TRAFFIC)
    result = invoke(stub, monkeypatch, "--stack", "dev", *args, **env)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert TOKEN not in result.output


def test_a_dataset_not_made_yet_is_explained(stub, monkeypatch):
    result = invoke(stub, monkeypatch, "--stack", "dev")  # no data point was ever written
    assert result.exit_code == 2
    assert "answered HTTP 400: error in query: no such table" in result.output
    assert "made by the Worker's first data point" in result.output


def test_an_unreachable_api_is_one_line(monkeypatch):
    class Closed:
        base_url = "http://127.0.0.1:9/client/v4"

    result = invoke(Closed, monkeypatch, "--stack", "dev")
    assert result.exit_code == 2 and "could not reach the Cloudflare API" in result.output


def test_a_stack_without_metrics_is_told_so(monkeypatch, tmp_path, stub):
    (tmp_path / "Pulumi.quiet.yaml").write_text("config:\n  guruai-cache:metrics:\n    enabled: false\n")
    monkeypatch.setattr(paths, "STACKS_DIR", tmp_path)
    result = invoke(stub, monkeypatch, "--stack", "quiet")
    assert result.exit_code == 2 and "metrics.enabled: false" in result.output


def test_rows_with_numbers_or_quoted_integers_read_the_same():
    quoted = metrics.summarize([{"route": S, "cache": "hit", "status": "200", "requests": "7"}])
    plain = metrics.summarize([{"route": S, "cache": "hit", "status": 200.0, "requests": 7}])
    assert quoted[S].to_json() == plain[S].to_json()
    with pytest.raises(metrics.UserError, match="cannot read"):
        metrics.summarize([{"route": S, "cache": "hit"}])


def test_a_dataset_name_that_is_no_sql_identifier_is_quoted():
    window = metrics.window_back_from(dt.datetime(2026, 11, 26, tzinfo=dt.UTC), dt.timedelta(hours=1))
    assert 'FROM "1app_requests_dev" WHERE' in metrics.query("1app_requests_dev", window)
    assert "FROM guruai_requests_dev WHERE" in metrics.query("guruai_requests_dev", window)
