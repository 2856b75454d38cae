"""`guruai-cache migrations check` and `migrations hash` (issue 19): a throwaway git repository with
the project's worker/ committed on `main` as the base, then changed the way a pull request would."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from infra import paths
from infra.plan import migration_lint, migration_sum
from infra.plan.migrations import single_database_config
from infra.tools import apply_migrations, migrations_check
from infra.tools.cli import app
from infra.tools.errors import UserError
from infra.tools.pinned_wrangler import wrangler_env

FIRST = "0001_subscriptions_and_usage.sql"
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull}  # fmt: skip


def git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, env={**os.environ, **GIT_ENV}, check=True
    )
    return result.stdout.strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    """The project's worker/migrations and worker/src, committed on `main` (the base)."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD", "worker/src", "worker/migrations"],
        cwd=paths.ROOT, capture_output=True, check=True,
    )  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tmp_path, filter="data")
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "--quiet", "-m", "base")
    return tmp_path


def migrations(root: Path) -> Path:
    return root / "worker" / "migrations"


def add(root: Path, name: str, sql: str, *, rehash: bool = True) -> None:
    (migrations(root) / name).write_text(sql)
    if rehash:
        migrations_check.write_sum(root, None, None, None)


def lines(root: Path, against: str | None = "main") -> list[str]:
    return [finding.line() for finding in migrations_check.check(root, against).findings]


def one(root: Path, against: str | None = "main") -> str:
    found = lines(root, against)
    assert len(found) == 1, found
    return found[0]


# The committed project


def test_the_projects_migrations_pass_against_this_checkout():
    result = CliRunner().invoke(app, ["migrations", "check", "--against", "HEAD"])
    assert result.exit_code == 0, result.output
    assert "migrations check: ok" in result.output


def test_the_committed_integrity_file_is_current():
    committed = (migrations(paths.ROOT) / migration_sum.SUM_FILE).read_text()
    files = migrations_check.migration_bytes(migrations(paths.ROOT))
    assert migration_sum.integrity_findings(files, committed) == []
    assert committed == migration_sum.render(files, migration_sum.parse(committed).edits)


