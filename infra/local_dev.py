"""The local environment: wrangler.toml, local D1 and KV, .dev.vars, then `wrangler dev`.

Every step drives the pinned wrangler (node_modules/.bin/wrangler) against the local stores
`wrangler dev` reads, so what runs locally is what the tests and the deploys check. The steps
are idempotent: re-running keeps the service token, re-applies only new migrations, and
upserts the seeds. `guruai-cache local` (infra/cli.py) and the e2e tests both call these.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from infra import wrangler_config
from infra.bindings import DB_BINDING, KV_BINDING, SERVICE_TOKEN_BINDING
from infra.settings import Settings
from infra.wrangler_cli import WRANGLER, wrangler_env

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_IP = "127.0.0.1"
DEFAULT_PORT = 8787
SUBSCRIPTION_KEY_PREFIX = "subscription:"  # the Worker's cache key for a user's subscription
READY_TIMEOUT_S = 60.0
PREPARE_STEPS = 5  # the progress messages `prepare` prints

Progress = Callable[[str], None]


class LocalError(Exception):
    """A step of the local environment failed; the message says which and what to do."""


@dataclass(frozen=True)
class LocalProject:
    """Where the local environment lives: the config, and the local KV and D1 state."""

    config: Path
    persist_to: Path

    @property
    def directory(self) -> Path:
        return self.config.parent

    @property
    def dev_vars(self) -> Path:
        # wrangler dev reads .dev.vars next to the config file.
        return self.directory / ".dev.vars"


def default_project() -> LocalProject:
    return LocalProject(config=ROOT / "wrangler.toml", persist_to=ROOT / ".wrangler" / "state")


# --- pure parts --------------------------------------------------------------------------


def kv_seed_pairs(settings: Settings) -> list[dict[str, str]]:
    """`wrangler kv bulk put`'s input: the same keys and values the stack seeds in the cloud."""
    return [{"key": key, "value": value} for key, value in settings.seed_entries().items()]


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def dev_subscriptions_sql(settings: Settings, now: str) -> str:
    """An idempotent upsert of the dev subscriptions; unchanged rows keep their updated_at."""
    if not settings.dev_subscriptions:
        return ""
    rows = ",\n  ".join(
        f"({sql_literal(sub.user_id)}, {sql_literal(sub.tier)}, {sql_literal(sub.status)}, {sql_literal(now)}, {sql_literal(now)})"
        for sub in settings.dev_subscriptions
    )
    return (
        "INSERT INTO subscriptions (user_id, tier, status, created_at, updated_at) VALUES\n  "
        f"{rows}\n"
        "ON CONFLICT (user_id) DO UPDATE SET tier = excluded.tier, status = excluded.status, "
        "updated_at = excluded.updated_at\n"
        "WHERE subscriptions.tier IS NOT excluded.tier OR subscriptions.status IS NOT excluded.status;\n"
    )


def subscription_cache_keys(settings: Settings) -> list[str]:
    """The Worker's cache keys of the dev users: dropped after seeding so no stale entry hides the new rows."""
    return [SUBSCRIPTION_KEY_PREFIX + sub.user_id for sub in settings.dev_subscriptions]


_DEV_VAR_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def read_dev_var(text: str, name: str) -> str | None:
    for line in text.splitlines():
        match = _DEV_VAR_LINE.match(line)
        if match and match.group(1) == name:
            value = match.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            return value or None
    return None


def ensure_service_token(path: Path) -> tuple[str, bool]:
    """The local SERVICE_TOKEN from .dev.vars, generated (and the file created) when absent.

    Returns (token, created). Other lines of the file are kept; the file is private (0600).
    """
    text = path.read_text() if path.exists() else ""
    token = read_dev_var(text, SERVICE_TOKEN_BINDING)
    if token:
        return token, False
    token = secrets.token_hex(32)
    header = "" if text else "# Local secrets for `wrangler dev` (git-ignored). Written by `guruai-cache local`.\n"
    separator = "" if not text or text.endswith("\n") else "\n"
    path.write_text(f"{header}{text}{separator}{SERVICE_TOKEN_BINDING}=\"{token}\"\n")
    path.chmod(0o600)
    return token, True


