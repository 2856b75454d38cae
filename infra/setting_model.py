"""The base every settings model shares, and how a validator reports a problem with its fix."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError


def problem(message: str, fix: str) -> PydanticCustomError:
    """A validation error that carries its fix, so the report can say how to mend it."""
    return PydanticCustomError("setting", message, {"fix": fix})


class SettingModel(BaseModel):
    # camelCase keys, as Pulumi config keys are; unknown keys are typos, not extras.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)
