"""D1 migrations on deploy: the Commands under strict mocks, and the script they run, on the real wrangler."""

import inspect
import json
import os
import re
import stat
import subprocess
import tomllib
from pathlib import Path

import pulumi
import pytest
import yaml
from pulumi_mocks import API_TOKEN, COMMAND, D1, ROOT, SCRIPT, run_program, unwrap

from infra import paths
from infra.plan import migrations as plan
from infra.plan import schema
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
        assert is_secret  # the token (from config here) makes the whole environment secret in the state
        assert environment["D1_DATABASE_NAME"] == database.plain("name")
        assert environment["D1_DATABASE_ID"] == database.id
        assert environment["CLOUDFLARE_ACCOUNT_ID"] == database.plain("accountId")
        assert environment["CLOUDFLARE_API_TOKEN"] == API_TOKEN
        assert command.plain("create") == ".venv/bin/python -m infra.tools.apply_migrations"
        assert API_TOKEN not in json.dumps({k: v for k, v in command.inputs.items() if k != "environment"})
        assert not Path(command.plain("dir")).is_absolute()
        assert (Path.cwd() / command.plain("dir")).resolve() == ROOT
        assert command.plain("triggers") == [plan.migrations_hash()]
        assert database.urn in command.dependencies
        assert command.parent == dev_run.one("guruai:cache:CacheStack").urn
        assert not command.protect


def test_the_worker_is_uploaded_after_the_migrations(dev_run):
    script = dev_run.one(SCRIPT)
    assert {c.urn for c in commands(dev_run).values()} <= set(script.dependencies)


def test_a_token_from_the_environment_is_inherited_not_an_input(monkeypatch):
    """pulumi-command's local provider runs the command with its own environment plus
    `environment`: a token exported for `pulumi up` reaches wrangler without being stored,
    so a rotated token re-runs nothing."""
    inputs = []
    for token in ("from-the-environment-0123456789", "rotated-token-abcdefghijklmnop"):
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", token)
        run = run_program("dev", api_token=None)
        command = commands(run)["db-migrations"]
        environment, is_secret = unwrap(command.inputs["environment"])
        assert "CLOUDFLARE_API_TOKEN" not in environment and not is_secret
        assert token not in json.dumps(unwrap(command.inputs)[0])
        inputs.append(unwrap(command.inputs)[0])
    assert inputs[0] == inputs[1]


def test_the_command_runs_in_the_checkout_from_where_pulumi_runs_the_program(monkeypatch):
    """With `main: infra/`, Pulumi runs the program and its providers in the checkout's infra/
    (pulumi/pulumi: getPwdMain, ExecPlugin's cmd.Dir): `..` is the checkout, in any clone."""
    assert yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["main"] == "infra/"
    monkeypatch.chdir(ROOT / "infra")
    run = run_program("dev")
    assert {command.plain("dir") for command in commands(run).values()} == {".."}


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


def test_wrangler_gets_an_allow_listed_environment_in_a_real_subprocess(tmp_path, monkeypatch):
    """The Command inherits all of `pulumi up`'s environment; wrangler sees only what it needs."""
    dump = tmp_path / "environment.json"
    fake = tmp_path / "wrangler"
    fake.write_text(
        "#!/usr/bin/env python3\nimport json, os, sys\n"
        f"open({str(dump)!r}, 'a').write(json.dumps(dict(os.environ)) + '\\n')\n"
        "bookmark = {'bookmark': '00000001-00000000-00004e4f-0123456789abcdef0123456789abcdef'}\n"
        "print(json.dumps([{'results': [], 'success': True}]) if 'execute' in sys.argv\n"
        "      else json.dumps(bookmark) if 'time-travel' in sys.argv else 'Migrations applied')\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(apply_migrations, "WRANGLER", fake)
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "HTTPS_PROXY": "http://proxy.internal:3128",
        "D1_DATABASE_NAME": "guruai-db-dev",
        "D1_DATABASE_ID": "00000000-0000-4000-8000-000000000009",
        "CLOUDFLARE_ACCOUNT_ID": "0" * 32,
        "CLOUDFLARE_API_TOKEN": "cloudflare-token-for-wrangler",
        "PULUMI_ACCESS_TOKEN": "pul-0123456789abcdef0123456789abcdef01234567",
        "PULUMI_CONFIG_PASSPHRASE": "the-stack-passphrase",
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
        "GITHUB_TOKEN": "ghs_github-token",
        "PULUMI_COMMAND_STDOUT": "previous output",
        "NODE_OPTIONS": f"--require {tmp_path / 'preload.cjs'}",  # would run in the process holding the token
    }
    assert apply_migrations.main(env=environment) == 0
    seen = [json.loads(line) for line in dump.read_text().splitlines()]
    assert len(seen) == 3  # the restore point, the table check, then the migrations
    for child in seen:
        assert child["CLOUDFLARE_API_TOKEN"] == "cloudflare-token-for-wrangler"
        assert child["CLOUDFLARE_ACCOUNT_ID"] == "0" * 32
        assert child["HTTPS_PROXY"] == "http://proxy.internal:3128" and child["WRANGLER_SEND_METRICS"] == "false"
        for name in ("PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"):
            assert name not in child
        assert "NODE_OPTIONS" not in child
        assert not [name for name in child if name.startswith(("PULUMI_", "D1_"))]


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