def port_is_free(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((ip, port))
        except OSError:
            return False
    return True


def free_port(ip: str = DEFAULT_IP) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((ip, 0))
        return probe.getsockname()[1]


# --- wrangler ----------------------------------------------------------------------------


def _wrangler() -> str:
    if not WRANGLER.exists():
        raise LocalError(f"{WRANGLER.relative_to(ROOT)} is missing: run scripts/setup.sh (npm ci) first")
    return str(WRANGLER)


def run_wrangler(project: LocalProject, args: list[str], what: str) -> subprocess.CompletedProcess[str]:
    """Run one wrangler command against the local stores; a failure names the step and shows wrangler's reason."""
    command = [_wrangler(), *args, "--config", str(project.config)]
    result = subprocess.run(
        command, cwd=project.directory, env=wrangler_env(), capture_output=True, text=True, timeout=180
    )
    if result.returncode != 0:
        detail = "\n".join((result.stderr.strip() or result.stdout.strip()).splitlines()[-15:])
        raise LocalError(f"{what} failed (wrangler {' '.join(args[:3])}):\n{detail}")
    return result


def _local(project: LocalProject) -> list[str]:
    return ["--local", "--persist-to", str(project.persist_to)]


def apply_migrations(project: LocalProject) -> None:
    run_wrangler(project, ["d1", "migrations", "apply", DB_BINDING, *_local(project)], "applying the D1 migrations")


def seed_kv(project: LocalProject, settings: Settings) -> int:
    pairs = kv_seed_pairs(settings)
    with _json_file(pairs) as path:
        run_wrangler(project, ["kv", "bulk", "put", path, "--binding", KV_BINDING, *_local(project)], "seeding KV")
    return len(pairs)


def seed_subscriptions(project: LocalProject, settings: Settings) -> int:
    sql = dev_subscriptions_sql(settings, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    if not sql:
        return 0
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as file:
        file.write(sql)
    try:
        run_wrangler(
            project,
            ["d1", "execute", DB_BINDING, "--file", file.name, *_local(project)],
            "seeding D1 (if the local schema predates templates/migrations, `guruai-cache local --reset` starts afresh)",
        )
    finally:
        os.unlink(file.name)
    return len(settings.dev_subscriptions)


def drop_cached_subscriptions(project: LocalProject, settings: Settings) -> None:
    """Delete the dev users' cache entries, so none from an earlier run hides the re-seeded rows."""
    keys = subscription_cache_keys(settings)
    if keys:
        with _json_file(keys) as path:
            run_wrangler(
                project,
                ["kv", "bulk", "delete", path, "--binding", KV_BINDING, "--force", *_local(project)],
                "dropping the dev users' cached subscriptions",
            )


@contextmanager
def _json_file(data: Any) -> Iterator[str]:
    """A temporary JSON file for wrangler's bulk commands, removed afterwards."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(data, file)
    try:
        yield file.name
    finally:
        os.unlink(file.name)


def prepare(
    settings: Settings,
    project: LocalProject,
    env_sections: Mapping[str, Mapping[str, Any]],
    progress: Progress = lambda message: None,
) -> str:
    """Every step before `wrangler dev`, in order; returns the local service token."""
    worker = project.directory / "templates" / "worker.js"
    if not worker.exists():
        raise LocalError(f"{worker} not found: the config's directory must hold the project's templates/")
    progress(f"rendering {project.config} (local section; {len(env_sections)} [env.*] section(s) kept)")
    project.config.write_text(wrangler_config.render(settings, env_sections))
    token, created = ensure_service_token(project.dev_vars)
    progress(f"{'generated' if created else 'kept'} the local service token in {project.dev_vars}")
    project.persist_to.mkdir(parents=True, exist_ok=True)
    progress(f"applying the D1 migrations to the local database (in {project.persist_to})")
    apply_migrations(project)
    progress(f"upserting {len(settings.dev_subscriptions)} dev subscription(s) into local D1")
    seed_subscriptions(project, settings)
    progress("seeding local KV: " + ", ".join(settings.seed_entries()))
    seed_kv(project, settings)
    drop_cached_subscriptions(project, settings)
    return token


# --- wrangler dev ------------------------------------------------------------------------


def start(
    project: LocalProject,
    port: int,
    ip: str = DEFAULT_IP,
    output: IO[str] | int | None = None,
    extra_args: tuple[str, ...] = (),
) -> subprocess.Popen[str]:
    """`wrangler dev` on ip:port with the local stores, in its own process group (see `stop`)."""
    command = [
        _wrangler(), "dev", "--config", str(project.config), "--ip", ip, "--port", str(port),
        "--persist-to", str(project.persist_to), "--test-scheduled", *extra_args,
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=project.directory,
        env=wrangler_env(),
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
        text=True,
        start_new_session=True,  # so stopping it reaches workerd, wrangler's child, too
    )


def wait_until_ready(url: str, process: subprocess.Popen[str], timeout: float = READY_TIMEOUT_S) -> None:
    """Poll GET /health until it answers 200; fail early if wrangler exits."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalError(f"wrangler dev exited with code {process.returncode} before it was ready (see its output)")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
    raise LocalError(f"wrangler dev did not answer {url}/health within {timeout:.0f} s")


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
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
