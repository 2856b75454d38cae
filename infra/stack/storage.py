"""The stateful resources: KV namespaces and D1 databases, production and preview."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

from infra.names import ResourceNames
from infra.plan.imports import ImportIds, Jurisdictions
from infra.worker_contract import DB_BINDING, KV_BINDING


@dataclass(frozen=True)
class Storage:
    kv_namespace: cloudflare.WorkersKvNamespace
    kv_preview_namespace: cloudflare.WorkersKvNamespace
    database: cloudflare.D1Database
    preview_database: cloudflare.D1Database

    def binding_ids(self) -> dict[str, pulumi.Output[str]]:
        """Each resource's id under the name of the Worker binding that uses it (infra/plan/bindings.py)."""
        return {KV_BINDING: self.kv_namespace.id, DB_BINDING: self.database.id}

    def preview_binding_ids(self) -> dict[str, pulumi.Output[str]]:
        """The preview resources' ids, by the same binding names (`wrangler dev --remote` uses them)."""
        return {KV_BINDING: self.kv_preview_namespace.id, DB_BINDING: self.preview_database.id}


def stateful_options(
    parent: pulumi.Resource, protect: bool, retain: bool, import_id: str | None = None
) -> pulumi.ResourceOptions:
    """Protected resources can be neither replaced nor deleted by `pulumi up`; retained
    ones stay in Cloudflare even when the stack is destroyed or the resource dropped.
    With an import id, the existing resource is adopted instead of created (a no-op once
    it is in the stack's state)."""
    return pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=retain, import_=import_id)


def create_storage(
    account_id: str,
    names: ResourceNames,
    *,
    protect: bool,
    retain: bool,
    imports: ImportIds,
    jurisdictions: Jurisdictions,
    parent: pulumi.Resource,
) -> Storage:
    def options(import_id: str | None) -> pulumi.ResourceOptions:
        return stateful_options(parent, protect, retain, import_id)

    return Storage(
        kv_namespace=cloudflare.WorkersKvNamespace(
            "kv", account_id=account_id, title=names.kv_namespace, opts=options(imports.kv_namespace)
        ),
        kv_preview_namespace=cloudflare.WorkersKvNamespace(
            "kv-preview",
            account_id=account_id,
            title=names.kv_preview_namespace,
            opts=options(imports.kv_preview_namespace),
        ),
        # A jurisdiction is read back on import and replaces the database when it differs
        # (provider v5.22 d1_database/schema.go:50-57): an adopted EU or FedRAMP one is declared with it.
        database=cloudflare.D1Database(
            "db",
            account_id=account_id,
            name=names.database,
            jurisdiction=jurisdictions.database,
            opts=options(imports.database),
        ),
        preview_database=cloudflare.D1Database(
            "db-preview",
            account_id=account_id,
            name=names.preview_database,
            jurisdiction=jurisdictions.preview_database,
            opts=options(imports.preview_database),
        ),
    )
