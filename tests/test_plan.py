"""`guruai-cache plan`: the stack's resource graph under the program's own mocks, and its
difference from another git ref's (`--against`), with no credentials and no secret shown."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest
from pulumi_mocks import KV_ENTRY, RANDOM_PASSWORD, SCRIPT, unwrap
from typer.testing import CliRunner

from infra import paths
from infra.stack.mocks import _stable_hex
from infra.tools import cli, plan_report

SERVICE_TOKEN = "plan-test-service-token-0123456789abcdef"  # a legacy token left in plain text
CIPHERTEXT = "v1:planTestCipherTextAAAAAAAAAAAAAAAAAAAA=="


def plan(*args):
    return CliRunner().invoke(cli.app, ["plan", *args])


@pytest.fixture(scope="module")
def prod_plan():
    result = plan("--stack", "prod", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_plan_lists_what_the_program_registers(prod_plan, prod_run):
    registered = {(r.type, r.name): r for r in prod_run.resources}
    planned = {(r["type"], r["name"]): r for r in prod_plan["resources"]}
    assert planned.keys() == registered.keys()
    for key, resource in planned.items():
        assert (resource["protect"], resource["retainOnDelete"]) == (
            registered[key].protect,
            registered[key].retain_on_delete,
        ), key
    assert planned[("cloudflare:index/d1Database:D1Database", "db")]["inputs"]["name"] == "guruai-db-prod"
    # The Worker's bindings in the order uploaded, each pointing at the resource it names.
    bindings, _ = unwrap(prod_run.one(SCRIPT).inputs["bindings"])
    assert [b["name"] for b in prod_plan["bindings"]] == [b["name"] for b in bindings]
    by_name = {b["name"]: b for b in prod_plan["bindings"]}
    assert by_name["KV"]["namespaceId"] == "${kv.id}" and by_name["DB"]["id"] == "${db.id}"
    assert by_name["CLIENTS"] == {"name": "CLIENTS", "text": "[secret]", "type": "secret_text"}
    # Every seeded key in both namespaces, with its size and a digest of its value.
    seeds = {(s["namespace"], s["key"]): s for s in prod_plan["seeds"]}
    for entry in prod_run.of_type(KV_ENTRY):
        namespace = "kv-preview" if entry.name.startswith("preview-") else "kv"
        value = entry.plain("value")
        assert seeds[(namespace, entry.plain("keyName"))]["bytes"] == len(value.encode())
        assert seeds[(namespace, entry.plain("keyName"))]["sha256"] == hashlib.sha256(value.encode()).hexdigest()[:12]
    assert prod_plan["outputs"].keys() == prod_run.outputs.keys()
    assert prod_plan["production"] is True
    assert any("accountId: not in Pulumi.prod.yaml" in note for note in prod_plan["notes"])


def test_the_plan_as_text_has_a_summary_then_the_resources_by_type(prod_plan, prod_run):
    text = plan_report.plan_text(prod_plan)
    first = text.splitlines()[0]
    bindings = len(unwrap(prod_run.one(SCRIPT).inputs["bindings"])[0])
    resources, seeds = len(prod_run.resources), len(prod_run.of_type(KV_ENTRY))
    assert first.startswith(f"stack prod (production): {resources} resources, {bindings} bindings, {seeds} seeds")
    assert "D1Database\n  db  [protect, retainOnDelete]\n      name: guruai-db-prod" in text
    assert "  CLIENTS  secret_text  text=[secret]" in text
    assert "  kv  config:tiers  " in text


def test_two_plans_of_the_same_files_are_the_same(prod_plan):
    again = plan("--stack", "prod", "--json")
    assert json.loads(again.output) == prod_plan


@pytest.fixture
def own_stacks(tmp_path, monkeypatch):
    """A copy of the tests' stack files the test may change."""
    for path in paths.STACKS_DIR.glob("Pulumi.*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(paths, "STACKS_DIR", tmp_path)
    return tmp_path


def test_no_secret_appears_in_the_plan(own_stacks):
    dev = own_stacks / "Pulumi.dev.yaml"
    # The tests' dev stack has no clients: the program generates the legacy all-scope token (a
    # production stack never does); neither it nor its digest shows.
    generated_plan = json.loads(plan("--stack", "dev", "--json").output)
    dev.write_text(
        dev.read_text()
        + f"  guruai-cache:serviceToken: {SERVICE_TOKEN}\n"
        + f"  cloudflare:apiToken:\n    secure: {CIPHERTEXT}\n"
    )
    outputs = [plan("--stack", "dev", *args) for args in ([], ["--json"])]
    assert [result.exit_code for result in outputs] == [0, 0], outputs[0].output
    planted = [SERVICE_TOKEN, hashlib.sha256(SERVICE_TOKEN.encode()).hexdigest(), CIPHERTEXT]
    for result in outputs:
        assert [secret for secret in planted if secret in result.output] == []
        assert "cloudflare:apiToken: encrypted in Pulumi.dev.yaml, not read" in result.output
    document = json.loads(outputs[1].output)
    assert {b["name"]: b for b in document["bindings"]}["CLIENTS"]["text"] == "[secret]"
    generated = "generated-" + _stable_hex("token", "service-token")
    generated_text = json.dumps(generated_plan) + plan_report.plan_text(generated_plan)
    assert any(r["type"] == RANDOM_PASSWORD for r in generated_plan["resources"])
    assert generated not in generated_text and hashlib.sha256(generated.encode()).hexdigest() not in generated_text


def test_invalid_settings_end_with_the_programs_error_list(own_stacks):
    dev = own_stacks / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text() + "  guruai-cache:ttls:\n    subscription: -5\n")
    result = plan("--stack", "dev")
    assert result.exit_code == 2
    assert "stack 'dev': 1 invalid setting" in result.output
    assert "ttls.subscription" in result.output and "Traceback" not in result.output