def test_an_unknown_ref_is_a_mistake_in_one_line():
    result = CliRunner().invoke(app, ["migrations", "check", "--against", "no-such-ref"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: --against no-such-ref: no such commit in this repository (fetch it first: `git fetch origin`)"
    ]


# 1. Integrity


def test_a_merged_migration_edited_is_refused_until_a_reviewed_edit_records_it(repo):
    path = migrations(repo) / FIRST
    path.write_text(path.read_text() + "\nCREATE INDEX subscriptions_tier ON subscriptions (tier);\n")
    migrations_check.write_sum(repo, None, None, None)  # a fresh hash does not make the edit fine
    found = one(repo)
    assert found.startswith(f"{FIRST}: changed after it reached main: databases that applied it never see the edit;")
    assert f"guruai-cache migrations hash --edited {FIRST} --reason" in found

    with pytest.raises(UserError, match="--edited needs --reason"):
        migrations_check.write_sum(repo, FIRST, " ", "main")
    migrations_check.write_sum(repo, FIRST, "an index only: no table changes", "main")
    assert lines(repo) == []
    recorded = migration_sum.parse((migrations(repo) / migration_sum.SUM_FILE).read_text()).edits
    assert [(e.name, e.reason) for e in recorded][-1] == (FIRST, "an index only: no table changes")

    path.write_text(path.read_text() + "-- and one more edit\n")  # not the reviewed bytes
    migrations_check.write_sum(repo, None, None, None)
    assert one(repo).startswith(f"{FIRST}: changed after it reached main")


def test_a_new_migration_missing_from_the_integrity_file_is_refused(repo):
    add(repo, "0003_tier_index.sql", "CREATE INDEX subscriptions_tier ON subscriptions (tier);\n", rehash=False)
    assert one(repo) == (
        "0003_tier_index.sql: missing from migrations.sum; fix: run `guruai-cache migrations hash` "
        "and commit worker/migrations/migrations.sum"
    )
    migrations_check.write_sum(repo, None, None, None)
    assert lines(repo) == []


def test_a_stale_or_hand_edited_integrity_file_is_refused(repo):
    add(repo, "0003_tier_index.sql", "CREATE INDEX subscriptions_tier ON subscriptions (tier);\n")
    add(repo, "0003_tier_index.sql", "CREATE INDEX subscriptions_tier ON subscriptions (tier, status);\n", rehash=False)
    assert "0003_tier_index.sql: changed since migrations.sum was written (stale hash)" in one(repo)

    migrations_check.write_sum(repo, None, None, None)
    sum_path = migrations(repo) / migration_sum.SUM_FILE
    sum_path.write_text(sum_path.read_text().replace(f"{FIRST} h1:", f"{FIRST} h1:x"))
    assert f"{FIRST}: changed since migrations.sum was written" in one(repo)
    sum_path.write_text(sum_path.read_text() + "oops\n")
    assert one(repo).startswith("migrations.sum: unreadable: line")
    sum_path.unlink()
    assert one(repo).startswith("migrations.sum: missing; fix: run `guruai-cache migrations hash`")


def test_a_gap_or_a_duplicate_in_the_sequence_is_refused(repo):
    add(repo, "0004_late.sql", "CREATE INDEX subscriptions_tier ON subscriptions (tier);\n")
    assert one(repo) == "0004_late.sql: numbered 4 where 3 is next (a gap); fix: number it 0003"
    (migrations(repo) / "0004_late.sql").rename(migrations(repo) / "0001_again.sql")
    migrations_check.write_sum(repo, None, None, None)
    found = lines(repo)
    assert f"{FIRST}: has the number of 0001_again.sql; fix: renumber it after the last migration" in found
    assert any(
        f.startswith("0001_again.sql: is new but sorts before 0002_usage_idempotency_keys.sql, which is on main")
        for f in found
    )


def test_a_merged_migration_renamed_is_refused(repo):
    add(repo, "0003_tier_index.sql", "CREATE INDEX subscriptions_tier ON subscriptions (tier);\n")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "0002 merged")
    (migrations(repo) / "0003_tier_index.sql").rename(migrations(repo) / "0003_index_on_tier.sql")
    migrations_check.write_sum(repo, None, None, None)
    found = lines(repo)
    assert found[0].startswith("0003_tier_index.sql: is on main but deleted or renamed here:")
    assert found[1].startswith("0003_index_on_tier.sql: is new but sorts before 0003_tier_index.sql, which is on main")


def test_without_a_base_the_check_says_what_it_skipped_and_origin_main_is_the_default(repo):
    add(repo, "0003_rename.sql", "ALTER TABLE subscriptions RENAME COLUMN tier TO plan;\n")
    report = migrations_check.check(repo, None)
    assert {f.where for f in report.findings} == {
        "this tree's Worker, SELECT_ACTIVE_SUBSCRIPTION",
        "this tree's Worker, SELECT_SUBSCRIPTION",
        "this tree's Worker, UPSERT_SUBSCRIPTION",
        "this tree's Worker, CONDITIONAL_UPSERT_SUBSCRIPTION",
    }  # this tree's own statements still are checked
    assert report.notes == [
        "no base to compare with (origin/main is not in this clone): edits of merged migrations and the "
        "serving Worker's statements were not checked; pass --against REF"
    ]
    git(repo, "update-ref", "refs/remotes/origin/main", "main")
    report = migrations_check.check(repo, None)
    assert report.notes == []
    assert any("origin/main's Worker, SELECT_ACTIVE_SUBSCRIPTION" in f.line() for f in report.findings)


# 2. Lint


