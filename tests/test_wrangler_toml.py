"""wrangler.toml rendering: content, the template's comments, wrangler's schema, and wrangler itself."""

import json
import subprocess
import tomllib

import jsonschema
import pytest
from pulumi_mocks import ROOT, run_program
from typer.testing import CliRunner

from infra import paths
from infra.plan import wrangler_toml
from infra.plan.bindings import StackIds
from infra.plan.worker import worker_plan
from infra.settings import load_settings, stack_file_settings
from infra.tools import cli
from infra.tools.pinned_wrangler import wrangler_env

WRANGLER = paths.WRANGLER


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Both stacks' outputs as `pulumi stack output --json` would print them (from the mocked program)."""
    folder = tmp_path_factory.mktemp("outputs")
    files = {}
    for stack in ("dev", "prod"):
        path = folder / f"{stack}.json"
        path.write_text(json.dumps(run_program(stack).outputs))
        files[stack] = path
    return files


@pytest.fixture(scope="module")
def rendered(outputs, tmp_path_factory):
    target = tmp_path_factory.mktemp("render") / "wrangler.toml"
    result = CliRunner().invoke(
        cli.app,
        ["wrangler", "render", "--output", str(target), *(f"--outputs={s}={p}" for s, p in outputs.items())],
    )
    assert result.exit_code == 0, result.output
    return target


def test_env_sections_carry_each_stacks_real_ids(rendered, outputs):
    config = tomllib.loads(rendered.read_text())
    for stack, path in outputs.items():
        out = json.loads(path.read_text())
        env = config["env"][stack]
        assert env["name"] == out["workerScriptName"]  # so `wrangler tail --env prod` reaches the deployed script
        assert env["kv_namespaces"] == [
            {"binding": "KV", "id": out["kvNamespaceId"], "preview_id": out["kvPreviewNamespaceId"]}
        ]
        d1 = env["d1_databases"][0]
        assert (d1["database_id"], d1["preview_database_id"]) == (out["d1DatabaseId"], out["d1PreviewDatabaseId"])
        assert d1["database_name"] == out["d1DatabaseName"] and d1["migrations_dir"] == "worker/migrations"
        assert env["vars"]["ENVIRONMENT"] == stack
        settings = stack_file_settings(stack)
        limiter = settings.limiter_namespace_id(stack)  # its own, per stack
        client_limiter = settings.client_limiter_namespace_id(stack)
        assert env["ratelimits"] == [
            {"name": "RATE_LIMITER", "namespace_id": limiter, "simple": {"limit": 100, "period": 60}},
            {
                "name": "CLIENT_LIMITER",
                "namespace_id": client_limiter,
                "simple": {"limit": settings.client_limit, "period": 60},
            },
        ]
        assert env["triggers"] == {"crons": ["0 3 * * *"]}


def test_dev_and_prod_limiters_never_share_a_namespace(rendered):
    config = tomllib.loads(rendered.read_text())
    ids = [limiter["namespace_id"] for stack in ("dev", "prod") for limiter in config["env"][stack]["ratelimits"]]
    assert len(set(ids)) == 4 and not {"1001", "1002"} & set(ids)


def test_top_level_is_local_development_with_placeholder_ids(rendered):
    config = tomllib.loads(rendered.read_text())
    assert config["main"] == "worker/dist/worker.js" and config["no_bundle"] is True  # the bundle that deploys
    assert config["compatibility_date"] == "2026-04-01"  # a string: an unquoted TOML date is rejected by wrangler
    assert config["vars"]["ENVIRONMENT"] == "local"
    assert config["kv_namespaces"] == [{"binding": "KV", "id": "guruai-cache-local"}]
    assert config["d1_databases"][0]["database_id"] == "guruai-db-local"
    assert "preview_id" not in config["kv_namespaces"][0]  # the facts file's trap: keep local KV writes where dev reads


def test_template_comments_survive(rendered):
    text = rendered.read_text()
    template_comments = [line for line in paths.WRANGLER_TEMPLATE.read_text().splitlines() if line.startswith("#")]
    assert template_comments and all(comment in text for comment in template_comments)


def test_no_secret_in_the_file(rendered, outputs):
    text = rendered.read_text()
    config = tomllib.loads(text)
    for section in [config, *config["env"].values()]:
        assert section["secrets"] == {"required": ["CLIENTS"]}  # named as required...
        assert "CLIENTS" not in section["vars"]  # ...but never given a value
    digest = "c" * 64
    token_run = run_program("dev", {"clients": {"app": digest}}, secrets={"serviceToken": "t" * 40})
    assert "t" * 40 not in json.dumps(token_run.outputs)
    assert digest not in json.dumps(token_run.outputs)  # digests only in the secret binding


def test_rendered_file_matches_wranglers_own_schema(rendered):
    schema = json.loads((ROOT / "node_modules" / "wrangler" / "config-schema.json").read_text())
    jsonschema.validate(tomllib.loads(rendered.read_text()), schema)


def run_wrangler(args, cwd):
    return subprocess.run(
        [str(WRANGLER), *args], cwd=cwd, env=wrangler_env(), capture_output=True, text=True, timeout=120
    )


