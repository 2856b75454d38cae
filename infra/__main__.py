"""The Pulumi program: read the stack's settings, build its CacheStack, export what users need."""

import pulumi

from infra.plan.bindings import StackIds
from infra.plan.wrangler_toml import env_section
from infra.stack.component import CacheStack, CacheStackArgs
from infra.stack.config import load_stack_settings
from infra.stack.cost_warning import report_expected_cost

run = load_stack_settings()
report_expected_cost(run.settings, run.stack)
args = CacheStackArgs.from_settings(run.settings, run.stack, api_token=run.api_token, service_token=run.service_token)
cache = CacheStack(args.names.component, args)

pulumi.export("accountId", args.account_id)
pulumi.export("kvNamespaceId", cache.kv_namespace_id)
pulumi.export("kvNamespaceTitle", cache.kv_namespace_title)
pulumi.export("kvPreviewNamespaceId", cache.kv_preview_namespace_id)
pulumi.export("kvPreviewNamespaceTitle", cache.kv_preview_namespace_title)
pulumi.export("d1DatabaseId", cache.d1_database_id)
pulumi.export("d1DatabaseName", cache.d1_database_name)
pulumi.export("d1PreviewDatabaseId", cache.d1_preview_database_id)
pulumi.export("d1PreviewDatabaseName", cache.d1_preview_database_name)
pulumi.export("workerScriptName", cache.worker_script_name)
# Where the Worker answers: the app's own domain when set, else its workers.dev address.
pulumi.export("workerUrl", cache.worker_url)
pulumi.export("cronSchedules", [args.worker.cron])
pulumi.export("seededKeys", list(args.seeds))
# Who may call the Worker: client names and scopes (never token digests); `pulumi preview` shows changes.
pulumi.export("clients", cache.clients)
# This stack's [env.<stack>] of wrangler.toml (`guruai-cache wrangler render` reads it).
pulumi.export(
    "wrangler",
    pulumi.Output.all(
        cache.kv_namespace_id, cache.kv_preview_namespace_id, cache.d1_database_id, cache.d1_preview_database_id
    ).apply(lambda ids: env_section(args.worker, StackIds(*ids))),
)
