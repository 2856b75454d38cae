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
from infra.plan.bindings import StackIds
from infra.plan.clients import (
    ClientEntries,
    client_entries,
    client_scopes,
    clients_value,
    token_sha256,
    with_legacy_client,
)
from infra.plan.imports import ImportIds, Jurisdictions, import_ids, jurisdictions
from infra.plan.observability import observability_block
from infra.plan.outputs import StackOutputs
from infra.plan.routing import RoutingPlan, routing_plan
from infra.plan.seeds import seed_entries
from infra.plan.worker import WorkerPlan, worker_plan
from infra.plan.wrangler_toml import env_section
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
    # Deprecated: one token with every scope, the client `service`. None with no clients: generated
    # (never for a production stack).
    service_token: pulumi.Input[str] | None = None
    protect: bool = True  # protect and retain the namespaces and databases
    imports: ImportIds = field(default_factory=ImportIds)
    jurisdictions: Jurisdictions = field(default_factory=Jurisdictions)
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
            jurisdictions=jurisdictions(settings.adopt),
            production=settings.is_production,
            observability=observability_block(settings.observability),
            routing=routing_plan(settings),
        )


class CacheStack(pulumi.ComponentResource):
    # Every output, declared once (infra/plan/outputs.py): registered here, exported by __main__.
    outputs: StackOutputs[Any]

    def __init__(self, name: str, args: CacheStackArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.args = args
        self.storage = storage.create_storage(
            args.account_id,
            args.names,
            protect=args.protect,
            retain=args.retain,
            imports=args.imports,
            jurisdictions=args.jurisdictions,
            parent=self,
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
            resource_ids=self.storage.binding_ids(),
            observability=args.observability,
            clients_value=self._clients_value(legacy_token),
            parent=self,
            depends_on=self.migrations,
        )
        self.exposure = routing.expose(args.account_id, self.worker.script, args.routing, self)
        self.outputs = self._outputs(legacy_token)
        self.register_outputs(self.outputs.exports())

    def _outputs(self, legacy_token: pulumi.Input[str] | None) -> StackOutputs[Any]:
        storage, args = self.storage, self.args
        ids = pulumi.Output.all(storage.binding_ids(), storage.preview_binding_ids())
        return StackOutputs(
            account_id=args.account_id,
            kv_namespace_id=storage.kv_namespace.id,
            kv_namespace_title=storage.kv_namespace.title,
            kv_preview_namespace_id=storage.kv_preview_namespace.id,
            kv_preview_namespace_title=storage.kv_preview_namespace.title,
            d1_database_id=storage.database.id,
            d1_database_name=storage.database.name,
            d1_preview_database_id=storage.preview_database.id,
            d1_preview_database_name=storage.preview_database.name,
            d1_restore_point=migrations.restore_point(self.migrations[0]),
            worker_script_name=self.worker.script.script_name,
            worker_url=self.exposure.url,
            cron_schedules=[args.worker.cron],
            seeded_keys=list(args.seeds),
            # Names and scopes, never digests: a plain output, so `pulumi preview` shows who may call.
            # (the legacy token's digest is not known here, and not shown: any text stands in for it)
            clients=client_scopes(args.clients if legacy_token is None else with_legacy_client(args.clients, "")),
            wrangler=ids.apply(lambda found: env_section(args.worker, StackIds(found[0], found[1]))),
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
        if self.args.clients or self.args.production:
            # Clients only: no token with every scope exists. A production stack never gets one
            # generated (its settings are refused without clients; this holds even if they were not).
            return None
        # Kept encrypted in the stack's state, as before clients existed: the stacks that rely on it
        # keep working until they define `clients`.
        return random.RandomPassword(
            "service-token", length=SERVICE_TOKEN_LENGTH, special=False, opts=pulumi.ResourceOptions(parent=self)
        ).result
