"""The stack's outputs, declared once: each field is one output, exported under its camelCase name
(`pulumi stack output kvNamespaceId`).

The component fills a StackOutputs with Pulumi Outputs, registers and exports exactly
`exports()`; the tools read a saved `pulumi stack output --json` back with `from_exported`, so
an output renamed here cannot be read under its old name anywhere (mypy checks the fields).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Generic, TypeVar

from pydantic.alias_generators import to_camel

T = TypeVar("T")


@dataclass(frozen=True)
class StackOutputs(Generic[T]):
    account_id: T
    kv_namespace_id: T
    kv_namespace_title: T
    kv_preview_namespace_id: T
    kv_preview_namespace_title: T
    d1_database_id: T
    d1_database_name: T
    d1_preview_database_id: T
    d1_preview_database_name: T
    # D1 Time Travel's bookmark taken just before the last deploy that migrated the database
    # (`guruai-cache restore --before-last-deploy` restores it; docs/deploying.md).
    d1_restore_point: T
    worker_script_name: T
    # Where the Worker answers: the app's own domain when set, else its workers.dev address.
    worker_url: T
    cron_schedules: T
    seeded_keys: T
    # Who may call the Worker: client names and scopes (never token digests); previews show changes.
    clients: T
    # This stack's [env.<stack>] of wrangler.toml (`guruai-cache wrangler render` reads it).
    wrangler: T

    def exports(self) -> dict[str, T]:
        """Output name -> value, in declaration order."""
        return {output_name(field.name): getattr(self, field.name) for field in fields(self)}

    @classmethod
    def from_exported(cls, exported: Mapping[str, Any]) -> StackOutputs[Any]:
        """A stack's outputs as `pulumi stack output --json` prints them; a missing one is None."""
        return StackOutputs(**{field.name: exported.get(output_name(field.name)) for field in fields(cls)})


def output_name(field: str) -> str:
    """'kv_namespace_id' -> 'kvNamespaceId'."""
    return to_camel(field)