@pytest.mark.parametrize(
    "sql",
    [
        "BEGIN TRANSACTION;\nCREATE INDEX i ON subscriptions (tier);\nCOMMIT;\n",
        "SAVEPOINT s;\nCREATE INDEX i ON subscriptions (tier);\nRELEASE s;\n",
        "BEGIN;\nCREATE INDEX i ON subscriptions (tier);\nROLLBACK;\n",
    ],
)
def test_transaction_control_is_refused_statement_by_statement(repo, sql):
    add(repo, "0003_tx.sql", sql)
    found = lines(repo)
    assert len(found) == 2, found
    for line, statement in zip(found, [sql.splitlines()[0], sql.splitlines()[2]], strict=True):
        assert line.startswith(f"0003_tx.sql: `{statement.rstrip(';')}` transaction control, which remote D1 refuses")
        assert "(workerd #5411)" in line


def test_pragma_writes_are_refused_but_d1s_deferred_foreign_keys_and_reads_are_not(repo):
    add(repo, "0003_pragma.sql", "PRAGMA foreign_keys = OFF;\nPRAGMA journal_mode = WAL;\n")
    found = lines(repo)
    assert [f.split(" a PRAGMA write")[0] for f in found] == [
        "0003_pragma.sql: `PRAGMA foreign_keys = OFF`",
        "0003_pragma.sql: `PRAGMA journal_mode = WAL`",
    ]
    assert "use `PRAGMA defer_foreign_keys = on`" in found[0]
    add(repo, "0003_pragma.sql", "PRAGMA defer_foreign_keys = on;\nPRAGMA table_info(subscriptions);\n")
    assert lines(repo) == []


def test_a_triggers_begin_end_is_not_transaction_control(repo):
    add(
        repo,
        "0003_trigger.sql",
        "CREATE TABLE audit (user_id TEXT NOT NULL PRIMARY KEY);\n"
        "CREATE TRIGGER subscriptions_audit AFTER INSERT ON subscriptions BEGIN\n"
        "  INSERT OR IGNORE INTO audit (user_id) VALUES (new.user_id);\nEND;\n",
    )
    assert lines(repo) == []


@pytest.mark.parametrize(
    ("sql", "statement", "lost"),
    [
        ("DROP TABLE usage;\n", "DROP TABLE usage", "usage.window_start, usage.user_id, usage.count"),
        ("ALTER TABLE subscriptions DROP COLUMN updated_at;\n", "ALTER TABLE subscriptions DROP COLUMN updated_at",
         "subscriptions.updated_at"),
        (  # a rebuild that leaves a column behind
            "CREATE TABLE usage_new (window_start INTEGER NOT NULL, user_id TEXT NOT NULL, "
            "PRIMARY KEY (window_start, user_id)) WITHOUT ROWID;\n"
            "INSERT INTO usage_new SELECT window_start, user_id FROM usage;\n"
            "DROP TABLE usage;\nALTER TABLE usage_new RENAME TO usage;\n",
            "DROP TABLE usage",
            "usage.count",
        ),
        ("ALTER TABLE usage RENAME TO usage_old;\nDROP TABLE usage_old;\n", "DROP TABLE usage_old",
         "usage.window_start, usage.user_id, usage.count"),
    ],
)  # fmt: skip
def test_a_change_that_loses_data_is_refused_without_the_marker(repo, sql, statement, lost):
    add(repo, "0003_lose.sql", sql)
    found = [f for f in lines(repo) if "loses data" in f]
    assert found == [
        f"0003_lose.sql: `{statement}` loses data ({lost}) without a reason; fix: keep the data (expand, then "
        "contract in a later deploy: docs/deploying.md), or add the line `-- guruai: destructive: <why>` to the file"
    ]
    add(repo, "0003_lose.sql", "-- guruai: destructive: nothing reads it since the 2026-10 deploy\n" + sql)
    assert not [f for f in lines(repo) if "loses data" in f]


