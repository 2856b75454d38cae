"""CacheStack: one stack's KV caching setup, every resource a child of it.

`CacheStack(name, args, opts)` as Pulumi components are: `CacheStackArgs` holds only what
the resources need (plain plan data and two secrets), and the outputs are typed attributes,
registered with `register_outputs`.

Production (`args.production`) keeps what holds data whatever else the settings say: the
namespaces and databases are retained even when `protect` is off (so an opted-in
replacement or a `pulumi destroy` still leaves them in Cloudflare), and the seeded keys are
protected and retained.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_random as random

from infra.names import ResourceNames
from infra.plan.clients import (
    ClientEntries,
    client_entries,
    client_scopes,
    clients_value,
    token_sha256,
    with_legacy_client,
)
from infra.plan.imports import ImportIds, import_ids
from infra.plan.observability import observability_block
from infra.plan.routing import RoutingPlan, routing_plan
from infra.plan.seeds import seed_entries
from infra.plan.worker import WorkerPlan, worker_plan
from infra.settings import Settings
from infra.settings.observability import Observability
from infra.stack import migrations, routing, seed_keys, storage, worker

COMPONENT_TYPE = "guruai:cache:CacheStack"
SERVICE_TOKEN_LENGTH = 48


@dataclass(frozen=True)
class CacheStackArgs:
    account_id: str
    names: ResourceNames
    worker: WorkerPlan
    seeds: Mapping[str, str]  # KV key -> value, written into both namespaces
    # For the D1 migrations (wrangler); never an output. None: the token is in the environment
    # of `pulumi up` (CLOUDFLARE_API_TOKEN), which the migrations inherit.
    api_token: pulumi.Input[str] | None
    # The clients the Worker accepts (name -> token digest and scopes; infra/plan/clients.py).
    clients: ClientEntries = field(default_factory=dict)
    # Deprecated: one token with every scope, the client `service`. None with no clients: generated.
    service_token: pulumi.Input[str] | None = None
    protect: bool = True  # protect and retain the namespaces and databases
    imports: ImportIds = field(default_factory=ImportIds)
    production: bool = False  # retain storage always; protect and retain the seeded keys
    observability: dict[str, Any] = field(default_factory=lambda: observability_block(Observability()))
    routing: RoutingPlan = field(default_factory=lambda: RoutingPlan(workers_dev=True, previews=False, own_domain=None))

    @property
    def retain(self) -> bool:
        """Keep the namespaces and databases in Cloudflare when they leave the stack."""
        return self.protect or self.production

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        stack: str,
        *,
        api_token: pulumi.Input[str] | None,
        service_token: pulumi.Input[str] | None = None,
    ) -> CacheStackArgs:
        if settings.account_id is None:
            raise ValueError("settings without an account id cannot build a stack: load them with require_account")
        return cls(
            account_id=settings.account_id,
            names=settings.names(stack),
            worker=worker_plan(settings, stack),
            seeds=seed_entries(settings),
            api_token=api_token,
            clients=client_entries(settings.clients),
            service_token=service_token,
            protect=settings.protect_stateful_resources,
            imports=import_ids(settings.adopt, settings.account_id),
            production=settings.is_production,
            observability=observability_block(settings.observability),
            routing=routing_plan(settings),
        )


class CacheStack(pulumi.ComponentResource):
    kv_namespace_id: pulumi.Output[str]
    kv_namespace_title: pulumi.Output[str]
    kv_preview_namespace_id: pulumi.Output[str]
    kv_preview_namespace_title: pulumi.Output[str]
    d1_database_id: pulumi.Output[str]
    d1_database_name: pulumi.Output[str]
    d1_preview_database_id: pulumi.Output[str]
    d1_preview_database_name: pulumi.Output[str]
    worker_script_name: pulumi.Output[str]
    worker_url: pulumi.Output[str]
    clients: dict[str, list[str]]

    def __init__(self, name: str, args: CacheStackArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.args = args
        self.storage = storage.create_storage(
            args.account_id, args.names, protect=args.protect, retain=args.retain, imports=args.imports, parent=self
        )
        self.seeds = seed_keys.seed_namespace(
            "seed", args.account_id, self.storage.kv_namespace, args.seeds, self, production=args.production
        )
        self.preview_seeds = seed_keys.seed_namespace(
            "preview-seed",
            args.account_id,
            self.storage.kv_preview_namespace,
            args.seeds,
            self,
            production=args.production,
        )
        self.migrations = [
            migrations.apply_on_deploy(name, database, args.account_id, args.api_token, self)
            for name, database in (
                ("db-migrations", self.storage.database),
                ("db-preview-migrations", self.storage.preview_database),
            )
        ]
        legacy_token = self._legacy_token()
        self.worker = worker.create_worker(
            args.account_id,
            args.worker,
            kv_namespace_id=self.storage.kv_namespace.id,
            database_id=self.storage.database.id,
            observability=args.observability,
            clients_value=self._clients_value(legacy_token),
            parent=self,
            depends_on=self.migrations,
        )
        self.exposure = routing.expose(args.account_id, self.worker.script, args.routing, self)

        self.kv_namespace_id = self.storage.kv_namespace.id
        self.kv_namespace_title = self.storage.kv_namespace.title
        self.kv_preview_namespace_id = self.storage.kv_preview_namespace.id
        self.kv_preview_namespace_title = self.storage.kv_preview_namespace.title
        self.d1_database_id = self.storage.database.id
        self.d1_database_name = self.storage.database.name
        self.d1_preview_database_id = self.storage.preview_database.id
        self.d1_preview_database_name = self.storage.preview_database.name
        self.worker_script_name = self.worker.script.script_name
        self.worker_url = self.exposure.url
        # Names and scopes, never digests: a plain output, so `pulumi preview` shows who may call.
        # (the legacy token's digest is not known here, and not shown: any text stands in for it)
        self.clients = client_scopes(args.clients if legacy_token is None else with_legacy_client(args.clients, ""))
        self.register_outputs(
            {
                "kvNamespaceId": self.kv_namespace_id,
                "kvNamespaceTitle": self.kv_namespace_title,
                "kvPreviewNamespaceId": self.kv_preview_namespace_id,
                "kvPreviewNamespaceTitle": self.kv_preview_namespace_title,
                "d1DatabaseId": self.d1_database_id,
                "d1DatabaseName": self.d1_database_name,
                "d1PreviewDatabaseId": self.d1_preview_database_id,
                "d1PreviewDatabaseName": self.d1_preview_database_name,
                "workerScriptName": self.worker_script_name,
                "workerUrl": self.worker_url,
                "clients": self.clients,
            }
        )

    def _clients_value(self, token: pulumi.Input[str] | None) -> pulumi.Input[str]:
        """The `CLIENTS` secret: the configured clients, plus the service token's digest while there is one."""
        if token is None:
            return clients_value(self.args.clients)
        entries = self.args.clients
        return pulumi.Output.secret(token).apply(lambda t: clients_value(with_legacy_client(entries, token_sha256(t))))

    def _legacy_token(self) -> pulumi.Input[str] | None:
        """The deprecated all-scope token: `serviceToken`, or, for a stack with no clients, a generated one."""
        if self.args.service_token is not None:
            return self.args.service_token
        if self.args.clients:
            return None  # clients only: no token with every scope exists
        # Kept encrypted in the stack's state, as before clients existed: the stacks that rely on it
        # keep working until they define `clients`.
        return random.RandomPassword(
            "service-token", length=SERVICE_TOKEN_LENGTH, special=False, opts=pulumi.ResourceOptions(parent=self)
        ).result
