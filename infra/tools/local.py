"""The local environment (`guruai-cache local`): the clients, local D1 and KV, then `wrangler dev`.

Every step drives the pinned wrangler against the local stores `wrangler dev` reads, so what
runs locally is what the tests and the deploys check. The steps are idempotent: re-running
keeps the local tokens (infra/tools/local_clients.py), re-applies only new migrations, and
upserts the seeds. wrangler.toml
is read, never written here: its one writer is `guruai-cache wrangler render`.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from infra import paths
from infra.plan import wrangler_toml
from infra.plan.seeds import seed_entries
from infra.settings import Settings, stack_file_settings
from infra.tools import local_clients, worker_build, wrangler_dev
from infra.tools.errors import UserError
from infra.tools.pinned_wrangler import wrangler_env, wrangler_path
from infra.worker_contract import DB_BINDING, KV_BINDING, SUBSCRIPTION_KEY_PREFIX

PREPARE_STEPS = 5  # the progress messages `prepare` prints

Progress = Callable[[str], None]


class LocalError(UserError):
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

    @property
    def tokens_file(self) -> Path:
        # The local clients' plaintext tokens: the developer's copy, never given to the Worker.
        return self.directory / local_clients.TOKENS_FILE

    def render_command(self) -> str:
        """How to (re)write this project's config: `guruai-cache wrangler render`, the file's one writer."""
        output = "" if self.config == paths.WRANGLER_TOML else f" --output {self.config}"
        return f"guruai-cache wrangler render --local-only{output}"


def default_project() -> LocalProject:
    return LocalProject(config=paths.WRANGLER_TOML, persist_to=paths.ROOT / ".wrangler" / "state")


# --- pure parts --------------------------------------------------------------------------


def kv_seed_pairs(settings: Settings) -> list[dict[str, str]]:
    """`wrangler kv bulk put`'s input: the same keys and values the stack seeds in the cloud."""
    return [{"key": key, "value": value} for key, value in seed_entries(settings).items()]


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def dev_subscriptions_sql(settings: Settings, now: str) -> str:
    """An idempotent upsert of the dev subscriptions; unchanged rows keep their updated_at."""
    if not settings.dev_subscriptions:
        return ""
    rows = ",\n  ".join(
        f"({sql_literal(sub.user_id)}, {sql_literal(sub.tier)}, {sql_literal(sub.status)}, "
        f"{sql_literal(now)}, {sql_literal(now)})"
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


def config_problem(settings: Settings, project: LocalProject) -> str | None:
    """Why the project's wrangler.toml cannot serve these settings locally; None when it can."""
    fix = f"run `{project.render_command()}` (it keeps the [env.*] sections), then run this again"
    if not project.config.exists():
        return f"{project.config} not found: {fix}"
    current = project.config.read_text()
    try:
        expected = wrangler_toml.render(settings, wrangler_toml.env_sections_of(current))
    except tomllib.TOMLDecodeError as error:
        return f"{project.config} is not valid TOML ({error}): {fix}"
    if current == expected:
        return None
    diff = list(
        difflib.unified_diff(current.splitlines(), expected.splitlines(), "on disk", "rendered", lineterm="", n=0)
    )
    shown = "\n".join(diff[:20] + (["..."] if len(diff) > 20 else []))
    return f"{project.config} does not match the dev stack's settings: {fix}\n{shown}"


# --- wrangler ----------------------------------------------------------------------------


def run_wrangler(project: LocalProject, args: list[str], what: str) -> subprocess.CompletedProcess[str]:
    """Run one wrangler command against the local stores; a failure names the step and shows wrangler's reason."""
    command = [wrangler_path(), *args, "--config", str(project.config)]
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
            "seeding D1 (if the local schema predates worker/migrations, `guruai-cache local --reset` starts afresh)",
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
    settings: Settings, project: LocalProject, progress: Progress = lambda message: None
) -> local_clients.LocalTokens:
    """Every step before `wrangler dev`, in order; returns the local tokens (scope -> token)."""
    worker = project.directory / paths.relative(paths.WORKER_BUNDLE)
    if not worker.exists():
        raise LocalError(
            f"{worker} not found: run `guruai-cache worker build` (the config's directory must hold the project's worker/)"
        )
    progress(f"checking {project.config} against the dev stack's settings")
    problem = config_problem(settings, project)
    if problem:
        raise LocalError(problem)
    tokens, created = local_clients.prepare_clients(settings, project.tokens_file, project.dev_vars)
    kept = "kept" if not created else f"generated ({', '.join(created)})"
    progress(f"local tokens, one per scope: {kept} in {project.tokens_file}; their digests in {project.dev_vars}")
    project.persist_to.mkdir(parents=True, exist_ok=True)
    progress(f"applying the D1 migrations to the local database (in {project.persist_to})")
    apply_migrations(project)
    progress(f"upserting {len(settings.dev_subscriptions)} dev subscription(s) into local D1")
    seed_subscriptions(project, settings)
    progress("seeding local KV: " + ", ".join(seed_entries(settings)))
    seed_kv(project, settings)
    drop_cached_subscriptions(project, settings)
    return tokens


