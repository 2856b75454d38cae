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
from infra.settings.errors import SettingIssue, SettingsError, issues_from
from infra.settings.model import ACCOUNT_ID_ENV, Settings
from infra.settings.secrets import (
    SERVICE_TOKEN_KEY,
    production_token_issues,
    service_token_deprecations,
)

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


def _stack_file_entries(stack: str) -> dict[str, Any]:
    """Every entry of Pulumi.<stack>.yaml's `config` (encrypted ones as `{secure: ...}`)."""
    path = paths.stack_file(stack)
    if not path.exists():
        raise StackFileError(f"{path.name} not found: create the stack with `pulumi stack init {stack}`")
    return stack_text_entries(path.read_text(), path.name)


def stack_text_entries(text: str, name: str = "the stack file") -> dict[str, Any]:
    """A stack file's `config` entries, read as Pulumi reads them: a plain value is its text
    (`2026-04-01` and `0123` stay strings, as the engine hands them to the program), an object or
    list is parsed."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        config = next(
            (value for key, value in getattr(root, "value", ()) if getattr(key, "value", None) == "config"), None
        )
        entries = config.value if isinstance(config, yaml.MappingNode) else []
        return {
            key.value: value.value
            if isinstance(value, yaml.ScalarNode)
            else yaml.SafeLoader("").construct_document(value)
            for key, value in entries
        }
    except yaml.YAMLError as error:
        raise StackFileError(f"{name} is not valid YAML: {error}") from None


def plain_config(entries: Mapping[str, Any]) -> dict[str, Any]:
    """The project's plain (not encrypted) entries, keys without the project prefix."""
    config = {
        key: value
        for key, value in entries.items()
        if not (isinstance(value, dict) and "secure" in value)  # encrypted: only the engine can read it
    }
    return parse_config_values(config, PROJECT)


def stack_file_config(stack: str) -> dict[str, Any]:
    """The project's plain config in Pulumi.<stack>.yaml, keys without the project prefix."""
    return plain_config(_stack_file_entries(stack))


def stack_file_deprecations(stack: str, settings: Settings) -> list[str]:
    """What `pulumi preview` warns this stack about, read from its file: deprecated settings, and
    the all-scope service token (`serviceToken`, encrypted or not, or generated for want of `clients`)."""
    return settings.deprecations() + service_token_deprecations(
        _token_set(stack), settings.clients, settings.is_production
    )


def stack_file_token_issues(stack: str, settings: Settings) -> list[SettingIssue]:
    """What stops `pulumi preview` of a production stack on its tokens (clients, serviceToken), read from its file."""
    return production_token_issues(stack, settings.is_production, settings.clients, _token_set(stack))


def _token_set(stack: str) -> bool:
    """`serviceToken` is in the stack file (encrypted or not)."""
    return f"{PROJECT}:{SERVICE_TOKEN_KEY}" in _stack_file_entries(stack)


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
