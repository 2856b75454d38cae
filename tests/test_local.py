"""The local environment: the private files (checked as they are opened), the dev seeds (checked
on SQLite with the real migrations), and how `wrangler dev` is started.

What the local clients' files hold: tests/test_local_clients.py."""

import builtins
import io
import os
import sqlite3
import stat
import time
from pathlib import Path

import httpx
import pytest

from infra import paths
from infra.plan import wrangler_toml
from infra.plan.seeds import seed_entries
from infra.settings import stack_file_settings
from infra.tools import local, local_clients, wrangler_dev


@pytest.fixture
def watch_private_files(monkeypatch):
    """Every opening of .dev.vars or .dev.tokens.json for writing, with the file's mode right after
    it was opened: the mode the first byte is written under, whichever API opens it."""
    seen = []
    real_os_open, real_open = os.open, builtins.open

    def private(path) -> bool:  # the files, or the partial files they are replaced with
        return isinstance(path, (str, os.PathLike)) and Path(path).name.startswith(
            (".dev.vars", local_clients.TOKENS_FILE)
        )

    def os_open(path, flags, mode=0o777, *args, **kwargs):
        descriptor = real_os_open(path, flags, mode, *args, **kwargs)
        if private(path) and flags & (os.O_WRONLY | os.O_RDWR):
            seen.append(stat.S_IMODE(os.fstat(descriptor).st_mode))
        return descriptor

    def open_(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if private(file) and set(mode) & set("wax+"):
            seen.append(stat.S_IMODE(os.fstat(handle.fileno()).st_mode))
        return handle

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)  # what pathlib's Path.open and write_text call
    old_umask = os.umask(0o022)  # the usual umask: a plain create would give 0644
    yield seen
    os.umask(old_umask)


def test_the_local_secrets_are_private_from_their_first_byte(tmp_path, watch_private_files):
    local_clients.prepare_clients(
        stack_file_settings("dev"), tmp_path / local_clients.TOKENS_FILE, tmp_path / ".dev.vars"
    )
    assert len(watch_private_files) >= 2 and set(watch_private_files) == {0o600}


def test_a_looser_dev_vars_file_is_tightened_before_anything_is_read_or_added(tmp_path, watch_private_files):
    dev_vars = tmp_path / ".dev.vars"
    dev_vars.write_text("OTHER=1\n")
    dev_vars.chmod(0o644)
    watch_private_files.clear()
    local_clients.prepare_clients(stack_file_settings("dev"), tmp_path / local_clients.TOKENS_FILE, dev_vars)
    assert watch_private_files and set(watch_private_files) == {0o600}
    assert stat.S_IMODE(dev_vars.stat().st_mode) == 0o600
    assert dev_vars.read_text().startswith("OTHER=1\n")  # the developer's own lines are kept


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


@pytest.mark.wrangler
def test_wrangler_dev_runs_without_the_unauthenticated_scheduled_route_by_default(tmp_path):
    """`--test-scheduled` lets anyone who reaches the port run the cron job through /__scheduled:
    only the tests ask for it. /cdn-cgi/handler/scheduled runs it under any `wrangler dev`
    (docs/local-development.md); production never routes either path to the Worker."""
    settings = stack_file_settings("dev")
    (tmp_path / "worker").symlink_to(paths.WORKER_DIR, target_is_directory=True)
    config = tmp_path / "wrangler.toml"
    config.write_text(wrangler_toml.render(settings, {}))
    local_clients.prepare_clients(settings, tmp_path / local_clients.TOKENS_FILE, tmp_path / ".dev.vars")
    local.apply_migrations(local.LocalProject(config=config, persist_to=tmp_path / "state"))  # the cron job's table
    port = 8700 + os.getpid() % 90
    while not wrangler_dev.port_is_free(wrangler_dev.DEFAULT_IP, port):
        port += 1
    process = wrangler_dev.start(config, tmp_path / "state", port, output=(tmp_path / "log").open("w"))
    url = f"http://{wrangler_dev.DEFAULT_IP}:{port}"
    try:
        wrangler_dev.wait_until_ready(url, process)
        assert "--test-scheduled" not in process.args
        hidden = httpx.get(f"{url}/__scheduled?cron=0+3+*+*+*")
        assert hidden.status_code == 401  # the Worker's own answer: the route needs a token
        handler = httpx.get(f"{url}/cdn-cgi/handler/scheduled?cron=0+3+*+*+*")
        assert handler.status_code == 200  # wrangler's own route: ran the cron handler, no token asked
        deadline = time.monotonic() + 15
        while '"outcome":"scheduled_cleanup"' not in (tmp_path / "log").read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert '"outcome":"scheduled_cleanup"' in (tmp_path / "log").read_text()  # the Worker's cron job ran
    finally:
        wrangler_dev.stop(process)
