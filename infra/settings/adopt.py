"""The `adopt` setting: existing namespaces and databases (made by hand, as the setup guide did)
to take over by id instead of creating new ones.

`guruai-cache adopt --stack <stack>` finds them through the Cloudflare API and writes these
settings. A D1 database cannot be renamed, so one adopted under another name than the
program's keeps it (`databaseName`, `previewDatabaseName`); a KV namespace is renamed
instead (a title change keeps its id and data). A database's jurisdiction is read back on
import and forces a replacement when it differs, so an EU or FedRAMP database is declared with
it (`jurisdiction`, `previewJurisdiction`).

After the first successful `pulumi up` the ids have done their work: `guruai-cache adopt
--settle` removes them (infra/plan/imports.py), the names and jurisdictions stay.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator, model_validator

from infra.names import NAME_PATTERN
from infra.settings.base import SettingModel, problem, snake_case

# What pulumi-cloudflare 6.23.1's D1Database accepts as `jurisdiction` ("Available values").
JURISDICTIONS = ("eu", "fedramp", "us")
Jurisdiction = Literal["eu", "fedramp", "us"]
KV_NAMESPACE_ID = re.compile(r"^[0-9a-f]{32}$")
D1_DATABASE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Adopt(SettingModel):
    """Ids of existing resources to take over instead of creating new ones."""

    kv_namespace_id: str | None = None
    kv_preview_namespace_id: str | None = None
    database_id: str | None = None
    preview_database_id: str | None = None
    # The adopted databases' own names, when they are not the program's (D1 cannot rename), and
    # their jurisdictions (data kept in the EU, FedRAMP, US): both fixed for a database's life, so
    # they stay after the ids are settled (a change would replace the database, and lose its data).
    database_name: str | None = None
    preview_database_name: str | None = None
    jurisdiction: Jurisdiction | None = None
    preview_jurisdiction: Jurisdiction | None = None

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
