"""The `adopt` setting: existing namespaces and databases (made by hand, as the setup guide did)
to take over by id instead of creating new ones.

`guruai-cache adopt --stack <stack>` finds them through the Cloudflare API and writes these
settings. A D1 database cannot be renamed, so one adopted under another name than the
program's keeps it (`databaseName`, `previewDatabaseName`); a KV namespace is renamed
instead (a title change keeps its id and data).
"""

from __future__ import annotations

import re

from pydantic import field_validator, model_validator

from infra.names import NAME_PATTERN
from infra.settings.base import Issue, SettingModel, problem, raise_if, snake_case

KV_NAMESPACE_ID = re.compile(r"^[0-9a-f]{32}$")
D1_DATABASE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Adopt(SettingModel):
    """Ids of existing resources to take over instead of creating new ones."""

    kv_namespace_id: str | None = None
    kv_preview_namespace_id: str | None = None
    database_id: str | None = None
    preview_database_id: str | None = None
    # The adopted databases' own names, when they are not the program's (D1 cannot rename).
    database_name: str | None = None
    preview_database_name: str | None = None

    @field_validator("kv_namespace_id", "kv_preview_namespace_id")
    @classmethod
    def _namespace_id(cls, value: str | None) -> str | None:
        if value is not None and not KV_NAMESPACE_ID.match(value):
            raise problem(
                "not a KV namespace id (32 lowercase hex characters)",
                "copy it from `npx wrangler kv namespace list` (the `id` field) or the dashboard's KV page",
            )
        return value

    @field_validator("database_id", "preview_database_id")
    @classmethod
    def _database_id(cls, value: str | None) -> str | None:
        if value is not None and not D1_DATABASE_ID.match(value):
            raise problem(
                "not a D1 database id (a UUID such as 0f2b9c1e-...)",
                "copy the `uuid` from `npx wrangler d1 list --json`",
            )
        return value

    @field_validator("database_name", "preview_database_name")
    @classmethod
    def _database_name(cls, value: str | None) -> str | None:
        if value is not None and not NAME_PATTERN.match(value):
            raise problem(
                "not a D1 database name (lowercase letters, digits and inner hyphens)",
                "copy the `name` from `npx wrangler d1 list --json`",
            )
        return value

    @model_validator(mode="after")
    def _names_need_ids(self) -> Adopt:
        issues: list[Issue] = []
        for name_key, id_key in (("databaseName", "databaseId"), ("previewDatabaseName", "previewDatabaseId")):
            if getattr(self, snake_case(name_key)) is not None and getattr(self, snake_case(id_key)) is None:
                issues.append(
                    (
                        ("adopt", name_key),
                        f"names a database to keep without adopting one ({id_key} is unset)",
                        getattr(self, snake_case(name_key)),
                        f"set adopt.{id_key} too (`guruai-cache adopt --stack <stack> --write` does both), or remove it",
                    )
                )
        raise_if(issues)
        return self

    @model_validator(mode="after")
    def _distinct(self) -> Adopt:
        pairs = (("kvNamespaceId", "kvPreviewNamespaceId"), ("databaseId", "previewDatabaseId"))
        for production, preview in pairs:
            value = getattr(self, snake_case(production))
            if value is not None and value == getattr(self, snake_case(preview)):
                raise problem(
                    f"{production} and {preview} name the same resource: preview work would write production data",
                    f"adopt a separate preview resource, or leave {preview} unset to have one created",
                )
        return self
