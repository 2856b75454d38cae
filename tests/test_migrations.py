"""D1 migrations on deploy: the Commands under strict mocks, and the script they run, on the real wrangler."""

import inspect
import json
import subprocess
import tomllib

import pulumi
import pytest
from pulumi_mocks import API_TOKEN, COMMAND, D1, ROOT, SCRIPT, run_program, unwrap

from infra import paths
from infra.plan import migrations as plan
from infra.tools import apply_migrations
from infra.tools.pinned_wrangler import wrangler_env

WRANGLER = paths.WRANGLER


def commands(run):
    return {r.name: r for r in run.of_type(COMMAND)}


def test_each_database_gets_a_migration_command_wired_to_its_outputs(dev_run):
    found = commands(dev_run)
    assert set(found) == {"db-migrations", "db-preview-migrations"}
    for command_name, db_name in (("db-migrations", "db"), ("db-preview-migrations", "db-preview")):
        command, database = found[command_name], dev_run.one(D1, db_name)
        environment, is_secret = unwrap(command.inputs["environment"])
        assert is_secret  # the token makes the whole environment secret in the state
        assert environment["D1_DATABASE_NAME"] == database.plain("name")
        assert environment["D1_DATABASE_ID"] == database.id
        assert environment["CLOUDFLARE_ACCOUNT_ID"] == database.plain("accountId")
        assert environment["CLOUDFLARE_API_TOKEN"] == API_TOKEN
        assert command.plain("create") == ".venv/bin/python -m infra.tools.apply_migrations"
        assert API_TOKEN not in json.dumps({k: v for k, v in command.inputs.items() if k != "environment"})
        assert command.plain("dir") == str(ROOT)
        assert command.plain("triggers") == [plan.migrations_hash()]
        assert database.urn in command.dependencies
        assert command.parent == dev_run.one("guruai:cache:CacheStack").urn
        assert not command.protect


def test_the_worker_is_uploaded_after_the_migrations(dev_run):
    script = dev_run.one(SCRIPT)
    assert {c.urn for c in commands(dev_run).values()} <= set(script.dependencies)


def test_the_token_from_the_environment_is_used_when_config_has_none(monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "from-the-environment-0123456789")
    run = run_program("dev", api_token=None)
    environment, is_secret = unwrap(commands(run)["db-migrations"].inputs["environment"])
    assert is_secret and environment["CLOUDFLARE_API_TOKEN"] == "from-the-environment-0123456789"


def test_no_token_stops_the_run_before_any_resource(monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    with pytest.raises(pulumi.RunError) as caught:
        run_program("dev", api_token=None)
    message = str(caught.value)
    assert "cloudflare:apiToken: missing" in message
    assert "pulumi config set --secret cloudflare:apiToken" in message


def test_hash_follows_every_migration_file_and_nothing_else(tmp_path):
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (x);")
    first = plan.migrations_hash(tmp_path)
    (tmp_path / "README.md").write_text("notes")
    assert plan.migrations_hash(tmp_path) == first  # wrangler applies only *.sql
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (x, y);")
    edited = plan.migrations_hash(tmp_path)
    assert edited != first
    (tmp_path / "0002_b.sql").write_text("CREATE TABLE b (x);")
    added = plan.migrations_hash(tmp_path)
    assert added != edited
    (tmp_path / "0002_b.sql").rename(tmp_path / "0003_b.sql")
    assert plan.migrations_hash(tmp_path) != added


def test_the_local_environment_applies_the_same_directory():
    local = tomllib.loads((ROOT / "wrangler.toml").read_text())
    assert ROOT / local["d1_databases"][0]["migrations_dir"] == paths.MIGRATIONS_DIR
    assert inspect.signature(apply_migrations.apply).parameters["migrations_dir"].default == paths.MIGRATIONS_DIR
    assert plan.migration_files(), "worker/migrations holds the schema"


def test_script_refuses_to_run_without_the_commands_environment(capsys):
    assert apply_migrations.main(env={"D1_DATABASE_NAME": "guruai-db-dev"}) == 2
    error = capsys.readouterr().err
    assert "D1_DATABASE_ID, CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID not set" in error


def test_wrangler_gets_no_secret_on_its_command_line(tmp_path):
    args = apply_migrations.wrangler_args(tmp_path / "wrangler.json", "guruai-db-dev", local=False)
    assert args[1:6] == ["d1", "migrations", "apply", "guruai-db-dev", "--config"]
    assert args[-1] == "--remote"
    assert not any("token" in arg.lower() for arg in args)


def local_d1_rows(config, persist, sql):
    config_path = persist / "wrangler.json"
    config_path.write_text(json.dumps(config))
    result = subprocess.run(
        [str(WRANGLER), "d1", "execute", config["d1_databases"][0]["database_name"], "--local",
         "--config", str(config_path), "--persist-to", str(persist), "--json", "--command", sql],
        capture_output=True, text=True, env=wrangler_env(), timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)[0]["results"]


@pytest.mark.wrangler
def test_generated_config_applies_migrations_once_with_the_real_wrangler(tmp_path, capfd):
    """The same config and arguments as on deploy, against a local D1 instead of --remote."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_items.sql").write_text("CREATE TABLE items (id INTEGER PRIMARY KEY);")
    persist = tmp_path / "state"
    database = ("guruai-db-test", "00000000-0000-4000-8000-000000000001")
    env = wrangler_env()

    assert apply_migrations.apply(*database, local=True, persist_to=persist, migrations_dir=folder, env=env) == 0
    (folder / "0002_more.sql").write_text("ALTER TABLE items ADD COLUMN name TEXT;")
    assert apply_migrations.apply(*database, local=True, persist_to=persist, migrations_dir=folder, env=env) == 0
    capfd.readouterr()
    assert apply_migrations.apply(*database, local=True, persist_to=persist, migrations_dir=folder, env=env) == 0
    assert "No migrations to apply" in capfd.readouterr().out  # idempotent: d1_migrations remembers

    config = plan.single_database_config(*database, folder)
    applied = local_d1_rows(config, persist, "SELECT name FROM d1_migrations ORDER BY id")
    assert [row["name"] for row in applied] == ["0001_items.sql", "0002_more.sql"]
    columns = local_d1_rows(config, persist, "SELECT name FROM pragma_table_info('items')")
    assert [row["name"] for row in columns] == ["id", "name"]


@pytest.mark.wrangler
def test_the_projects_migrations_apply_cleanly(tmp_path):
    env = wrangler_env()
    assert (
        apply_migrations.apply(
            "guruai-db-test", "00000000-0000-4000-8000-000000000002", local=True, persist_to=tmp_path, env=env
        )
        == 0
    )
