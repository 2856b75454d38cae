"""`guruai-cache verify`: the official cloudflare SDK against a local stub of the API endpoints it uses."""

import json

import cloudflare
import httpx
import pytest
from cloudflare_stub import CloudflareStub, StubState
from pulumi_mocks import SCRIPT, unwrap
from typer.testing import CliRunner

from infra.plan.catalog import catalog_document
from infra.plan.seeds import seed_entries
from infra.settings import stack_file_settings
from infra.tools import cli, verify

TOKEN = "stub-token-" + "k" * 29


@pytest.fixture(scope="module")
def dev_outputs(tmp_path_factory, dev_run):
    path = tmp_path_factory.mktemp("verify") / "dev.json"
    path.write_text(json.dumps(dev_run.outputs))
    return dev_run.outputs, path


@pytest.fixture
def expected():
    return seed_entries(stack_file_settings("dev"))


def dev_catalog_version() -> str:
    version: str = catalog_document(stack_file_settings("dev"))["version"]
    return version


def healthy() -> tuple[int, dict]:
    """What the dev Worker's /health answers when its last deploy carried the dev settings."""
    return (200, {"status": "ok", "environment": "dev", "catalogVersion": dev_catalog_version()})


class FakeClock:
    """Time that passes only when verify waits: a deadline without waiting for it."""

    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    """The clock the CLI's verify uses (verify.SystemClock is what it makes when given none)."""
    fake = FakeClock()
    monkeypatch.setattr(verify, "SystemClock", lambda: fake)
    return fake


def seeded_state(outputs, expected, **overrides) -> StubState:
    namespaces = {
        outputs["kvNamespaceId"]: {key: value.encode() for key, value in expected.items()},
        outputs["kvPreviewNamespaceId"]: {key: value.encode() for key, value in expected.items()},
    }
    overrides.setdefault("health", healthy())
    return StubState(account_id=outputs["accountId"], token=TOKEN, namespaces=namespaces, **overrides)


def run_cli(stub, outputs_file, monkeypatch, *extra, token=TOKEN):
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", stub.base_url)
    if token is None:
        monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    else:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", token)
    return CliRunner().invoke(
        cli.app, ["verify", "--stack", "dev", "--outputs", str(outputs_file), "--url", stub.worker_url, *extra]
    )


def parse_table(output):
    lines = output[output.index("\ncheck ") + 1 :].splitlines()
    width = lines[0].index("  result")
    result = {}
    for line in lines[2:-1]:
        result[line[:width].strip()] = (line[width + 2 : width + 6], line[width + 10 :])
    return result, lines[-1]


def test_a_healthy_stack_passes_every_check(dev_outputs, expected, monkeypatch):
    outputs, path = dev_outputs
    state = seeded_state(outputs, expected)
    with CloudflareStub(state) as stub:
        result = run_cli(stub, path, monkeypatch)
    assert result.exit_code == 0, result.output
    table, summary = parse_table(result.output)
    for key in expected:
        assert table[f"seed {key} (production)"][0] == "PASS"
        assert table[f"seed {key} (preview)"][0] == "PASS"
    for step in ("put", "get", "list", "delete"):
        assert table[f"preview round trip: {step}"][0] == "PASS"
    assert table[f"worker {stub.worker_url}/v1/health"] == (
        "PASS",
        f"HTTP 200, status ok, catalog {dev_catalog_version()}",
    )
    assert summary == f"{2 * len(expected) + 5} passed, 0 failed"
    assert TOKEN not in result.output


def test_production_is_only_read_and_the_test_key_is_cleaned_up(dev_outputs, expected, monkeypatch):
    outputs, path = dev_outputs
    state = seeded_state(outputs, expected)
    with CloudflareStub(state) as stub:
        assert run_cli(stub, path, monkeypatch).exit_code == 0
    writes = [(method, p, q) for method, p, q in state.requests if method != "GET"]
    assert writes and all(f"/namespaces/{outputs['kvPreviewNamespaceId']}/" in p for _, p, _ in writes)
    assert [q.get("expiration_ttl") for m, _, q in writes if m == "PUT"] == ["60"]  # expires even if delete fails
    assert not [k for k in state.namespaces[outputs["kvPreviewNamespaceId"]] if k.startswith("verify:")]


