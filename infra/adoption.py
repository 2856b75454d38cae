"""Adopting namespaces and databases that already exist (made by hand, as the setup guide did).

The stack setting `adopt` names them by id; the program then registers the resource with
Pulumi's `import_` option instead of creating it. The import ids are the same ones
`pulumi import` takes: `<account_id>/<namespace_id>` and `<account_id>/<database_id>`.
Pure: the settings model, and the import id of each stateful resource.
"""

from __future__ import annotations

import re

from pydantic import field_validator, model_validator

from infra.setting_model import SettingModel, problem

KV_NAMESPACE_ID = re.compile(r"^[0-9a-f]{32}$")
D1_DATABASE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Storage attribute -> the `adopt` field that names it.
RESOURCE_FIELDS = {
    "kv_namespace": "kv_namespace_id",
    "kv_preview_namespace": "kv_preview_namespace_id",
    "database": "database_id",
    "preview_database": "preview_database_id",
}


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
            value = getattr(self, _snake(production))
            if value is not None and value == getattr(self, _snake(preview)):
                raise problem(
                    f"{production} and {preview} name the same resource: preview work would write production data",
                    f"adopt a separate preview resource, or leave {preview} unset to have one created",
                )
        return self


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def import_ids(adopt: Adopt, account_id: str) -> dict[str, str | None]:
    """Storage attribute -> `<account_id>/<id>` to import, or None to create the resource."""
    return {
        resource: f"{account_id}/{getattr(adopt, field)}" if getattr(adopt, field) else None
        for resource, field in RESOURCE_FIELDS.items()
    }
