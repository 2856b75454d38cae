"""`guruai-cache estimate --traffic KEY=VALUE`: the values it tries, and its mistakes worded for the option.

The values are validated as the stack's `traffic` settings are, but the user typed an option,
not a stack file: an error names `--traffic KEY=...` and a fix on the command line, never
`traffic.<key>` or `pulumi config set`.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from infra.settings import SettingsError
from infra.settings.errors import value_looks_secret
from infra.settings.traffic import Traffic
from infra.tools.errors import UserError

OPTION = "--traffic"
EXAMPLE = f"KEY=VALUE, e.g. {OPTION} usageCallsPerUserPerDay=10"


def parse(values: list[str]) -> dict[str, Any]:
    """`KEY=VALUE` pairs as traffic overrides: a JSON value (a number), else the word as it is."""
    parsed: dict[str, Any] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key or not text:
            raise UserError(f"{OPTION} {value!r}: expected {EXAMPLE}")
        key = key.removeprefix("traffic.")
        try:
            parsed[key] = json.loads(text)
        except json.JSONDecodeError:
            parsed[key] = text  # a word, e.g. workersPlan=paid
    return parsed


def option_error(error: SettingsError, current: Traffic) -> UserError:
    """The settings' report on the overrides, worded for the option; `current`: the stack's traffic,
    whose values serve as examples."""
    keys = [field.alias or name for name, field in Traffic.model_fields.items()]
    now = current.model_dump(by_alias=True)
    lines = []
    for issue in error.issues:
        key = issue.key.removeprefix("traffic.")
        if key not in keys:
            close = difflib.get_close_matches(key, keys, n=1)
            fix = (
                f"did you mean {close[0]}? (the stack's value: {OPTION} {close[0]}={_text(now[close[0]])})"
                if close
                else f"use one of the traffic keys: {', '.join(keys)}"
            )
            lines.append(f"{OPTION} {key}: not a traffic key; fix: {fix}")
            continue
        lines.append(
            f"{OPTION} {key}: {issue.problem} (got {_text(issue.got)}); fix: {issue.fix} "
            f"(the stack's value: {OPTION} {key}={_text(now[key])})"
        )
    count = f"{len(lines)} invalid value{'s' if len(lines) != 1 else ''}"
    return UserError("\n".join([f"{OPTION}: {count}", *(f"  - {line}" for line in lines)]))


def _text(value: Any) -> str:
    """How the value is written on the command line (unless it may be a secret pasted by mistake)."""
    if value_looks_secret(value):
        return "a value that may be secret, not shown"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 50, as typed, not 50.0
    return value if isinstance(value, str) else json.dumps(value)