def test_a_drifted_or_missing_seed_fails_with_the_fix(dev_outputs, expected, monkeypatch, clock):
    outputs, path = dev_outputs
    state = seeded_state(outputs, expected)
    state.namespaces[outputs["kvNamespaceId"]]["config:tiers"] = b'{"free":{}}'
    del state.namespaces[outputs["kvPreviewNamespaceId"]]["config:catalog"]
    with CloudflareStub(state) as stub:
        result = run_cli(stub, path, monkeypatch)
    assert result.exit_code == 1
    table, summary = parse_table(result.output)
    status, detail = table["seed config:tiers (production)"]
    assert status == "FAIL" and detail.startswith("""holds '{"free":{}}', expected""") and "pulumi up" in detail
    assert detail.endswith("(read for 60 s)")
    assert table["seed config:catalog (preview)"] == (
        "FAIL",
        "key not found: run `pulumi up` to seed it again (read for 60 s)",
    )
    assert table["seed config:tiers (preview)"][0] == "PASS"
    assert summary.endswith("2 failed")


def test_a_refused_token_is_explained_once_and_stops_the_api_checks(dev_outputs, expected, monkeypatch):
    outputs, path = dev_outputs
    with CloudflareStub(seeded_state(outputs, expected)) as stub:
        result = run_cli(stub, path, monkeypatch, token="wrong-token")
    assert result.exit_code == 1
    table, _ = parse_table(result.output)
    assert next(iter(table)) == "cloudflare API"  # not one failure per key
    status, detail = table["cloudflare API"]
    assert status == "FAIL" and "HTTP 401, code 10000" in detail and "CLOUDFLARE_API_TOKEN is wrong" in detail
    assert table[f"worker {stub.worker_url}/v1/health"][0] == "PASS"  # the Worker needs no API token
    assert "wrong-token" not in result.output


def test_a_token_without_kv_permission_names_the_permission(dev_outputs, expected, monkeypatch):
    outputs, path = dev_outputs
    with CloudflareStub(seeded_state(outputs, expected, read_only_token="read-only-token")) as stub:
        result = run_cli(stub, path, monkeypatch, token="read-only-token")
    assert result.exit_code == 1
    _status, detail = parse_table(result.output)[0]["cloudflare API"]
    assert "HTTP 403, code 10000" in detail and "Workers KV Storage: Edit" in detail and outputs["accountId"] in detail


def test_an_unknown_namespace_is_explained(dev_outputs, expected, monkeypatch):
    outputs, path = dev_outputs
    state = seeded_state(outputs, expected)
    del state.namespaces[outputs["kvNamespaceId"]]
    with CloudflareStub(state) as stub:
        result = run_cli(stub, path, monkeypatch)
    assert result.exit_code == 1
    table, _ = parse_table(result.output)
    status, detail = table["seed config:tiers (production)"]
    assert status == "FAIL" and "KV namespace not found (HTTP 404, code 10013)" in detail and "--stack dev" in detail
    assert table["seed config:tiers (preview)"][0] == "PASS"


@pytest.mark.parametrize(
    ("health", "detail"),
    [
        ((500, "boom"), "HTTP 500: 'boom'"),
        ((200, {"status": "ok", "environment": "prod"}), "this is the 'prod' Worker, not 'dev'"),
        ((200, "<html>"), "not JSON"),
    ],
)
def test_an_unhealthy_worker_fails(dev_outputs, expected, monkeypatch, health, detail):
    outputs, path = dev_outputs
    with CloudflareStub(seeded_state(outputs, expected, health=health)) as stub:
        result = run_cli(stub, path, monkeypatch)
    assert result.exit_code == 1
    status, shown = parse_table(result.output)[0][f"worker {stub.worker_url}/v1/health"]
    assert status == "FAIL" and detail in shown


def test_listing_waits_for_eventual_consistency_then_gives_up(dev_outputs, expected):
    outputs, _ = dev_outputs
    target = verify.target_from_outputs("dev", outputs, expected)
    never = int(verify.LIST_WITHIN_S / verify.ASK_AGAIN_EVERY_S) + 1  # more misses than reads in the window
    for lag, passes in ((2, True), (never, False)):
        clock = FakeClock()
        with CloudflareStub(seeded_state(outputs, expected, list_lag=lag)) as stub:
            client = cloudflare.Cloudflare(api_token=TOKEN, base_url=stub.base_url, max_retries=0)
            checks = {c.name: c for c in verify.round_trip_checks(client, target, clock)}
        assert checks["preview round trip: list"].ok is passes
        assert clock.t == (lag * verify.ASK_AGAIN_EVERY_S if passes else verify.LIST_WITHIN_S)
        assert checks["preview round trip: delete"].ok


def seed_reads(state, key, namespace_id) -> int:
    return sum(1 for method, p, _ in state.requests if method == "GET" and p.endswith(f"/{namespace_id}/values/{key}"))


