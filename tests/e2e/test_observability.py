"""What the Worker tells about itself, on real workerd: routine log lines sampled at the configured
rate and every other one written, one Analytics Engine data point per request whatever happens to
the binding, and `guruai-cache metrics` reading the Worker's own data points through the local
API stub (which runs the command's SQL over them in SQLite).

Data points are recorded by tests/e2e/recording_worker.js: wrangler's local Analytics Engine
binding keeps nothing (docs/observability.md).
"""

from __future__ import annotations

import json

import pytest
from cloudflare_stub import CloudflareStub, StubState
from local_worker import RunningWorker, worker_env
from pulumi_mocks import ACCOUNT_ID
from test_worker_api import subscribe
from typer.testing import CliRunner

from infra.tools import cli

pytestmark = pytest.mark.e2e

TOKEN = "test-analytics-token-" + "e" * 20


def logged(worker: RunningWorker, responses: list) -> list[dict]:
    """The request log lines of `responses`, read once all their data points are printed."""
    worker.data_points_for(responses[-1])  # printed after its request's line, and after every earlier one
    ids = {response.headers["X-Request-Id"] for response in responses}
    return [line for line in worker.log_lines() if line.get("event") == "request" and line.get("request_id") in ids]


@pytest.mark.parametrize("rate", [0, 1])
def test_routine_lines_follow_the_rate_and_every_other_line_is_written(worker, user_id, rate):
    subscribe(worker, user_id)
    worker.get(f"/subscriptions/{user_id}")  # cached
    with worker.sending(worker_env(ROUTINE_LOG_SAMPLE_RATE=rate)):
        routine = [worker.get("/health"), worker.get(f"/subscriptions/{user_id}"), worker.get("/tiers")]
        flood = [worker.get("/tiers", token="wrong"), worker.get("/nowhere")]  # anyone can send these: sampled
        always = [
            worker.put(f"/subscriptions/{user_id}", {"tier": "premium"}),
            worker.put(f"/subscriptions/{user_id}", {"tier": "pro"}, token=worker.local_tokens["read"]),
        ]
    lines = logged(worker, routine + flood + always)
    sampled = ["health", "subscription_get_hit", "tiers_get", "unauthorized", "not_found"]
    assert sorted(line["outcome"] for line in lines) == sorted(
        ["subscription_put", "forbidden"] + (sampled if rate else [])
    )
    assert all(line["sample_rate"] == 1 for line in lines if line["outcome"] in sampled)
    assert all("sample_rate" not in line for line in lines if line["outcome"] in ("subscription_put", "forbidden"))


def test_a_rate_between_samples_about_that_share_of_routine_lines(worker):
    with worker.sending(worker_env(ROUTINE_LOG_SAMPLE_RATE=0.25)):
        responses = [worker.get("/health") for _ in range(200)]
    lines = logged(worker, responses)
    # Binomial(200, 0.25): mean 50, sd 6.1; outside 20..80 once in about 10^6 runs.
    assert 20 <= len(lines) <= 80, len(lines)
    assert {line["sample_rate"] for line in lines} == {0.25}  # each line says what it stands for
    assert all(len(worker.data_points_for(r)["points"]) == 1 for r in responses[-5:])  # every request counted


def test_a_routine_answer_that_met_trouble_is_logged_at_any_rate(faulty_worker, user_id):
    w = faulty_worker
    subscribe(w, user_id)
    w.get(f"/subscriptions/{user_id}")  # cached: the POST below is a routine, counted use
    with w.sending(worker_env(ROUTINE_LOG_SAMPLE_RATE=0)):
        plain = w.post(f"/usage/{user_id}")
        troubled = w.post(f"/usage/{user_id}", headers={"X-Test-Fault": "ratelimiter"})
    assert plain.status_code == troubled.status_code == 200
    [line] = logged(w, [plain, troubled])
    assert (
        line["request_id"] == troubled.headers["X-Request-Id"]
        and "injected ratelimit failure" in line["ratelimiter_error"]
    )


def test_without_the_binding_or_with_it_failing_the_request_is_answered_all_the_same(faulty_worker):
    w = faulty_worker
    with w.sending(worker_env(ROUTINE_LOG_SAMPLE_RATE=0)):
        missing = w.get("/health", headers={"X-Test-Fault": "metrics-missing"})
        failing = w.get("/health", headers={"X-Test-Fault": "metrics-failing"})
    assert missing.status_code == failing.status_code == 200
    assert w.data_points_for(missing)["points"] == [] and w.data_points_for(failing)["points"] == []
    [line] = logged(w, [missing, failing])  # a failed write is worth a line, even on a routine answer
    assert line["request_id"] == failing.headers["X-Request-Id"]
    assert "injected Analytics Engine failure" in line["metrics_error"]


def test_the_metrics_command_reads_the_workers_own_data_points(worker, user_id, monkeypatch):
    """A known mix of requests on the Worker; their recorded data points loaded into the stub's
    Analytics Engine; `guruai-cache metrics` reports exactly that mix."""
    unknown = f"{user_id}-nobody"
    responses = [
        worker.put(f"/subscriptions/{user_id}", {"tier": "pro"}),  # a write, no lookup
        worker.get(f"/subscriptions/{user_id}"),  # miss
        *[worker.get(f"/subscriptions/{user_id}") for _ in range(3)],  # hits
        worker.get(f"/subscriptions/{unknown}"),  # miss, 404
        *[worker.get(f"/subscriptions/{unknown}") for _ in range(2)],  # negative hits, 404
        *[worker.post(f"/usage/{user_id}") for _ in range(2)],  # hits: counted uses
        worker.post(f"/usage/{unknown}"),  # negative hit: refused, 404
        worker.get("/tiers", token="wrong"),  # refused, 401
    ]
    points = [point for response in responses for point in worker.data_points_for(response)["points"]]
    assert len(points) == len(responses)
    dataset = worker.settings.names("dev").metrics_dataset
    with CloudflareStub(StubState(account_id=ACCOUNT_ID, token=TOKEN, namespaces={})) as stub:
        stub.state.load_data_points(dataset, points)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", stub.base_url)
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
        monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT_ID)
        result = CliRunner().invoke(cli.app, ["metrics", "--stack", "dev", "--since", "1h", "--json"])
    assert result.exit_code == 0, result.output
    routes = json.loads(result.output)["routes"]
    subscriptions, usage = routes["GET /subscriptions/{userId}"], routes["POST /usage/{userId}"]
    assert (subscriptions["requests"], subscriptions["hits"], subscriptions["misses"]) == (7, 5, 2)
    assert subscriptions["statuses"] == {"200": 4, "404": 3} and subscriptions["hitRatio"] == round(5 / 7, 4)
    # The unknown user's refusal is a 404 no_active_subscription: not a denial (401, 403, 429).
    assert (usage["requests"], usage["hits"], usage["denials"]) == (3, 3, 0)
    assert routes["PUT /subscriptions/{userId}"] | {"statuses": None} == {
        "requests": 1, "hits": 0, "misses": 0, "bypasses": 0, "hitRatio": None, "denials": 0, "errors": 0,
        "statuses": None,
    }  # fmt: skip
    assert routes["GET /tiers"]["denials"] == 1 and set(routes) == {
        "GET /subscriptions/{userId}", "POST /usage/{userId}", "PUT /subscriptions/{userId}", "GET /tiers",
    }  # fmt: skip
