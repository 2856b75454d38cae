"""The base every settings model shares, and how a validator reports problems with their fixes."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError


class SettingModel(BaseModel):
    # camelCase keys, as Pulumi config keys are; unknown keys are typos, not extras.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


def problem(message: str, fix: str) -> PydanticCustomError:
    """A validation error that carries its fix, so the report can say how to mend it."""
    return PydanticCustomError("setting", message, {"fix": fix})


# (config location, problem, got, fix): what one validator found wrong at a place below its field.
Issue = tuple[tuple[Any, ...], str, Any, str]


class SeveralProblems(ValueError):
    """Several problems found by one validator; carried out of pydantic intact."""

    def __init__(self, issues: list[Issue]):
        super().__init__("; ".join(found for _, found, _, _ in issues))
        self.issues = issues


def raise_if(issues: list[Issue]) -> None:
    if issues:
        raise SeveralProblems(issues)


def snake_case(camel: str) -> str:
    """'kvNamespaceId' -> 'kv_namespace_id' (the inverse of the models' alias generator)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()
