"""The `adopt` setting: existing namespaces and databases (made by hand, as the setup guide did)
to take over by id instead of creating new ones."""

from __future__ import annotations

import re

from pydantic import field_validator, model_validator

from infra.settings.base import SettingModel, problem, snake_case

KV_NAMESPACE_ID = re.compile(r"^[0-9a-f]{32}$")
D1_DATABASE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Adopt(SettingModel):
    """Ids of existing resources to take over instead of creating new ones."""

    kv_namespace_id: str | None = None
    kv_preview_namespace_id: str | None = None
    database_id: str | None = None
    preview_database_id: str | None = None

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