# --- the command: prepare, then serve until Ctrl-C -------------------------------------------


def run(project: LocalProject, ip: str, port: int, *, start: bool, reset: bool, settings_stack: str) -> None:
    """`guruai-cache local`: every step with its progress line, then `wrangler dev` in the foreground."""
    total = 1 + PREPARE_STEPS + (1 if start else 0)  # the build, the preparation, wrangler dev
    steps = iter(range(1, total + 1))

    def progress(message: str) -> None:
        typer.secho(f"==> [{next(steps)}/{total}] {message}", bold=True)

    if start and not wrangler_dev.port_is_free(ip, port):
        raise UserError(f"{ip}:{port} is already in use (another `wrangler dev`?): stop it or pass --port N")
    if reset:
        reset_local_state(project.persist_to)
    progress("building the Worker from worker/src (`guruai-cache worker build`)")
    written = worker_build.build()
    if written:
        typer.echo("    wrote " + ", ".join(paths.relative(path) for path in written))
    tokens = prepare(stack_file_settings(settings_stack), project, progress)
    url = f"http://{ip}:{port}"
    if not start:
        if project == default_project():
            how = f"`scripts/local.sh --port {port}` (or `npx wrangler dev --port {port}`)"
        else:
            how = f"`npx wrangler dev --config {project.config} --persist-to {project.persist_to} --port {port}`"
        typer.echo(f"prepared; start with {how}; the tokens are in {project.tokens_file}")
        return
    progress(f"starting wrangler dev on {url}")
    _serve(project, ip, port, url, tokens)


def reset_local_state(persist_to: Path) -> None:
    # Only ever delete what looks like wrangler's state folder, whatever --persist-to says.
    if persist_to.exists():
        if any(entry.name != "v3" for entry in persist_to.iterdir()):
            raise UserError(f"--reset: {persist_to} holds more than wrangler's state (v3/); delete it yourself")
        shutil.rmtree(persist_to)
    typer.echo(f"deleted the local state in {persist_to}")


def _serve(project: LocalProject, ip: str, port: int, url: str, tokens: local_clients.LocalTokens) -> None:
    """wrangler dev in the foreground until Ctrl-C (or SIGTERM); both stop wrangler and workerd."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    process = wrangler_dev.start(project.config, project.persist_to, port, ip)
    try:
        wrangler_dev.wait_until_ready(url, process)
        typer.secho(f"\nThe Worker runs at {url} (Ctrl-C stops it)", fg=typer.colors.GREEN, bold=True)
        for scope, token in tokens.items():
            typer.echo(f"  {scope} token:  {token}")
        typer.echo(f"  (in {project.tokens_file}; client `local-<scope>` each)")
        typer.echo(f"  try:    curl -H 'Authorization: Bearer {tokens['read']}' {url}/v1/entitlements/user-pro")
        typer.echo(f"  cron:   curl '{url}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*'   (local only, no token)\n")
        code = process.wait()
        raise UserError(f"wrangler dev exited with code {code}")
    except KeyboardInterrupt:
        typer.echo("\nstopping wrangler dev...")
    except wrangler_dev.WranglerDevError as error:
        raise UserError(str(error)) from None
    finally:
        wrangler_dev.stop(process)
        signal.signal(signal.SIGTERM, previous)
    typer.echo("stopped")