def test_a_rebuild_that_keeps_every_column_loses_nothing():
    rebuilt = migration_lint.lint(
        {
            "0001_t.sql": "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT);",
            "0002_t.sql": "CREATE TABLE t_new (a INTEGER PRIMARY KEY, b TEXT NOT NULL DEFAULT '');\n"
            "INSERT INTO t_new SELECT a, coalesce(b, '') FROM t;\nDROP TABLE t;\nALTER TABLE t_new RENAME TO t;\n",
        }
    )
    assert rebuilt == []


def test_a_statement_sqlite_cannot_run_is_named(repo):
    add(repo, "0003_typo.sql", "ALTER TABLE subscription ADD COLUMN plan TEXT;\n")
    assert lines(repo) == [
        "0003_typo.sql: `ALTER TABLE subscription ADD COLUMN plan TEXT` does not run on SQLite (D1's engine): "
        "no such table: subscription; fix: correct the statement"
    ]


# 3. The Worker that is still serving


def test_a_column_the_serving_worker_reads_renamed_is_refused(repo):
    add(repo, "0003_rename.sql", "ALTER TABLE subscriptions RENAME COLUMN tier TO plan;\n")
    found = {f.split(":")[0].removeprefix("main's Worker, "): f for f in lines(repo)}
    assert sorted(found) == [
        "CONDITIONAL_UPSERT_SUBSCRIPTION", "SELECT_ACTIVE_SUBSCRIPTION", "SELECT_SUBSCRIPTION", "UPSERT_SUBSCRIPTION",
    ]  # fmt: skip
    assert "no longer prepares on the migrated schema (no such column: tier)" in found["SELECT_ACTIVE_SUBSCRIPTION"]
    assert (
        "no longer prepares on the migrated schema (table subscriptions has no column named tier)"
        in found["UPSERT_SUBSCRIPTION"]
    )
    assert all(f.endswith("docs/deploying.md#a-breaking-schema-change-in-two-deploys)") for f in found.values())


def test_an_added_column_keeps_the_serving_worker_working(repo):
    add(repo, "0003_plan.sql", "ALTER TABLE subscriptions ADD COLUMN seats INTEGER NOT NULL DEFAULT 1;\n")
    assert lines(repo) == []


def test_a_required_column_the_serving_workers_insert_leaves_out_is_refused(repo):
    """Every column still there, so every statement prepares; but the old Worker's upsert names no
    `seats`, and a rebuild made it NOT NULL without a default: the statement fails when run."""
    add(
        repo,
        "0003_seats.sql",
        "CREATE TABLE subscriptions_new (\n"
        "  user_id TEXT NOT NULL PRIMARY KEY, tier TEXT NOT NULL, status TEXT NOT NULL,\n"
        "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, seats INTEGER NOT NULL\n"
        ") WITHOUT ROWID;\n"
        "INSERT INTO subscriptions_new SELECT *, 1 FROM subscriptions;\n"
        "DROP TABLE subscriptions;\n"
        "ALTER TABLE subscriptions_new RENAME TO subscriptions;\n",
    )
    found = one(repo)
    assert found.startswith("main's Worker, UPSERT_SUBSCRIPTION: `INSERT INTO subscriptions")
    assert (
        "runs on main's schema but fails on the migrated one (NOT NULL constraint failed: subscriptions.seats)" in found
    )
    assert found.endswith("docs/deploying.md#a-breaking-schema-change-in-two-deploys)")