# --- --against: a throwaway repository, a copy of the project -----------------------------------


def git(folder, *args):
    return subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A repository of three commits: a program too old to plan (no runner), the project as it is
    (with the tests' stack files as its committed ones), then prod with protection turned off
    and a flag turned on."""
    repo = tmp_path_factory.mktemp("history")
    tracked = git(paths.ROOT, "ls-files", "-z").stdout.split("\0")
    team_files = {"Pulumi.dev.yaml", "Pulumi.prod.yaml"}  # the team's: never read by a test
    for name in tracked:
        source = paths.ROOT / name
        if name and name not in team_files and source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    for stack_file in sorted((paths.ROOT / "tests" / "stacks").glob("Pulumi.*.yaml")):
        shutil.copy(stack_file, repo / stack_file.name)
    shutil.copy(paths.WORKER_BUNDLE, repo / "worker" / "dist" / "worker.js")  # not committed: built
    (repo / "node_modules").symlink_to(paths.ROOT / "node_modules")
    git(repo, "init", "-q", "-b", "main")
    (repo / ".git" / "info" / "exclude").write_text("/node_modules\n")  # a link here, not the folder .gitignore names
    git(repo, "config", "user.email", "plan@example.com")
    git(repo, "config", "user.name", "plan test")
    runner = repo / "infra" / "stack" / "offline.py"
    kept = runner.read_text()
    runner.unlink()
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a program from before the plan")
    runner.write_text(kept)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the project")
    prod = repo / "Pulumi.prod.yaml"
    text = prod.read_text()
    text = text.replace("guruai-cache:protectStatefulResources: true", "guruai-cache:protectStatefulResources: false")
    text = text.replace("new-dashboard: false", "new-dashboard: true")
    prod.write_text(text)
    git(repo, "commit", "-qam", "prod: protection off, new-dashboard on")
    return repo


def plan_in(repo, *args):
    env = {**os.environ, "PYTHONPATH": str(repo)}
    command = [sys.executable, "-m", "infra.tools.cli", "plan", *args]
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=300)


def test_against_a_ref_shows_the_change_and_a_production_resource_losing_protection_first(history):
    result = plan_in(history, "--stack", "prod", "--against", "HEAD~1", "--json")
    assert result.returncode == 0, result.stderr
    difference = json.loads(result.stdout)
    lost = {(c["type"].rsplit(":", 1)[-1], c["name"]): c["lost"] for c in difference["protection"]}
    # Production retains its storage whatever `protect` says: it loses protection, not retention.
    assert lost == {
        ("D1Database", "db"): ["protect"],
        ("D1Database", "db-preview"): ["protect"],
        ("WorkersKvNamespace", "kv"): ["protect"],
        ("WorkersKvNamespace", "kv-preview"): ["protect"],
    }
    assert all(c["production"] for c in difference["protection"])
    assert {(s["namespace"], s["key"]) for s in difference["seeds"]["changed"]} == {
        ("kv", "config:catalog"),
        ("kv-preview", "config:catalog"),
    }
    assert list(difference["bindings"]["changed"]) == ["CATALOG"]
    assert difference["resources"]["replaced"] == difference["resources"]["removed"] == []

    text = plan_report.diff_text(difference, "HEAD~1", "this tree")
    lines = text.splitlines()
    assert lines[0].startswith("stack prod, HEAD~1 -> this tree: 4 protection change(s)")
    assert lines[2] == "PROTECTION (read first)"
    assert lines[3] == "  ! production D1Database db LOSES protect"
    assert text.index("PROTECTION") < text.index("\nSeeds") < text.index("\nBindings")
    assert "  ~ kv config:catalog: " in text


def test_against_the_same_files_finds_no_difference(history):
    result = plan_in(history, "--stack", "dev", "--against", "HEAD")
    assert (result.returncode, result.stdout.strip()) == (0, "stack dev: no differences between HEAD and this tree")


def test_against_a_ref_too_old_to_plan_says_so(history):
    result = plan_in(history, "--stack", "prod", "--against", "HEAD~2")
    assert result.returncode == 2
    assert "--against HEAD~2: its program is too old to plan: it has no infra/stack/offline.py" in result.stderr
    assert "Traceback" not in result.stderr
    unknown = plan_in(history, "--stack", "prod", "--against", "no-such-branch")
    assert unknown.returncode == 2 and "--against no-such-branch: no such commit" in unknown.stderr
