"""`guruai-cache preflight`: the official cloudflare SDK against the local API stub (tests/cloudflare_stub.py)."""

from __future__ import annotations

import pytest
from cloudflare_stub import CloudflareStub, StubState
from pulumi_mocks import ACCOUNT_ID
from typer.testing import CliRunner

from infra import paths
from infra.tools import cli

TOKEN = "test-preflight-token-" + "p" * 19
ZONE_ID = "0f" * 16


def invoke(stub, monkeypatch, stack="dev", *, token=TOKEN, account=ACCOUNT_ID):
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", stub.base_url)
    for name, value in (("CLOUDFLARE_API_TOKEN", token), ("CLOUDFLARE_ACCOUNT_ID", account)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return CliRunner().invoke(cli.app, ["preflight", "--stack", stack])


def lines(result) -> dict[str, tuple[str, str]]:
    """Each check's line, by name: (ok / FAIL / skip, detail)."""
    found = {}
    for line in result.output.splitlines():
        if line.startswith("  "):
            mark, _, rest = line.strip().partition(" ")
            name, _, detail = rest.strip().partition(": ")
            found[name] = (mark, detail)
    return found


def state(**overrides) -> StubState:
    return StubState(account_id=ACCOUNT_ID, token=TOKEN, namespaces={}, **overrides)


def stack_file(monkeypatch, tmp_path, name: str, text: str) -> str:
    (tmp_path / f"Pulumi.{name}.yaml").write_text("config:\n" + text)
    monkeypatch.setattr(paths, "STACKS_DIR", tmp_path)
    return name


def test_a_ready_account_passes_every_check(monkeypatch):
    with CloudflareStub(state()) as stub:
        result = invoke(stub, monkeypatch)
    assert result.exit_code == 0, result.output
    found = lines(result)
    assert found["API token"] == ("ok", "valid and active (user token)")
    assert found["account"] == ("ok", "read 'Acme' (Account Settings: Read)")
    for name in ("KV namespaces", "D1 databases", "Workers scripts"):
        assert found[name][0] == "ok", name
    assert found["workers.dev subdomain"] == ("ok", "acme.workers.dev")
    assert found["Analytics Engine"][0] == "ok"
    assert "ready for `pulumi up --stack dev`" in result.output
    assert TOKEN not in result.output
    assert all(method in ("GET", "POST") for method, _, _ in stub.state.requests)  # reads only


def test_analytics_engine_not_enabled_fails_with_the_fix(monkeypatch):
    with CloudflareStub(state(analytics_engine_enabled=False)) as stub:
        result = invoke(stub, monkeypatch)
    assert result.exit_code == 1
    mark, detail = lines(result)["Analytics Engine"]
    assert mark == "FAIL" and "10089" in detail and "Analytics Engine is not enabled" in detail
    assert f"https://dash.cloudflare.com/{ACCOUNT_ID}/workers/analytics-engine" in detail
    assert "Account Analytics: Read" in detail and "metrics.enabled false --stack dev" in detail
    assert "Traceback" not in result.output


def test_a_worker_deployed_with_its_binding_proves_analytics_engine_to_a_token_without_analytics(monkeypatch):
    """A later deploy's token may lack Account Analytics: Read; the last upload's binding is the proof."""
    binding = {"type": "analytics_engine", "name": "METRICS", "dataset": "guruai_requests_dev"}
    with CloudflareStub(state(denied={"analytics"}, scripts={"guruai-worker-dev": [binding]})) as stub:
        result = invoke(stub, monkeypatch)
    assert result.exit_code == 0, result.output
    mark, detail = lines(result)["Analytics Engine"]
    assert mark == "ok" and "guruai-worker-dev is deployed with its analytics_engine binding" in detail
    with CloudflareStub(state(denied={"analytics"}, scripts={"guruai-worker-dev": []})) as stub:
        assert lines(invoke(stub, monkeypatch))["Analytics Engine"][0] == "FAIL"  # uploaded without it


def test_analytics_engine_is_not_asked_when_metrics_are_off(monkeypatch, tmp_path):
    stack = stack_file(monkeypatch, tmp_path, "quiet", "  guruai-cache:metrics:\n    enabled: false\n")
    with CloudflareStub(state(analytics_engine_enabled=False)) as stub:
        result = invoke(stub, monkeypatch, stack)
    assert result.exit_code == 0, result.output
    assert lines(result)["Analytics Engine"][0] == "skip"
    assert not [p for _, p, _ in stub.state.requests if p.endswith("/analytics_engine/sql")]


def test_an_account_without_a_workers_dev_subdomain_fails_with_the_fix(monkeypatch):
    with CloudflareStub(state(subdomain=None)) as stub:
        result = invoke(stub, monkeypatch)
    assert result.exit_code == 1
    mark, detail = lines(result)["workers.dev subdomain"]
    assert mark == "FAIL" and "10063 subdomain_required" in detail
    assert f"https://dash.cloudflare.com/{ACCOUNT_ID}/workers/onboarding" in detail
    assert "workersDev false --stack dev" in detail


def test_the_subdomain_is_not_asked_when_workers_dev_is_off_and_the_zone_is(monkeypatch, tmp_path):
    settings = (
        "  guruai-cache:workersDev: false\n"
        f"  guruai-cache:customDomain:\n    hostname: cache.example.com\n    zoneId: {ZONE_ID}\n"
    )
    stack = stack_file(monkeypatch, tmp_path, "edge", settings)
    with CloudflareStub(state(subdomain=None)) as stub:
        result = invoke(stub, monkeypatch, stack)
    assert result.exit_code == 0, result.output
    found = lines(result)
    assert found["workers.dev subdomain"][0] == "skip"
    assert found[f"customDomain zone {ZONE_ID}"][0] == "ok"
    assert ("GET", f"/client/v4/zones/{ZONE_ID}/workers/routes", {}) in stub.state.requests


def test_a_token_without_a_permission_names_it_and_the_others_still_run(monkeypatch, tmp_path):
    settings = f"  guruai-cache:route:\n    pattern: api.example.com/*\n    zoneId: {ZONE_ID}\n"
    stack = stack_file(monkeypatch, tmp_path, "routed", settings)
    with CloudflareStub(state(denied={"d1", f"zone:{ZONE_ID}"})) as stub:
        result = invoke(stub, monkeypatch, stack)
    assert result.exit_code == 1
    found = lines(result)
    mark, detail = found["D1 databases"]
    assert mark == "FAIL" and "HTTP 403" in detail and f"give it D1: Edit on account {ACCOUNT_ID}" in detail
    mark, detail = found[f"route zone {ZONE_ID}"]
    assert mark == "FAIL" and f"Workers Routes: Edit on zone {ZONE_ID}" in detail
    assert found["KV namespaces"][0] == "ok"
    assert found["Analytics Engine"][0] == "ok"


def test_an_account_owned_token_verifies_at_the_account(monkeypatch):
    with CloudflareStub(state(account_owned_token=True)) as stub:
        result = invoke(stub, monkeypatch)
    assert result.exit_code == 0, result.output
    assert lines(result)["API token"] == ("ok", "valid and active (account-owned token)")


@pytest.mark.parametrize(
    ("overrides", "token", "expected"),
    [
        ({}, "wrong-token", "CLOUDFLARE_API_TOKEN is wrong"),
        ({"token_status": "expired"}, TOKEN, "the API token is expired"),
    ],
)
def test_a_refused_token_is_one_failure_and_stops_the_checks(monkeypatch, overrides, token, expected):
    with CloudflareStub(state(**overrides)) as stub:
        result = invoke(stub, monkeypatch, token=token)
    assert result.exit_code == 1
    found = lines(result)
    assert list(found) == ["cloudflare API"]
    assert found["cloudflare API"][0] == "FAIL" and expected in found["cloudflare API"][1]
    assert token not in result.output


@pytest.mark.parametrize(
    ("token", "account", "expected"),
    [(None, ACCOUNT_ID, "CLOUDFLARE_API_TOKEN is not set"), (TOKEN, None, "has no account id")],
)
def test_a_missing_token_or_account_id_is_a_user_mistake(monkeypatch, tmp_path, token, account, expected):
    stack = stack_file(monkeypatch, tmp_path, "bare", "  guruai-cache:appName: guruai\n")
    with CloudflareStub(state()) as stub:
        result = invoke(stub, monkeypatch, stack, token=token, account=account)
    assert result.exit_code == 2 and expected in result.output and "Traceback" not in result.output
    assert stub.state.requests == []


def test_an_unreachable_api_is_one_line(monkeypatch):
    class Closed:
        base_url = "http://127.0.0.1:9/client/v4"

    result = invoke(Closed, monkeypatch)
    assert result.exit_code == 1
    assert list(lines(result)) == ["cloudflare API"] and "could not reach the Cloudflare API" in result.output


def test_a_production_stack_without_clients_stops_before_any_request(monkeypatch, tmp_path):
    # Nothing could call its Worker (production gets no generated token): the deploy stops here.
    name = stack_file(monkeypatch, tmp_path, "prod", "  guruai-cache:production: true\n")
    with CloudflareStub(state()) as stub:
        result = invoke(stub, monkeypatch, name)
        assert stub.state.requests == []
    assert result.exit_code == 2
    assert "clients: none in a production stack" in result.output
    assert "new-token --name <app> --scope read" in result.output
