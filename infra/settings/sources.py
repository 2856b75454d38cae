"""Where settings come from: the config Pulumi hands the program, or a committed stack file.

`load_settings` is pure (a dict of config in, `Settings` or `SettingsError` out), so tests
and the CLI use it without the Pulumi engine; infra/stack/config.py gathers the stack's
config from the engine and calls it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from infra import paths
from infra.settings.errors import SettingsError, issues_from
from infra.settings.model import ACCOUNT_ID_ENV, Settings
from infra.settings.secrets import SERVICE_TOKEN_KEY

PROJECT = "guruai-cache"


class StackFileError(Exception):
    """A stack file is missing or unreadable; the message says what to do."""


def load_settings(
    raw: Mapping[str, Any],
    *,
    stack: str,
    require_account: bool = True,
    env: Mapping[str, str] | None = None,
    secret_keys: Collection[str] = (),
) -> Settings:
    """Validate the stack's config (camelCase keys, values already parsed) into Settings.

    Raises SettingsError listing every problem; the values of `secret_keys` (keys Pulumi holds
    as secrets) are never shown. The account id falls back to the CLOUDFLARE_ACCOUNT_ID
    environment variable, as wrangler's does.
    """
    env = os.environ if env is None else env
    data = {key: value for key, value in raw.items() if key != SERVICE_TOKEN_KEY}
    if "accountId" not in data and env.get(ACCOUNT_ID_ENV):
        data["accountId"] = env[ACCOUNT_ID_ENV]
    try:
        return Settings.model_validate(data, context={"require_account": require_account, "stack": stack})
    except ValidationError as error:
        raise SettingsError(stack, issues_from(error, Settings, secret_keys)) from None


def parse_config_values(config: Mapping[str, Any], project: str = PROJECT) -> dict[str, Any]:
    """Pulumi hands structured config over as JSON text; keep the project's keys, parsed."""
    prefix = f"{project}:"
    parsed: dict[str, Any] = {}
    for full_key, value in config.items():
        if not full_key.startswith(prefix):
            continue
        parsed[full_key.removeprefix(prefix)] = _parsed(value)
    return parsed


def _parsed(value: Any) -> Any:
    """A structured value (JSON text starting with [ or {) parsed; anything else as it is."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def stack_file_config(stack: str) -> dict[str, Any]:
    """The project's plain (not encrypted) config in Pulumi.<stack>.yaml, keys without the project prefix."""
    path = paths.stack_file(stack)
    if not path.exists():
        raise StackFileError(f"{path.name} not found: create the stack with `pulumi stack init {stack}`")
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name} is not valid YAML: {error}") from None
    config = {
        key: value
        for key, value in (document.get("config") or {}).items()
        if not (isinstance(value, dict) and "secure" in value)  # encrypted: only the engine can read it
    }
    return parse_config_values(config, PROJECT)


def stack_file_settings(stack: str, *, require_account: bool = False) -> Settings:
    """Settings from the committed Pulumi.<stack>.yaml, read without the Pulumi CLI."""
    return load_settings(stack_file_config(stack), stack=stack, require_account=require_account)


def committed_stacks() -> list[str]:
    """The stacks with a committed Pulumi.<stack>.yaml (in paths.STACKS_DIR), by name."""
    return sorted(
        path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in paths.STACKS_DIR.glob("Pulumi.*.yaml")
    )


def committed_stack_settings(*, besides: str | None = None) -> dict[str, Settings]:
    """The committed stacks' settings (but `besides`'), for the checks across stacks. A stack
    file that does not load is left out here: its own check reports it."""
    found = {}
    for stack in committed_stacks():
        if stack == besides:
            continue
        try:
            found[stack] = stack_file_settings(stack)
        except (SettingsError, StackFileError):
            continue
    return found
