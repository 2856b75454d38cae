"""`guruai-cache`: the project's command line (wrangler.toml rendering, settings checks).

User mistakes end with a one-line reason and exit code 2, never a traceback.
"""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from infra import wrangler_config
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
def local_command() -> None:
    """Render the local (top-level) wrangler.toml from the dev stack's settings, keeping the stacks' env sections."""
    target = ROOT / "wrangler.toml"
    try:
        text = wrangler_config.render(stack_file_settings(LOCAL_SETTINGS_STACK), existing_env_sections(target))
    except (UserError, SettingsError) as error:
        raise fail(str(error)) from None
    target.write_text(text)
    typer.echo(f"wrote {target} (local development section)")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