# The setup guide's table, made by hand before any migration ran (the form of it).
GUIDE_SUBSCRIPTIONS = (
    "CREATE TABLE subscriptions (id INTEGER PRIMARY KEY, user_id TEXT, tier TEXT, status TEXT, expires_at TEXT)"
)
GUIDE_ROWS = (
    "INSERT INTO subscriptions (user_id, tier, status) VALUES ('alice', 'pro', 'active'), ('bob', 'free', 'active')"
)


def hand_made(tmp_path, *statements):
    """A local D1 database with what the statements make, before any migration; returns (database, config, persist)."""
    persist = tmp_path / "state"
    persist.mkdir()
    database = ("guruai-db-prod", "00000000-0000-4000-8000-0000000000a1")
    config = plan.single_database_config(*database)
    local_d1_rows(config, persist, "; ".join(statement.rstrip(";") for statement in statements))
    return database, config, persist


@pytest.mark.wrangler
def test_a_hand_made_subscriptions_table_with_other_columns_stops_the_migrations_with_the_fix(tmp_path, capfd):
    database, config, persist = hand_made(tmp_path, GUIDE_SUBSCRIPTIONS, GUIDE_ROWS)
    env = wrangler_env()
    assert apply_migrations.apply(*database, local=True, persist_to=persist, env=env) == 1
    report = capfd.readouterr().err
    assert "guruai-db-prod: the database already has tables the migrations would create differently" in report
    assert "has:       id (primary key), user_id, tier, status, expires_at" in report
    assert "creates: user_id (primary key), tier, status, created_at, updated_at" in report
    tables = {
        row["name"] for row in local_d1_rows(config, persist, "SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    assert "d1_migrations" not in tables and "usage" not in tables  # nothing was applied

    # The fix as printed: keep the rows, let the migration create the table, copy them over.
    rename, copy = re.findall(r'--command "([^"]+)"', report)
    local_d1_rows(config, persist, rename)
    assert apply_migrations.apply(*database, local=True, persist_to=persist, env=env) == 0
    local_d1_rows(config, persist, copy)
    rows = local_d1_rows(config, persist, "SELECT user_id, tier, status FROM subscriptions ORDER BY user_id")
    assert rows == [
        {"user_id": "alice", "tier": "pro", "status": "active"},
        {"user_id": "bob", "tier": "free", "status": "active"},
    ]


@pytest.mark.wrangler
def test_hand_made_tables_with_the_expected_columns_are_kept_and_migrated(tmp_path):
    """`IF NOT EXISTS`: tables made by hand as 0001 makes them no longer stop the migration."""
    statements = [
        statement.replace("IF NOT EXISTS ", "")
        for statement in re.findall(r"CREATE TABLE[^;]+;", plan.migration_files()[0].read_text())
    ]
    database, config, persist = hand_made(
        tmp_path, *statements, "INSERT INTO subscriptions VALUES ('carol', 'pro', 'active', 'then', 'then')"
    )
    assert apply_migrations.apply(*database, local=True, persist_to=persist, env=wrangler_env()) == 0
    applied = local_d1_rows(config, persist, "SELECT name FROM d1_migrations")
    assert [row["name"] for row in applied] == [f.name for f in plan.migration_files()]
    assert local_d1_rows(config, persist, "SELECT user_id FROM subscriptions") == [{"user_id": "carol"}]


def test_a_table_is_checked_only_while_the_migration_that_creates_it_is_pending():
    expected = schema.expected_tables()
    guide = {"subscriptions": (schema.Column("id", True), schema.Column("user_id", False))}
    assert [c.expected.name for c in schema.conflicts(expected, guide, applied=[])] == ["subscriptions"]
    assert schema.conflicts(expected, guide, applied=[expected["subscriptions"].migration]) == []
    same = {"subscriptions": expected["subscriptions"].columns}
    assert schema.conflicts(expected, same, applied=[]) == []


@pytest.mark.wrangler
def test_the_projects_migrations_apply_cleanly(tmp_path):
    env = wrangler_env()
    assert (
        apply_migrations.apply(
            "guruai-db-test", "00000000-0000-4000-8000-000000000002", local=True, persist_to=tmp_path, env=env
        )
        == 0
    )
