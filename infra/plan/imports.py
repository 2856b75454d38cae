"""Which stateful resources are adopted (imported) rather than created, by Pulumi import id,
and what an adopted database keeps: its jurisdiction.

The ids are the ones `pulumi import` takes: `<account_id>/<namespace_id>` for a KV
namespace, `<account_id>/<database_id>` for a D1 database.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.settings.adopt import Adopt


@dataclass(frozen=True)
class ImportIds:
    """Per stateful resource: the import id of the existing one to adopt, or None to create it."""

    kv_namespace: str | None = None
    kv_preview_namespace: str | None = None
    database: str | None = None
    preview_database: str | None = None


def import_ids(adopt: Adopt, account_id: str) -> ImportIds:
    def of(resource_id: str | None) -> str | None:
        return f"{account_id}/{resource_id}" if resource_id else None

    return ImportIds(
        kv_namespace=of(adopt.kv_namespace_id),
        kv_preview_namespace=of(adopt.kv_preview_namespace_id),
        database=of(adopt.database_id),
        preview_database=of(adopt.preview_database_id),
    )


@dataclass(frozen=True)
class Jurisdictions:
    """Per database: where Cloudflare keeps its data (`eu`, `fedramp`, `us`), or None for anywhere.
    Fixed for its life: the provider replaces a database whose jurisdiction changes."""

    database: str | None = None
    preview_database: str | None = None


def jurisdictions(adopt: Adopt) -> Jurisdictions:
    return Jurisdictions(database=adopt.jurisdiction, preview_database=adopt.preview_jurisdiction)
