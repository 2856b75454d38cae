"""`guruai-cache`: the project's command line (wrangler.toml rendering, settings checks).

User mistakes end with a one-line reason and exit code 2, never a traceback.
"""

from __future__ import annotations

import difflib
import json
import shutil
import signal
import subprocess
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from infra import local_dev, wrangler_config
from infra.settings import PROJECT, Settings, SettingsError, load_settings, parse_config_values

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STACKS = ("dev", "prod")
LOCAL_SETTINGS_STACK = "dev"  # local development mirrors the dev stack's settings

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
wrangler_app = typer.Typer(help="Render and check wrangler.toml from the stacks' outputs.", no_args_is_help=True)
settings_app = typer.Typer(help="Validate the committed stack settings without Pulumi.", no_args_is_help=True)
app.add_typer(wrangler_app, name="wrangler")
app.add_typer(settings_app, name="settings")


class UserError(Exception):
    """A mistake the user can fix; printed without a traceback."""


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)


def stack_file_settings(stack: str, *, require_account: bool = False) -> Settings:
    """Settings from the committed Pulumi.<stack>.yaml, read without the Pulumi CLI."""
    path = ROOT / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise UserError(f"{path.name} not found: create the stack with `pulumi stack init {stack}`")
    document = yaml.safe_load(path.read_text()) or {}
    config = {
        key: value
        for key, value in (document.get("config") or {}).items()
        if not (isinstance(value, dict) and "secure" in value)  # encrypted: only the engine can read it
    }
    return load_settings(parse_config_values(config, PROJECT), stack=stack, require_account=require_account)


