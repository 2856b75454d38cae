"""`guruai-cache local` (the README's run command): re-runs, the whole command, Ctrl-C, user mistakes."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from local_worker import ROOT, free_port, make_project
from typer.testing import CliRunner

from infra.plan import wrangler_toml
from infra.settings import stack_file_settings
from infra.tools import cli, local, wrangler_dev

pytestmark = pytest.mark.e2e


def test_rerunning_the_preparation_keeps_token_and_data(worker, user_id):
    worker.put(f"/subscriptions/{user_id}", {"tier": "pro"})
    assert worker.post(f"/usage/{user_id}").json()["used"] == 1
    worker.get("/subscriptions/user-pro")
    assert worker.get("/subscriptions/user-pro").headers["X-Cache"] == "HIT"

    tokens = local.prepare(worker.settings, worker.project)  # while wrangler dev runs

    assert tokens == worker.local_tokens
    assert worker.get(f"/subscriptions/{user_id}").json()["tier"] == "pro"  # data survives
    assert worker.post(f"/usage/{user_id}").json()["used"] == 2
    assert worker.get("/subscriptions/user-pro").headers["X-Cache"] == "MISS"  # re-seeded users are re-read from D1
    dev_ids = [sub.user_id for sub in worker.settings.dev_subscriptions]
    rows = worker.d1("SELECT user_id FROM subscriptions WHERE user_id GLOB 'user-*' ORDER BY user_id")
    assert [row["user_id"] for row in rows] == sorted(dev_ids)  # upserted, not duplicated
    assert worker.get("/tiers").status_code == 200


def _read_until(lines: list[str], process: subprocess.Popen, marker: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not any(marker in line for line in lines):
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("`guruai-cache local` did not get ready:\n" + "".join(lines))
        time.sleep(0.1)


def test_local_command_prepares_serves_and_stops_on_ctrl_c(tmp_path):
    """The README's command for real, in a process of its own: the team's dev settings and their
    committed wrangler.toml (scripts/test.sh checks it is current). So it asserts nothing that a
    team's new tiers, flags or clients change: `user-pro` is one of the default dev users."""
    project = make_project(tmp_path / "project", tmp_path / "state")
    shutil.copy(ROOT / "wrangler.toml", project.config)  # a rendered file with [env.*] sections
    config_before = project.config.read_text()
    port = free_port()
    command = [sys.executable, "-m", "infra.tools.cli", "local", "--port", str(port)]
    command += ["--config", str(project.config), "--persist-to", str(project.persist_to)]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own group, as a terminal's foreground job is
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        _read_until(lines, process, "  cron:")  # the last line it prints when ready
        output = "".join(lines)
        assert f"http://127.0.0.1:{port}" in output
        token = re.search(r"read token:\s+(\S+)", output).group(1)
        assert token == json.loads(project.tokens_file.read_text())["read"]
        assert token not in project.dev_vars.read_text()  # the Worker gets digests only
        assert re.findall(r"==> \[(\d)/7\]", output) == [
            str(step) for step in range(1, 8)
        ]  # progress per step (the build first)

        response = httpx.get(
            f"http://127.0.0.1:{port}/subscriptions/user-pro", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200 and response.json()["tier"] == "pro"  # seeded from the dev settings
        assert project.config.read_text() == config_before  # read, never written: `wrangler render` writes it

        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the foreground group
        try:
            assert process.wait(timeout=60) == 0
        except subprocess.TimeoutExpired:
            raise AssertionError("Ctrl-C did not stop `guruai-cache local` in 60 s:\n" + "".join(lines)) from None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    reader.join(timeout=5)
    assert "stopped" in "".join(lines)
    assert wrangler_dev.port_is_free("127.0.0.1", port)  # wrangler and workerd are gone
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health")


def test_a_busy_port_is_a_one_line_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            cli.app, ["local", "--port", str(port), "--config", str(tmp_path / "wrangler.toml")]
        )
    assert result.exit_code == 2
    assert f"127.0.0.1:{port} is already in use" in result.output and "--port" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "wrangler.toml").exists()  # refused before doing anything


def test_a_stale_config_is_refused_with_the_command_that_renders_it(tmp_path):
    project = make_project(tmp_path / "project", tmp_path / "state")
    settings = stack_file_settings("dev")  # in process: the tests' dev stack
    current = wrangler_toml.render(settings, {})
    line = f'SUBSCRIPTION_TTL = "{settings.ttls.subscription}"'
    stale = current.replace(line, 'SUBSCRIPTION_TTL = "1"', 1)
    project.config.write_text(stale)
    args = ["local", "--no-start", "--config", str(project.config), "--persist-to", str(project.persist_to)]
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 2, result.output
    assert "does not match the dev stack's settings" in result.output
    assert f"guruai-cache wrangler render --local-only --output {project.config}" in result.output
    assert f"+{line}" in result.output  # what differs
    assert project.config.read_text() == stale  # nothing but `wrangler render` writes it
    assert not project.dev_vars.exists()  # refused before any other step


def test_reset_deletes_only_wrangler_state(tmp_path):
    precious = tmp_path / "data"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    args = [
        "local",
        "--no-start",
        "--reset",
        "--persist-to",
        str(precious),
        "--config",
        str(tmp_path / "wrangler.toml"),
    ]
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 2 and "holds more than wrangler's state" in result.output
    assert (precious / "notes.txt").read_text() == "keep me"


def test_help_lists_the_options():
    result = CliRunner().invoke(cli.app, ["local", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--port", "--no-start", "--reset", "--persist-to", "--config", "--ip"):
        assert option in result.output
