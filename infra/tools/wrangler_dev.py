"""`wrangler dev` as a child process: start it, wait until the Worker answers, stop it and workerd.

Used by `guruai-cache local`, the e2e tests and the load benchmarks alike.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from infra.plan import api
from infra.tools.pinned_wrangler import wrangler_env, wrangler_path

DEFAULT_IP = "127.0.0.1"
DEFAULT_PORT = 8787
READY_TIMEOUT_S = 60.0


class WranglerDevError(Exception):
    """wrangler dev exited or never answered; the message says which."""


def port_is_free(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((ip, port))
        except OSError:
            return False
    return True


def start(
    config: Path,
    persist_to: Path,
    port: int,
    ip: str = DEFAULT_IP,
    output: IO[str] | int | None = None,
    extra_args: tuple[str, ...] = (),
    *,
    test_scheduled: bool = False,
) -> subprocess.Popen[str]:
    """`wrangler dev` on ip:port with the local stores, in its own process group (see `stop`).

    `test_scheduled` adds wrangler's `/__scheduled` route, which runs the cron handler for
    anyone who can reach the port, without a token: only tests ask for it. (wrangler dev
    answers `/cdn-cgi/handler/scheduled` the same way with or without it; production never
    routes either path to the Worker. docs/local-development.md.)
    """
    command = [
        wrangler_path(), "dev", "--config", str(config), "--ip", ip, "--port", str(port),
        "--persist-to", str(persist_to), *(["--test-scheduled"] if test_scheduled else []), *extra_args,
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=config.parent,
        env=wrangler_env(),
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
        text=True,
        start_new_session=True,  # so stopping it reaches workerd, wrangler's child, too
    )


def wait_until_ready(url: str, process: subprocess.Popen[str], timeout: float = READY_TIMEOUT_S) -> None:
    """Poll GET /v1/health until it answers 200; fail early if wrangler exits."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise WranglerDevError(
                f"wrangler dev exited with code {process.returncode} before it was ready (see its output)"
            )
        # /v1/health; /health for a bundle built before /v1 (a benchmark's A/B of an older build).
        for path in (f"{api.base_path()}/health", "/health"):
            try:
                with urllib.request.urlopen(f"{url}{path}", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
    raise WranglerDevError(f"wrangler dev did not answer {url}/health within {timeout:.0f} s")


def stop(process: subprocess.Popen[str], timeout: float = 10.0) -> int:
    """Stop wrangler dev and workerd: SIGINT to the group (wrangler's clean shutdown), then SIGKILL."""
    if process.poll() is None:
        _signal_group(process, signal.SIGINT)
        _wait_unreaped(process, timeout)
    # Whatever is left in the group (workerd) goes too. wrangler is not reaped yet, so its
    # pid still names this group and nothing else.
    _signal_group(process, signal.SIGKILL)
    return process.wait()


def _wait_unreaped(process: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.returncode is not None:
            return
        try:
            if os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return
        except ChildProcessError:
            return
        time.sleep(0.05)


def _signal_group(process: subprocess.Popen[str], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