def stack_outputs(stack: str, outputs_file: Path | None) -> dict[str, Any]:
    """A stack's outputs: from a saved `pulumi stack output --json`, or by asking the Pulumi CLI."""
    if outputs_file is not None:
        try:
            return json.loads(outputs_file.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise UserError(f"--outputs {stack}={outputs_file}: not readable JSON ({error})") from None
    if shutil.which("pulumi") is None:
        raise UserError(
            "the pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/), "
            f"or pass --outputs {stack}=<file of `pulumi stack output --json --stack {stack}`>"
        )
    result = subprocess.run(
        ["pulumi", "stack", "output", "--json", "--stack", stack], cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise UserError(f"`pulumi stack output --stack {stack}` failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


def wrangler_section(stack: str, outputs: dict[str, Any]) -> dict[str, Any]:
    section = outputs.get("wrangler")
    if not isinstance(section, dict):
        raise UserError(f"stack {stack!r} has no `wrangler` output: run `pulumi up --stack {stack}` first")
    return section


def _parse_outputs_option(values: list[str]) -> dict[str, Path]:
    parsed = {}
    for value in values:
        stack, sep, path = value.partition("=")
        if not sep or not stack or not path:
            raise UserError(f"--outputs {value!r}: expected STACK=FILE, e.g. --outputs dev=dev-outputs.json")
        parsed[stack] = Path(path)
    return parsed


@wrangler_app.command("render")
def render_command(
    stack: Annotated[
        list[str] | None, typer.Option("--stack", "-s", help="Stack to add as [env.<stack>] (repeatable).")
    ] = None,
    outputs: Annotated[
        list[str] | None,
        typer.Option(help="STACK=FILE: use a saved `pulumi stack output --json` instead of asking Pulumi."),
    ] = None,
    local_only: Annotated[bool, typer.Option("--local-only", help="Render only the local (top-level) section.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 when the file on disk differs (for CI).")
    ] = False,
    output: Annotated[Path, typer.Option(help="Where to write.")] = ROOT / "wrangler.toml",
) -> None:
    """Render wrangler.toml: local development at the top level, each stack's real ids in [env.<stack>]."""
    try:
        files = _parse_outputs_option(outputs or [])
        stacks = [] if local_only else list(stack or files or DEFAULT_STACKS)
        sections = {name: wrangler_section(name, stack_outputs(name, files.get(name))) for name in stacks}
        text = wrangler_config.render(stack_file_settings(LOCAL_SETTINGS_STACK), sections)
    except (UserError, SettingsError) as error:
        raise fail(str(error)) from None
    if check:
        current = output.read_text() if output.exists() else ""
        if current != text:
            diff = difflib.unified_diff(current.splitlines(), text.splitlines(), str(output), "rendered", lineterm="")
            typer.echo("\n".join(diff))
            typer.secho(f"{output} is stale: run `guruai-cache wrangler render`", err=True, fg=typer.colors.RED)
            raise typer.Exit(code=1)
        typer.echo(f"{output} is up to date")
        return
    output.write_text(text)
    typer.echo(f"wrote {output} (local{''.join(f', env.{name}' for name in sections)})")


@settings_app.command("check")
def settings_check(
    stack: Annotated[list[str] | None, typer.Option("--stack", "-s", help="Stack to check (repeatable).")] = None,
) -> None:
    """Validate Pulumi.<stack>.yaml as the program would (the account id may come later)."""
    failed = False
    for name in stack or DEFAULT_STACKS:
        try:
            stack_file_settings(name)
            typer.echo(f"{name}: settings valid")
        except (UserError, SettingsError) as error:
            typer.secho(str(error), err=True, fg=typer.colors.RED)
            failed = True
    if failed:
        raise typer.Exit(code=2)


def existing_env_sections(path: Path) -> dict[str, Any]:
    """The [env.*] sections already rendered into `path`, kept when only the local part changes."""
    if not path.exists():
        return {}
    try:
        return dict(tomllib.loads(path.read_text()).get("env") or {})
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{path} is not valid TOML ({error}): delete it and run `guruai-cache wrangler render`") from None


@app.command("local")
def local_command(
    port: Annotated[
        int, typer.Option("--port", "-p", min=1, max=65535, help="Port for the Worker.")
    ] = local_dev.DEFAULT_PORT,
    ip: Annotated[
        str, typer.Option(help="Address to listen on; loopback by default, as the local token is no real secret.")
    ] = local_dev.DEFAULT_IP,
    no_start: Annotated[
        bool, typer.Option("--no-start", help="Prepare everything (config, token, migrations, seeds), then exit.")
    ] = False,
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete the local KV and D1 data first (the token in .dev.vars stays).")
    ] = False,
    persist_to: Annotated[
        Path | None, typer.Option(help="Where local KV and D1 live (default: .wrangler/state, wrangler's own).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="The wrangler.toml to write (default: the project's); .dev.vars goes next to it."),
    ] = None,
) -> None:
    """Run the Worker locally on workerd: render wrangler.toml, write .dev.vars (a generated service
    token), apply the D1 migrations, seed KV (config:tiers, flags:*) and D1 (devSubscriptions) from
    the dev stack's settings, then `wrangler dev`. Safe to re-run; Ctrl-C stops everything."""
    project = local_dev.default_project()
    project = local_dev.LocalProject(
        config=(config or project.config).resolve(), persist_to=(persist_to or project.persist_to).resolve()
    )
    steps = iter(range(1, local_dev.PREPARE_STEPS + 2))

    def progress(message: str) -> None:
        typer.secho(f"==> [{next(steps)}/{local_dev.PREPARE_STEPS + (0 if no_start else 1)}] {message}", bold=True)

    try:
        if not no_start and not local_dev.port_is_free(ip, port):
            raise UserError(f"{ip}:{port} is already in use (another `wrangler dev`?): stop it or pass --port N")
        if reset:
            _reset_local_state(project.persist_to)
        settings = stack_file_settings(LOCAL_SETTINGS_STACK)
        token = local_dev.prepare(settings, project, existing_env_sections(project.config), progress)
    except (UserError, SettingsError, local_dev.LocalError) as error:
        raise fail(str(error)) from None
    url = f"http://{ip}:{port}"
    if no_start:
        if project == local_dev.default_project():
            start = f"`scripts/local.sh --port {port}` (or `npx wrangler dev --port {port}`)"
        else:
            start = f"`npx wrangler dev --config {project.config} --persist-to {project.persist_to} --port {port}`"
        typer.echo(f"prepared; start with {start}; the token is in {project.dev_vars}")
        return
    progress(f"starting wrangler dev on {url}")
    _serve(project, ip, port, url, token)


def _reset_local_state(persist_to: Path) -> None:
    # Only ever delete what looks like wrangler's state folder, whatever --persist-to says.
    if persist_to.exists():
        if any(entry.name != "v3" for entry in persist_to.iterdir()):
            raise UserError(f"--reset: {persist_to} holds more than wrangler's state (v3/); delete it yourself")
        shutil.rmtree(persist_to)
    typer.echo(f"deleted the local state in {persist_to}")


def _serve(project: local_dev.LocalProject, ip: str, port: int, url: str, token: str) -> None:
    """wrangler dev in the foreground until Ctrl-C (or SIGTERM); both stop wrangler and workerd."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    process = local_dev.start(project, port, ip)
    try:
        local_dev.wait_until_ready(url, process)
        typer.secho(f"\nThe Worker runs at {url} (Ctrl-C stops it)", fg=typer.colors.GREEN, bold=True)
        typer.echo(f"  token:  {token}   (SERVICE_TOKEN in {project.dev_vars})")
        typer.echo(f"  try:    curl -H 'Authorization: Bearer {token}' {url}/subscriptions/user-pro")
        typer.echo(f"  cron:   curl '{url}/__scheduled?cron=*+*+*+*+*'\n")
        code = process.wait()
        typer.secho(f"wrangler dev exited with code {code}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1)
    except KeyboardInterrupt:
        typer.echo("\nstopping wrangler dev...")
    except local_dev.LocalError as error:
        raise fail(str(error)) from None
    finally:
        local_dev.stop(process)
        signal.signal(signal.SIGTERM, previous)
    typer.echo("stopped")


def _parse_traffic_option(values: list[str]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key or not text:
            raise UserError(f"--traffic {value!r}: expected KEY=VALUE, e.g. --traffic usageCallsPerUserPerDay=10")
        try:
            parsed[key.removeprefix("traffic.")] = json.loads(text)
        except json.JSONDecodeError:
            parsed[key.removeprefix("traffic.")] = text  # a word, e.g. workersPlan=paid
    return parsed


@app.command("estimate")
def estimate_command(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Stack whose `traffic` settings to price.")] = "dev",
    as_json: Annotated[bool, typer.Option("--json", help="Print the estimate as JSON.")] = False,
    kv_counter: Annotated[
        bool, typer.Option("--kv-counter", help="Price the seed guide's KV-counter rate limiter instead of D1 counting.")
    ] = False,
    traffic: Annotated[
        list[str] | None,
        typer.Option("--traffic", "-t", help="KEY=VALUE: try another `traffic.<KEY>` than the stack's (repeatable)."),
    ] = None,
) -> None:
    """Estimate daily and monthly use, free-plan headroom and the Workers Paid bill from the stack's traffic."""
    from infra import cost, cost_report  # rich tables: only this command needs them

    try:
        settings = cost.with_traffic(stack_file_settings(stack), _parse_traffic_option(traffic or []), stack)
        result = cost.estimate(settings, usage_store="kv-counter" if kv_counter else "d1")
    except (UserError, SettingsError, cost.OperationsTableError) as error:
        raise fail(str(error)) from None
    if as_json:
        typer.echo(json.dumps({"stack": stack, **result.to_json()}, indent=2))
        return
    cost_report.print_estimate(result, stack)


@app.command("verify")
def verify_command(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Deployed stack to check.")] = "dev",
    url: Annotated[
        str | None,
        typer.Option(help="The Worker's base URL; default https://<script>.<account subdomain>.workers.dev."),
    ] = None,
    outputs: Annotated[
        Path | None, typer.Option(help="A saved `pulumi stack output --json` instead of asking Pulumi.")
    ] = None,
) -> None:
    """Check a deployed stack: seeded keys, a KV round trip in the preview namespace, the Worker's /health.

    Needs CLOUDFLARE_API_TOKEN in the environment (never an option: it would land in shell history).
    Exit 1 when a check fails.
    """
    import os

    import cloudflare
    import httpx

    from infra import verify

    token = os.environ.get("CLOUDFLARE_API_TOKEN")
    try:
        if not token:
            raise UserError("CLOUDFLARE_API_TOKEN is not set: export the token the stack was deployed with")
        target = verify.target_from_outputs(
            stack, stack_outputs(stack, outputs), stack_file_settings(stack).seed_entries()
        )
    except (UserError, SettingsError, ValueError) as error:
        raise fail(str(error)) from None
    typer.echo(f"verifying stack {stack} (account {target.account_id})")
    with cloudflare.Cloudflare(api_token=token) as client, httpx.Client(timeout=15, follow_redirects=True) as http:
        checks = verify.run(
            target, client, http, url, progress=lambda c: typer.echo(f"  {'ok  ' if c.ok else 'FAIL'} {c.name}")
        )
    typer.echo("\n" + verify.table(checks))
    if not all(check.ok for check in checks):
        raise typer.Exit(code=1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
