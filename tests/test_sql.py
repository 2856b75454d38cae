"""The Worker's SQL against its schema: every statement worker/src/sql.js exports prepares on a
database migrated by worker/migrations (real SQLite, D1's engine), and the schema's CHECK on
`status` accepts exactly the contract's statuses."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess

import pytest

from infra import paths, worker_contract
from infra.plan.migrations import migration_files

NODE = shutil.which("node") or "node"


def worker_statements() -> dict[str, str]:
    """name -> SQL, as the Worker's module builds them (run by Node)."""
    script = "const m = await import('./worker/src/sql.js'); console.log(JSON.stringify(m));"
    result = subprocess.run(
        [NODE, "--input-type=module", "-e", script], cwd=paths.ROOT, capture_output=True, text=True, check=True
    )
    statements: dict[str, str] = json.loads(result.stdout)
    return statements


@pytest.fixture
def migrated() -> sqlite3.Connection:
    database = sqlite3.connect(":memory:")
    for path in migration_files():
        database.executescript(path.read_text())
    return database


def test_every_statement_the_worker_runs_prepares_on_the_migrated_schema(migrated):
    statements = worker_statements()
    assert {"SELECT_ACTIVE_SUBSCRIPTION", "UPSERT_SUBSCRIPTION", "COUNT_USE", "DELETE_OLD_USAGE"} <= set(statements)
    for sql in statements.values():
        parameters = max(int(n) for n in re.findall(r"\?(\d+)", sql))
        migrated.execute(f"EXPLAIN {sql}", [None] * parameters)  # prepared, not run


def test_a_statement_against_a_missing_column_does_not_prepare(migrated):
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        migrated.execute("EXPLAIN SELECT plan FROM subscriptions WHERE user_id = ?1", [None])


def test_the_status_check_accepts_exactly_the_contracts_statuses(migrated):
    for status in worker_contract.SUBSCRIPTION_STATUSES:
        migrated.execute("INSERT INTO subscriptions VALUES (?, 'pro', ?, 'now', 'now')", (f"user-{status}", status))
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        migrated.execute("INSERT INTO subscriptions VALUES ('user-x', 'pro', 'cancelled', 'now', 'now')")
    schema = migrated.execute("SELECT sql FROM sqlite_master WHERE name = 'subscriptions'").fetchone()[0]
    listed = re.search(r"status IN \(([^)]*)\)", schema)
    assert listed is not None
    assert [s.strip().strip("'") for s in listed.group(1).split(",")] == list(worker_contract.SUBSCRIPTION_STATUSES)