@pytest.mark.wrangler
def test_local_d1_agrees_a_renamed_column_breaks_the_serving_workers_statement(repo, tmp_path):
    """The same migrations applied by the real wrangler on local D1: the statement the check
    refuses fails there too, with SQLite's words."""
    add(repo, "0003_rename.sql", "ALTER TABLE subscriptions RENAME COLUMN tier TO plan;\n")
    statement = migrations_check.sql_exports(repo / "worker" / "src")["SELECT_ACTIVE_SUBSCRIPTION"]
    database = ("guruai-db-test", "00000000-0000-4000-8000-000000000019")
    persist = tmp_path / "state"
    env = wrangler_env()
    assert (
        apply_migrations.apply(*database, local=True, persist_to=persist, migrations_dir=migrations(repo), env=env) == 0
    )
    config = persist / "wrangler.json"
    config.write_text(json.dumps(single_database_config(*database, migrations(repo))))
    run = subprocess.run(
        [str(paths.WRANGLER), "d1", "execute", database[0], "--local", "--config", str(config),
         "--persist-to", str(persist), "--command", statement.replace("?1", "'alice'")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert run.returncode != 0
    assert "no such column: tier" in run.stdout + run.stderr
    assert any("no such column: tier" in f for f in lines(repo))


# 4. Query plans


def export(root: Path, name: str, sql: str) -> None:
    module = root / "worker" / "src" / "sql.js"
    module.write_text(module.read_text() + f"\nexport const {name} = {json.dumps(sql)};\n")


def test_a_full_scan_of_a_billed_table_is_refused_and_a_non_unique_index_is_a_range(repo):
    export(repo, "BY_TIER", "SELECT user_id FROM subscriptions WHERE tier = ?1")
    assert one(repo) == (
        "this tree's Worker, BY_TIER: `SELECT user_id FROM subscriptions WHERE tier = ?1` reads every row of "
        "subscriptions (SCAN subscriptions), and D1 bills each row read; fix: add an index that covers what "
        "it filters by, in a new migration"
    )
    add(repo, "0003_tier.sql", "CREATE INDEX subscriptions_tier ON subscriptions (tier);\n")
    assert (
        "reads a range of subscriptions (SEARCH subscriptions USING COVERING INDEX subscriptions_tier (tier=?))"
        in one(repo)
    )


def test_the_crons_range_delete_is_the_only_allowed_range(repo):
    assert lines(repo) == []  # DELETE_OLD_USAGE, a range, is on the allow-list
    export(repo, "OLD_USAGE", "SELECT count FROM usage WHERE window_start < ?1")
    assert one(repo).startswith(
        "this tree's Worker, OLD_USAGE: `SELECT count FROM usage WHERE window_start < ?1` reads a range of usage"
    )


def test_a_migration_that_drops_the_key_the_worker_reads_by_is_refused(repo):
    add(
        repo,
        "0003_usage.sql",
        "CREATE TABLE usage_new (window_start INTEGER NOT NULL, user_id TEXT NOT NULL, count INTEGER NOT NULL);\n"
        "INSERT INTO usage_new SELECT * FROM usage;\nDROP TABLE usage;\nALTER TABLE usage_new RENAME TO usage;\n",
    )
    found = lines(repo)
    assert any(f.startswith("this tree's Worker, SELECT_USED:") and "reads every row of usage" in f for f in found), (
        found
    )


# CI


def test_ci_checks_the_migrations_against_the_pull_requests_base(tmp_path):
    """scripts/test.sh (the test job's one command) passes MIGRATIONS_BASE, which the pull-request
    workflow sets to the base commit its checkout has (the whole history), as --against."""
    workflow = yaml.safe_load((paths.ROOT / ".github" / "workflows" / "pull-request.yml").read_text())
    steps = workflow["jobs"]["test"]["steps"]
    (checkout,) = [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["fetch-depth"] == 0
    (suite,) = [s for s in steps if s.get("run") == "scripts/test.sh"]
    assert suite["env"]["MIGRATIONS_BASE"] == "${{ github.event.pull_request.base.sha }}"

    script = (paths.ROOT / "scripts" / "test.sh").read_text().splitlines()
    (line,) = [t.strip() for t in script if "guruai-cache migrations check" in t and not t.strip().startswith("#")]
    echo = line.replace(".venv/bin/guruai-cache", "printf '%s|'")

    def arguments(**env: str) -> str:
        bash = subprocess.run(
            ["bash", "-uc", echo], capture_output=True, text=True, env={"PATH": os.environ["PATH"], **env}, check=True
        )
        return bash.stdout

    assert arguments(MIGRATIONS_BASE="0123abc") == "migrations|check|--against|0123abc|"
    assert arguments() == "migrations|check|"
