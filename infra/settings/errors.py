"""How invalid settings are reported: every problem at once, as `key: problem (got value); fix: ...`.

A value is shown only when it is short and cannot be a secret. Pulumi masks a secret in its
output by exact match, so a cut secret would slip through: anything that may be secret is
left out whole, never cut. It may be secret when Pulumi holds its key as a secret, when its
key's name says so (token, password, ...), or when it looks like a credential.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, ValidationError

from infra.settings.base import SeveralProblems, snake_case

SHOWN_MAX_CHARS = 200  # longer values are left out whole (never cut)
# A key whose last part reads like one of these holds a secret.
SECRET_NAME = re.compile(r"token|secret|passw|passphrase|credential|private|api_?key|access_?key|key$", re.IGNORECASE)
# Credential prefixes that need no mixed case to be recognised (Pulumi, GitHub, OpenAI, Slack, AWS, PEM).
SECRET_PREFIXES = ("pul-", "ghp_", "gho_", "ghs_", "ghu_", "github_pat_", "sk-", "xox", "AKIA", "-----BEGIN")
SECRET_MIN_CHARS = 16
# What API tokens, keys and base64 are made of (JSON and prose are not).
TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9_\-.+/=~]+")


class SettingIssue(BaseModel):
    key: str
    problem: str
    got: Any
    fix: str
    # Pulumi holds the key as a secret: its value is never kept, let alone shown.
    secret: bool = False

    def __str__(self) -> str:
        return f"{self.key}: {self.problem} (got {_show(self.got, self.key, self.secret)}); fix: {self.fix}"


class SettingsError(Exception):
    """Every invalid setting at once; its message is what the user sees."""

    def __init__(self, stack: str, issues: list[SettingIssue]):
        self.stack = stack
        self.issues = issues
        lines = [f"stack {stack!r}: {len(issues)} invalid setting{'s' if len(issues) != 1 else ''}"]
        lines += [f"  - {issue}" for issue in issues]
        super().__init__("\n".join(lines))


# pydantic's own error types, in the project's words: (problem, fix), formatted with the error's
# context. pydantic's wording ("Input should be ...") never reaches a user; a type missing here
# gets FALLBACK. tests/test_user_messages.py feeds every setting bad values of every kind and
# fails on a type that reaches users without its words.
WORDS = {
    "missing": ("missing", "set it"),
    "extra_forbidden": ("unknown setting", "remove it, or check its spelling"),
    "int_parsing": ("not a whole number", "use a whole number"),
    "int_from_float": ("not a whole number", "use a whole number"),
    "int_type": ("not a whole number", "use a whole number"),
    "int_parsing_size": ("a whole number too large to use", "use a smaller number"),
    "float_parsing": ("not a number", "use a number"),
    "float_type": ("not a number", "use a number"),
    "finite_number": ("not a finite number", "use a finite number"),
    "bool_parsing": ("not true or false", "use true or false"),
    "bool_type": ("not true or false", "use true or false"),
    "string_type": ("not a string", "write it as a string (in a stack file, in quotes)"),
    "model_type": ("not an object of settings", "use an object (`pulumi config set --path`)"),
    "dict_type": ("not an object of settings", "use an object (`pulumi config set --path`)"),
    "tuple_type": ("not a list", "use a list (`pulumi config set --path 'key[0]' ...`)"),
    "list_type": ("not a list", "use a list (`pulumi config set --path 'key[0]' ...`)"),
    "greater_than_equal": ("below the minimum, {ge}", "raise it to at least {ge}"),
    "greater_than": ("not above {gt}", "raise it above {gt}"),
    "less_than_equal": ("above the maximum, {le}", "lower it to at most {le}"),
    "less_than": ("not below {lt}", "lower it below {lt}"),
    "literal_error": ("not one of the accepted values", "use one of {expected}"),
    "string_pattern_mismatch": ("not in the accepted form", "match the pattern {pattern}"),
    "string_too_short": ("shorter than {min_length} characters", "lengthen it"),
    "string_too_long": ("longer than {max_length} characters", "shorten it"),
    "too_short": ("fewer than {min_length} items", "add items"),
    "too_long": ("more than {max_length} items", "remove items"),
}
FALLBACK = ("not a value this setting takes", "see its row in docs/configuration.md")


def _show(value: Any, key: str = "", secret: bool = False) -> str:
    """The value as the report prints it, or what it is when it must not be printed."""
    if secret:
        return "a secret, not shown"
    if value is None:
        return "nothing"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if name_looks_secret(key) or value_looks_secret(value):
        return "a value that may be secret, not shown"
    shown = repr(text) if isinstance(value, str) else text
    if len(shown) > SHOWN_MAX_CHARS:
        return f"a value of {len(text.encode())} bytes, not shown"
    return shown


def name_looks_secret(key: str) -> bool:
    """'apiToken', 'cloudflare:apiToken', 'db.password': a key named for a secret (its last part decides)."""
    last = re.split(r"[.:\[\]]", key.rstrip("]"))[-1]
    return bool(last and SECRET_NAME.search(last))


def value_looks_secret(value: Any) -> bool:
    """A credential-like string anywhere in `value`, or a secret-named field inside it.

    Credential-like: at least 16 token characters (letters, digits, `_-.+/=~`) that mix upper
    case, lower case and digits (API tokens, base64), or a known credential prefix. Ids stay visible:
    account, zone and namespace ids are lowercase hex, database ids lowercase UUIDs.
    """
    if isinstance(value, str):
        return _string_looks_secret(value)
    if isinstance(value, dict):
        return any(
            (isinstance(key, str) and name_looks_secret(key) and item not in (None, "", False))
            or value_looks_secret(key)
            or value_looks_secret(item)
            for key, item in value.items()
        )
    if isinstance(value, (list, tuple)):
        return any(value_looks_secret(item) for item in value)
    return False


def _string_looks_secret(text: str) -> bool:
    compact = text.strip()
    if compact.startswith(SECRET_PREFIXES):
        return True
    if len(compact) < SECRET_MIN_CHARS or not TOKEN_CHARACTERS.fullmatch(compact):
        return False
    return any(c.islower() for c in compact) and any(c.isupper() for c in compact) and any(c.isdigit() for c in compact)


def config_key(loc: tuple[Any, ...]) -> str:
    """('tiers', 1, 'dailyRequestLimit') -> 'tiers[1].dailyRequestLimit', as `pulumi config set --path` spells it."""
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    key = key or "(settings)"
    return key if len(key) <= 80 else f"{key[:60]}... ({len(key)} characters)"


def issue(loc: tuple[Any, ...], problem: str, got: Any, fix: str, secret_keys: Collection[str] = ()) -> SettingIssue:
    """A SettingIssue at config location `loc`; the value is dropped when Pulumi holds its key as a secret."""
    secret = bool(loc) and str(loc[0]) in secret_keys
    return SettingIssue(key=config_key(loc), problem=problem, got=None if secret else got, fix=fix, secret=secret)


def issues_from(error: ValidationError, root: type[BaseModel], secret_keys: Collection[str] = ()) -> list[SettingIssue]:
    """pydantic's errors for `root` as SettingIssues, with config keys and fixes.

    `secret_keys`: the top-level config keys (without the project prefix) Pulumi holds as secrets.
    """
    issues = []
    for err in error.errors(include_url=False):
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, SeveralProblems):
            issues += [issue(loc, p, got, fix, secret_keys) for loc, p, got, fix in cause.issues]
            continue
        loc = tuple(part for part in err["loc"] if part not in ("function-after", "function-before"))
        if loc and loc[0] in root.model_fields:  # a validated default reports its field name, not its key
            loc = (root.model_fields[str(loc[0])].alias or str(loc[0]), *loc[1:])
        ctx = err.get("ctx") or {}
        if err["type"] == "setting":  # the project's own validators: their words and fix
            problem, fix = err["msg"], ctx["fix"]
        else:
            problem, fix = (text.format(**ctx) for text in WORDS.get(err["type"], FALLBACK))
        if loc[-1:] == ("[key]",):  # a mapping's key, e.g. a flag named 1: name the entry, not "[key]"
            loc = (*loc[:-2], str(loc[-2]))
            problem = f"its name is {problem}"
            fix = "write the name as a string (in a stack file, in quotes)"
        if err["type"] == "extra_forbidden":
            known = _known_keys(root, loc)
            head = str(loc[-1]).split(".")[0]
            suggestion = difflib.get_close_matches(str(loc[-1]), known, n=1)
            if len(loc) == 1 and "." in str(loc[0]) and head in known:
                fix = f"nested settings need --path: `pulumi config set --path {loc[0]} <value>`"
            elif suggestion:
                fix = f"did you mean {config_key((*loc[:-1], suggestion[0]))!r}? otherwise remove it"
        issues.append(issue(loc, problem, err.get("input"), fix, secret_keys))
    return issues


def _known_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The camelCase keys valid where `loc` points, for 'did you mean'."""
    model: type[BaseModel] = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(snake_case(str(part)))
        inner = getattr(field, "annotation", None) if field else None
        candidates = [
            a for a in getattr(inner, "__args__", (inner,)) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if not candidates:
            return []
        model = candidates[0]
    return [field.alias or name for name, field in model.model_fields.items()]