@pytest.mark.wrangler
@pytest.mark.parametrize("env", [None, "dev", "prod"])
def test_wrangler_deploy_dry_run_accepts_the_file(rendered, outputs, env, tmp_path):
    project = tmp_path / "project"
    (project / "worker" / "dist").mkdir(parents=True)
    (project / "worker" / "dist" / "worker.js").write_text(paths.WORKER_BUNDLE.read_text())
    (project / "wrangler.toml").write_text(rendered.read_text())
    args = ["deploy", "--dry-run", "--outdir", str(tmp_path / "out")] + (["--env", env] if env else [])
    result = run_wrangler(args, project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--dry-run: exiting now." in result.stdout
    # no_bundle: what wrangler would upload (and `wrangler dev` runs) is byte for byte the bundle
    # the provider uploads (tests/test_program.py: the script's content).
    assert (tmp_path / "out" / "worker.js").read_text() == paths.WORKER_BUNDLE.read_text()
    kv_id = json.loads(outputs[env].read_text())["kvNamespaceId"] if env else "guruai-cache-local"
    assert f"env.KV ({kv_id})" in result.stdout
    assert f'env.ENVIRONMENT ("{env or "local"}")' in result.stdout


def test_check_flags_a_stale_file(rendered, outputs):
    args = [
        "wrangler",
        "render",
        "--check",
        "--output",
        str(rendered),
        *(f"--outputs={s}={p}" for s, p in outputs.items()),
    ]
    assert CliRunner().invoke(cli.app, args).exit_code == 0
    original = rendered.read_text()
    try:
        rendered.write_text(original.replace('ENVIRONMENT = "prod"', 'ENVIRONMENT = "production"'))
        stale = CliRunner().invoke(cli.app, args)
        assert stale.exit_code == 1
        assert "is stale" in stale.output and '+ENVIRONMENT = "prod"' in stale.output
    finally:
        rendered.write_text(original)


def test_cli_explains_a_stack_without_outputs(tmp_path):
    empty = tmp_path / "prod.json"
    empty.write_text("{}")
    result = CliRunner().invoke(
        cli.app,
        ["wrangler", "render", "--stack", "prod", f"--outputs=prod={empty}", "--output", str(tmp_path / "w.toml")],
    )
    assert result.exit_code == 2
    assert "no `wrangler` output: run `pulumi up --stack prod` first" in result.output
    assert "Traceback" not in result.output


def test_render_is_a_pure_function_of_settings_and_ids():
    settings = load_settings({"ttls": {"subscription": 90}}, stack="local", require_account=False)
    ids = StackIds({"KV": "a" * 32, "DB": "db-uuid"}, {"KV": "b" * 32, "DB": "db-preview-uuid"})

    def staging() -> dict:
        return wrangler_toml.env_section(worker_plan(settings, "staging"), ids)

    text = wrangler_toml.render(settings, {"staging": staging()})
    config = tomllib.loads(text)
    assert config["vars"]["SUBSCRIPTION_TTL"] == "90" == config["env"]["staging"]["vars"]["SUBSCRIPTION_TTL"]
    assert config["env"]["staging"]["name"] == "guruai-worker-staging"
    assert text == wrangler_toml.render(settings, {"staging": staging()})


def test_the_metrics_dataset_is_bound_per_stack_unless_metrics_are_off():
    ids = StackIds({"KV": "a" * 32, "DB": "db-uuid"}, {"KV": "b" * 32, "DB": "db-preview-uuid"})
    on = load_settings({}, stack="local", require_account=False)
    off = load_settings({"metrics": {"enabled": False}}, stack="local", require_account=False)
    for settings, bound in ((on, True), (off, False)):
        section = wrangler_toml.env_section(worker_plan(settings, "prod"), ids)
        config = tomllib.loads(wrangler_toml.render(settings, {"prod": section}))
        expected = [{"binding": "METRICS", "dataset": name} for name in ("guruai_requests_local",)] if bound else None
        assert config.get("analytics_engine_datasets") == expected  # the template's placeholder goes too
        prod = [{"binding": "METRICS", "dataset": "guruai_requests_prod"}] if bound else None
        assert config["env"]["prod"].get("analytics_engine_datasets") == prod


def test_local_only_rerenders_the_local_part_and_keeps_the_env_sections(rendered, tmp_path):
    """What a developer runs after a dev settings change, and what scripts/test.sh checks the committed file with."""
    target = tmp_path / "wrangler.toml"
    line = f'SUBSCRIPTION_TTL = "{stack_file_settings("dev").ttls.subscription}"'
    assert line in rendered.read_text()
    target.write_text(rendered.read_text().replace(line, 'SUBSCRIPTION_TTL = "1"', 1))
    check = ["wrangler", "render", "--local-only", "--check", "--output", str(target)]
    stale = CliRunner().invoke(cli.app, check)
    assert stale.exit_code == 1 and f"+{line}" in stale.output
    written = CliRunner().invoke(cli.app, ["wrangler", "render", "--local-only", "--output", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_text() == rendered.read_text()  # the local part from the settings, [env.*] as they were
    assert CliRunner().invoke(cli.app, check).exit_code == 0


def test_the_help_shows_wranglers_env_syntax_as_written():
    """Help text is plain, not rich markup: "[env.<stack>]" once vanished from it as a markup tag."""
    result = CliRunner().invoke(cli.app, ["wrangler", "render", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "each stack's real ids in [env.<stack>]" in result.output
    assert "keep the [env.*] sections" in result.output
