"""The local environment's pure parts: the dev seeds (checked on SQLite with the real migrations).

The local clients' files: tests/test_local_clients.py."""

import sqlite3

from infra import paths
from infra.plan.seeds import seed_entries
from infra.settings import stack_file_settings
from infra.tools import local


def test_kv_seeds_are_the_settings_seed_entries():
    settings = stack_file_settings("dev")
    pairs = local.kv_seed_pairs(settings)
    assert {pair["key"]: pair["value"] for pair in pairs} == seed_entries(settings)


def _database() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    for migration in sorted(paths.MIGRATIONS_DIR.glob("*.sql")):
        db.executescript(migration.read_text())
    return db


def test_dev_subscriptions_upsert_is_idempotent():
    settings = stack_file_settings("dev")
    db = _database()
    db.executescript(local.dev_subscriptions_sql(settings, "2026-01-01T00:00:00Z"))
    db.executescript(local.dev_subscriptions_sql(settings, "2026-02-02T00:00:00Z"))
    rows = db.execute("SELECT user_id, tier, status, updated_at FROM subscriptions ORDER BY user_id").fetchall()
    expected = sorted((s.user_id, s.tier, s.status, "2026-01-01T00:00:00Z") for s in settings.dev_subscriptions)
    assert rows == expected  # no duplicates; unchanged rows keep their updated_at

    changed = settings.model_copy(
        update={"dev_subscriptions": (settings.dev_subscriptions[0].model_copy(update={"tier": "premium"}),)}
    )
    db.executescript(local.dev_subscriptions_sql(changed, "2026-03-03T00:00:00Z"))
    user = changed.dev_subscriptions[0].user_id
    assert db.execute("SELECT tier, updated_at FROM subscriptions WHERE user_id = ?", (user,)).fetchone() == (
        "premium",
        "2026-03-03T00:00:00Z",
    )


def test_sql_literals_are_quoted():
    db = sqlite3.connect(":memory:")
    tricky = "o'clock; DROP TABLE x"
    assert db.execute("SELECT " + local.sql_literal(tricky)).fetchone() == (tricky,)


def test_reset_deletes_a_wrangler_state_folder(tmp_path):
    state = tmp_path / "state"
    (state / "v3" / "d1").mkdir(parents=True)
    local.reset_local_state(state)
    assert not state.exists()
    local.reset_local_state(state)  # nothing there: nothing to do
