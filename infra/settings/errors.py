"""How invalid settings are reported: every problem at once, as `key: problem (got value); fix: ...`."""

from __future__ import annotations

import difflib
import json
from typing import Any

from pydantic import BaseModel, ValidationError

from infra.settings.base import SeveralProblems, snake_case


class SettingIssue(BaseModel):
    key: str
    problem: str
    got: Any
    fix: str

    def __str__(self) -> str:
        return f"{self.key}: {self.problem} (got {_show(self.got)}); fix: {self.fix}"


class SettingsError(Exception):
    """Every invalid setting at once; its message is what the user sees."""

    def __init__(self, stack: str, issues: list[SettingIssue]):
        self.stack = stack
        self.issues = issues
        lines = [f"stack {stack!r}: {len(issues)} invalid setting{'s' if len(issues) != 1 else ''}"]
        lines += [f"  - {issue}" for issue in issues]
        super().__init__("\n".join(lines))


_GENERIC_FIXES = {
    "extra_forbidden": "remove it, or check its spelling",
    "missing": "set it",
    "int_parsing": "use a whole number",
    "int_from_float": "use a whole number",
    "float_parsing": "use a number",
    "finite_number": "use a finite number",
    "model_type": "use an object (`pulumi config set --path`)",
    "bool_parsing": "use true or false",
    "greater_than_equal": "raise it to at least {ge}",
    "less_than_equal": "lower it to at most {le}",
    "string_pattern_mismatch": "match the pattern {pattern}",
    "literal_error": "use one of {expected}",
    "string_type": "use a string",
    "dict_type": "use an object (`pulumi config set --path`)",
    "tuple_type": "use a list (`pulumi config set --path 'key[0]' ...`)",
}


def _show(value: Any, limit: int = 80) -> str:
    if value is None:
        return "nothing"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    shown = repr(text) if isinstance(value, str) else text
    if len(shown) > limit:
        return f"{shown[:limit]}... ({len(text.encode())} bytes)"
    return shown


def config_key(loc: tuple[Any, ...]) -> str:
    """('tiers', 1, 'dailyRequestLimit') -> 'tiers[1].dailyRequestLimit', as `pulumi config set --path` spells it."""
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    key = key or "(settings)"
    return key if len(key) <= 80 else f"{key[:60]}... ({len(key)} characters)"


def issues_from(error: ValidationError, root: type[BaseModel]) -> list[SettingIssue]:
    """pydantic's errors for `root` as SettingIssues, with config keys and fixes."""
    issues = []
    for err in error.errors(include_url=False):
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, SeveralProblems):
            issues += [
                SettingIssue(key=config_key(loc), problem=p, got=got, fix=fix) for loc, p, got, fix in cause.issues
            ]
            continue
        loc = tuple(part for part in err["loc"] if part not in ("function-after", "function-before"))
        if loc and loc[0] in root.model_fields:  # a validated default reports its field name, not its key
            loc = (root.model_fields[str(loc[0])].alias or str(loc[0]), *loc[1:])
        ctx = err.get("ctx") or {}
        if err["type"] == "setting":
            fix = ctx["fix"]
        else:
            fix = _GENERIC_FIXES.get(err["type"], "see docs/configuration.md").format(**ctx)
        problem = err["msg"]
        if err["type"] == "extra_forbidden":
            problem = "unknown setting"
            known = _known_keys(root, loc)
            head = str(loc[-1]).split(".")[0]
            suggestion = difflib.get_close_matches(str(loc[-1]), known, n=1)
            if len(loc) == 1 and "." in str(loc[0]) and head in known:
                fix = f"nested settings need --path: `pulumi config set --path {loc[0]} <value>`"
            elif suggestion:
                fix = f"did you mean {config_key((*loc[:-1], suggestion[0]))!r}? otherwise remove it"
        issues.append(SettingIssue(key=config_key(loc), problem=problem, got=err.get("input"), fix=fix))
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