def test_a_seed_not_yet_replicated_is_read_again_until_it_turns(dev_outputs, expected):
    outputs, _ = dev_outputs
    target = verify.target_from_outputs("dev", outputs, expected)
    production, preview = outputs["kvNamespaceId"], outputs["kvPreviewNamespaceId"]
    stale = {
        (production, "config:tiers"): [b'{"free":{}}', b'{"free":{}}'],  # the value before `pulumi up`
        (preview, "config:catalog"): [None],  # a key this location has not seen yet
    }
    state = seeded_state(outputs, expected, stale=stale)
    clock, notes = FakeClock(), []
    with CloudflareStub(state) as stub:
        client = cloudflare.Cloudflare(api_token=TOKEN, base_url=stub.base_url, max_retries=0)
        checks = verify.seed_checks(client, target, clock, notes.append)
    assert [c.name for c in checks if not c.ok] == []
    assert clock.slept == [verify.ASK_AGAIN_EVERY_S] * 2  # the slowest turned at its third read
    assert seed_reads(state, "config:tiers", production) == 3
    assert seed_reads(state, "config:catalog", preview) == 2
    assert seed_reads(state, "config:tiers", preview) == 1  # what was right is not read again
    assert len(notes) == 2 and "seed config:tiers (production)" in notes[0] and "at most 55 s more" in notes[0]
    assert "eventually consistent" in notes[0]


def test_a_seed_that_never_turns_fails_after_the_deadline(dev_outputs, expected):
    outputs, _ = dev_outputs
    target = verify.target_from_outputs("dev", outputs, expected)
    state = seeded_state(outputs, expected)
    state.namespaces[outputs["kvNamespaceId"]]["config:tiers"] = b'{"free":{}}'
    clock, notes = FakeClock(), []
    with CloudflareStub(state) as stub:
        client = cloudflare.Cloudflare(api_token=TOKEN, base_url=stub.base_url, max_retries=0)
        checks = {c.name: c for c in verify.seed_checks(client, target, clock, notes.append)}
    failed = checks["seed config:tiers (production)"]
    assert not failed.ok and failed.detail.endswith("run `pulumi up` to re-seed (read for 60 s)")
    assert clock.t == verify.SEEDS_WITHIN_S  # asked until the deadline, not past it
    reads = int(verify.SEEDS_WITHIN_S / verify.ASK_AGAIN_EVERY_S) + 1  # at 0, 5, ..., 60 s
    assert seed_reads(state, "config:tiers", outputs["kvNamespaceId"]) == reads and len(notes) == reads - 1
    assert all(c.ok for name, c in checks.items() if name != "seed config:tiers (production)")


def test_a_missing_namespace_is_not_read_again(dev_outputs, expected):
    outputs, _ = dev_outputs
    target = verify.target_from_outputs("dev", outputs, expected)
    state = seeded_state(outputs, expected)
    del state.namespaces[outputs["kvNamespaceId"]]
    clock = FakeClock()
    with CloudflareStub(state) as stub:
        client = cloudflare.Cloudflare(api_token=TOKEN, base_url=stub.base_url, max_retries=0)
        checks = verify.seed_checks(client, target, clock)
    assert clock.slept == [] and sum(not c.ok for c in checks) == len(expected)


