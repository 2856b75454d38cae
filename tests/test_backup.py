"""`guruai-cache backup` on local D1 with the real wrangler: export, wipe, restore the export the
documented way (`wrangler d1 execute --file`), compare rows."""

import json
import os
import shutil
import subprocess

from typer.testing import CliRunner

from infra.paths import WRANGLER
from infra.plan.migrations import single_database_config
from infra.tools import apply_migrations, cli
from infra.worker_contract import DB_BINDING

DB_ID = "00000000-0000-4000-8000-00000000b4c0"
TABLES = ("subscriptions", "usage", "d1_migrations")


def rows(database, table):
    return database.query(f"SELECT * FROM {table} ORDER BY 1, 2")


def test_an_export_restores_every_row_into_a_wiped_database(tmp_path):
    config = tmp_path / "wrangler.json"
    config.write_text(json.dumps(single_database_config("guruai-db", DB_ID)))
    state = tmp_path / ".wrangler" / "state"  # where wrangler's local export reads, next to the config
    env = apply_migrations.allowed_environment(os.environ)
    assert apply_migrations.apply("guruai-db", DB_ID, local=True, persist_to=state, env=os.environ) == 0
    database = apply_migrations.Database("guruai-db", config, True, state, env)
    database.query(
        "INSERT INTO subscriptions VALUES ('u1', 'pro', 'active', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'), "
        "('u''2', 'free', 'canceled', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');"
        "INSERT INTO usage VALUES (1767225600, 'u1', 42), (1767312000, 'u1', 7)"
    )
    before = {table: rows(database, table) for table in TABLES}
    assert len(before["subscriptions"]) == 2 and len(before["usage"]) == 2

    export = tmp_path / "backup.sql"
    result = CliRunner().invoke(cli.app, ["backup", "--local", "--config", str(config), "--output", str(export)])
    assert result.exit_code == 0, result.output
    assert f"wrote {export}" in result.output

    shutil.rmtree(state)  # the local database is gone
    restored = subprocess.run(
        [str(WRANGLER), "d1", "execute", DB_BINDING, "--local", "--file", str(export), "--config", str(config)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert restored.returncode == 0, restored.stderr
    assert {table: rows(database, table) for table in TABLES} == before


def test_a_backup_never_overwrites_a_file(tmp_path):
    existing = tmp_path / "backup.sql"
    existing.write_text("-- yesterday's export\n")
    result = CliRunner().invoke(
        cli.app, ["backup", "--local", "--config", str(tmp_path / "wrangler.json"), "--output", str(existing)]
    )
    assert result.exit_code == 2
    assert f"--output {existing}: the file exists" in result.output
    assert existing.read_text() == "-- yesterday's export\n"


def test_a_remote_backup_needs_a_stack():
    result = CliRunner().invoke(cli.app, ["backup"])
    assert result.exit_code == 2 and "give --stack STACK" in result.output
