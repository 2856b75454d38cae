"""CacheStack: one environment's KV caching setup, every resource a child of it."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_random as random

from infra import adoption, bindings, kv_seeds, migrations, storage, worker, wrangler_config
from infra.settings import Settings

SERVICE_TOKEN_LENGTH = 48


class CacheStack(pulumi.ComponentResource):
    def __init__(
        self,
        settings: Settings,
        environment: str,
        api_token: pulumi.Input[str],
        service_token: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        names = settings.names(environment)
        super().__init__("guruai:cache:CacheStack", names.component, None, opts)
        account_id = settings.account_id
        assert account_id is not None, "load_settings requires the account id for stacks"

        self.storage = storage.create_storage(
            account_id,
            names,
            protect=settings.protect_stateful_resources,
            parent=self,
            import_ids=adoption.import_ids(settings.adopt, account_id),
        )
        entries = settings.seed_entries()
        self.seeds = kv_seeds.seed_namespace("seed", account_id, self.storage.kv_namespace, entries, self)
        self.preview_seeds = kv_seeds.seed_namespace(
            "preview-seed", account_id, self.storage.kv_preview_namespace, entries, self
        )

        if service_token is None:
            # Kept encrypted in the stack's state; set `serviceToken` to choose your own.
            service_token = random.RandomPassword(
                "service-token", length=SERVICE_TOKEN_LENGTH, special=False, opts=pulumi.ResourceOptions(parent=self)
            ).result
        bound = bindings.BoundResources(
            kv_namespace_id=self.storage.kv_namespace.id,
            database_id=self.storage.database.id,
            service_token=pulumi.Output.secret(service_token),
        )
        self.migrations = [
            migrations.apply_on_deploy(name, database, account_id, api_token, self)
            for name, database in (
                ("db-migrations", self.storage.database),
                ("db-preview-migrations", self.storage.preview_database),
            )
        ]
        self.worker = worker.create_worker(
            settings, environment, names.worker_script, bound, self, depends_on=self.migrations
        )

        self.outputs: dict[str, Any] = {
            "accountId": account_id,
            "kvNamespaceId": self.storage.kv_namespace.id,
            "kvNamespaceTitle": self.storage.kv_namespace.title,
            "kvPreviewNamespaceId": self.storage.kv_preview_namespace.id,
            "kvPreviewNamespaceTitle": self.storage.kv_preview_namespace.title,
            "d1DatabaseId": self.storage.database.id,
            "d1DatabaseName": self.storage.database.name,
            "d1PreviewDatabaseId": self.storage.preview_database.id,
            "d1PreviewDatabaseName": self.storage.preview_database.name,
            "workerScriptName": self.worker.script.script_name,
            "cronSchedules": [settings.cron],
            "seededKeys": list(entries),
            "wrangler": pulumi.Output.all(
                kv=self.storage.kv_namespace.id,
                kv_preview=self.storage.kv_preview_namespace.id,
                db=self.storage.database.id,
                db_preview=self.storage.preview_database.id,
            ).apply(
                lambda ids: wrangler_config.env_section(
                    settings,
                    environment,
                    wrangler_config.StackIds(
                        kv_namespace_id=ids["kv"],
                        kv_preview_namespace_id=ids["kv_preview"],
                        database_id=ids["db"],
                        preview_database_id=ids["db_preview"],
                    ),
                )
            ),
        }
        self.register_outputs(self.outputs)