def test_the_cli_shows_its_progress_while_a_seed_replicates(dev_outputs, expected, monkeypatch, clock):
    outputs, path = dev_outputs
    state = seeded_state(outputs, expected, stale={(outputs["kvNamespaceId"], "config:tiers"): [None]})
    with CloudflareStub(state) as stub:
        result = run_cli(stub, path, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "  ..   1 seed(s) not as the settings give yet (seed config:tiers (production))" in result.output
    assert clock.slept == [verify.ASK_AGAIN_EVERY_S]


def test_the_default_url_is_the_scripts_workers_dev_address(dev_outputs, expected):
    outputs, _ = dev_outputs
    target = verify.target_from_outputs("dev", outputs, expected)
    with CloudflareStub(seeded_state(outputs, expected, subdomain="acme-team")) as stub:
        client = cloudflare.Cloudflare(api_token=TOKEN, base_url=stub.base_url, max_retries=0)
        assert verify.workers_dev_url(client, target) == "https://guruai-worker-dev.acme-team.workers.dev"


def test_an_unreachable_api_is_explained():
    request = httpx.Request("GET", "http://127.0.0.1:9/client/v4/accounts")
    message = verify.explain(cloudflare.APIConnectionError(request=request))
    assert message.startswith("could not reach the Cloudflare API")


def test_user_mistakes_are_one_line_and_exit_2(dev_outputs, tmp_path, monkeypatch):
    _, path = dev_outputs
    with CloudflareStub(StubState(account_id="0" * 32, token=TOKEN, namespaces={})) as stub:
        no_token = run_cli(stub, path, monkeypatch, token=None)
        (tmp_path / "empty.json").write_text("{}")
        not_deployed = run_cli(stub, tmp_path / "empty.json", monkeypatch)
    assert no_token.exit_code == 2 and "CLOUDFLARE_API_TOKEN is not set" in no_token.output
    assert not_deployed.exit_code == 2 and "run `pulumi up --stack dev` first" in not_deployed.output
    assert "Traceback" not in no_token.output + not_deployed.output


def test_the_stacks_worker_url_output_is_used_by_default(dev_outputs, expected, tmp_path, monkeypatch):
    outputs, _ = dev_outputs
    state = seeded_state(outputs, expected)
    with CloudflareStub(state) as stub:
        saved = tmp_path / "dev.json"
        saved.write_text(json.dumps({**outputs, "workerUrl": stub.worker_url}))
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", stub.base_url)
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
        result = CliRunner().invoke(cli.app, ["verify", "--stack", "dev", "--outputs", str(saved)])
    assert result.exit_code == 0, result.output
    assert parse_table(result.output)[0][f"worker {stub.worker_url}/v1/health"][0] == "PASS"
    assert not [path for _, path, _ in state.requests if path.endswith("/workers/subdomain")]  # no guessing


def test_the_program_exports_the_url_verify_calls(dev_run):
    target = verify.target_from_outputs("dev", dev_run.outputs, {})
    assert target.worker_url == dev_run.outputs["workerUrl"] and target.worker_url.startswith("https://")


def test_a_stack_without_the_output_falls_back_to_its_workers_dev_address(dev_outputs, expected):
    outputs, _ = dev_outputs
    older = {key: value for key, value in outputs.items() if key != "workerUrl"}
    target = verify.target_from_outputs("dev", older, expected)
    with CloudflareStub(seeded_state(outputs, expected, subdomain="acme-team")) as stub:
        client = cloudflare.Cloudflare(api_token=TOKEN, base_url=stub.base_url, max_retries=0)
        with httpx.Client(timeout=2) as http:
            checks = verify.run(target, client, http, clock=FakeClock())
    assert checks[-1].name == "worker https://guruai-worker-dev.acme-team.workers.dev/v1/health"


def health_with_catalog(version):
    return (200, {"status": "ok", "environment": "dev", "catalogVersion": version})


def test_an_older_catalog_is_asked_again_until_the_deploy_reaches_the_url(dev_outputs, expected):
    outputs, _ = dev_outputs
    target = verify.target_from_outputs("dev", outputs, expected, dev_catalog_version())
    answers = [health_with_catalog("0123456789ab"), health_with_catalog("0123456789ab"), healthy()]
    clock, notes = FakeClock(), []
    with CloudflareStub(seeded_state(outputs, expected, health=answers)) as stub, httpx.Client(timeout=2) as http:
        check = verify.health_check(http, stub.worker_url, target, clock, notes.append)
    assert check.ok, check.detail
    assert clock.slept == [verify.ASK_AGAIN_EVERY_S] * 2
    assert "serves catalog '0123456789ab'" in notes[0] and "at most 25 s more" in notes[0]


@pytest.mark.parametrize("served", ["0123456789ab", None])  # None: a Worker without its CATALOG binding
def test_a_catalog_other_than_the_settings_fails_naming_both_versions_and_the_fix(dev_outputs, expected, served):
    outputs, _ = dev_outputs
    target = verify.target_from_outputs("dev", outputs, expected, dev_catalog_version())
    clock = FakeClock()
    state = seeded_state(outputs, expected, health=health_with_catalog(served))
    with CloudflareStub(state) as stub, httpx.Client(timeout=2) as http:
        check = verify.health_check(http, stub.worker_url, target, clock)
    assert not check.ok
    assert f"serves catalog {served!r}, the settings give {dev_catalog_version()!r}" in check.detail
    assert "`pulumi up --stack dev`" in check.detail
    assert clock.t == verify.CATALOG_WITHIN_S  # asked until the deadline


def test_other_failures_are_not_asked_again(dev_outputs, expected):
    outputs, _ = dev_outputs
    target = verify.target_from_outputs("dev", outputs, expected, dev_catalog_version())
    clock = FakeClock()
    with CloudflareStub(seeded_state(outputs, expected, health=(500, "boom"))) as stub, httpx.Client(timeout=2) as http:
        assert not verify.health_check(http, stub.worker_url, target, clock).ok
    assert clock.slept == []


def test_the_cli_expects_the_catalog_the_program_binds(dev_run, dev_outputs, expected, monkeypatch):
    """A Worker answering with the version of the CATALOG binding `pulumi up` uploaded passes."""
    items, _ = unwrap(dev_run.one(SCRIPT).inputs["bindings"])
    bound = json.loads(next(b["json"] for b in items if b["name"] == "CATALOG"))["version"]
    outputs, path = dev_outputs
    with CloudflareStub(seeded_state(outputs, expected, health=health_with_catalog(bound))) as stub:
        result = run_cli(stub, path, monkeypatch)
    assert result.exit_code == 0, result.output
    assert f"catalog {bound}" in result.output
