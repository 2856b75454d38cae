"""wrangler.toml as data, and its text rendered on templates/wrangler.toml.

The top level is local development (`wrangler dev`, local KV and D1, ids that never leave
the machine); each `[env.<stack>]` carries a stack's real ids, so `wrangler tail --env prod`
or `wrangler d1 migrations apply DB --remote --env dev` reach the deployed resources. Pure:
the program exports `env_section` as each stack's `wrangler` output, and
`guruai-cache wrangler render` (the file's one writer) renders the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import tomlkit
from tomlkit.items import AoT, InlineTable, Table

from infra import paths
from infra.names import LOCAL, ResourceNames
from infra.plan.worker import WorkerPlan, worker_plan
from infra.settings import Settings
from infra.worker_contract import (
    CATALOG_BINDING,
    CLIENTS_SECRET,
    DB_BINDING,
    KV_BINDING,
    METRICS_BINDING,
    RATE_LIMITER_BINDING,
)

MIGRATIONS_DIR = paths.relative(paths.MIGRATIONS_DIR)
# Template tables the settings may leave out (metrics.enabled: false).
OPTIONAL_TEMPLATE_KEYS = {"analytics_engine_datasets"}


@dataclass(frozen=True)
class StackIds:
    kv_namespace_id: str
    kv_preview_namespace_id: str | None
    database_id: str
    preview_database_id: str | None


def local_ids(names: ResourceNames) -> StackIds:
    """Placeholders for local development: wrangler keys its local stores by them.

    No preview ids: locally wrangler reads `preview_id ?? id`, and with only `id`
    set, `wrangler kv key put --local --binding KV` writes where `wrangler dev` reads.
    """
    return StackIds(
        kv_namespace_id=names.kv_namespace,
        kv_preview_namespace_id=None,
        database_id=names.database,
        preview_database_id=None,
    )


def env_section(worker: WorkerPlan, names: ResourceNames, ids: StackIds) -> dict[str, Any]:
    """One stack's wrangler settings, as plain data (also the stack's `wrangler` output)."""
    kv: dict[str, Any] = {"binding": KV_BINDING, "id": ids.kv_namespace_id}
    if ids.kv_preview_namespace_id:
        kv["preview_id"] = ids.kv_preview_namespace_id
    d1: dict[str, Any] = {"binding": DB_BINDING, "database_name": names.database, "database_id": ids.database_id}
    if ids.preview_database_id:
        d1["preview_database_id"] = ids.preview_database_id
    d1["migrations_dir"] = MIGRATIONS_DIR
    limit = worker.rate_limit
    section: dict[str, Any] = {
        "name": worker.script_name,
        "compatibility_date": worker.compatibility_date,
        "kv_namespaces": [kv],
        "d1_databases": [d1],
        "ratelimits": [
            {
                "name": RATE_LIMITER_BINDING,
                "namespace_id": limit.namespace_id,
                "simple": {"limit": limit.limit, "period": limit.period},
            }
        ],
        # A non-string var is a `json` binding to wrangler: the catalog, as `pulumi up` binds it.
        "vars": {**worker.vars, CATALOG_BINDING: worker.catalog},
        "triggers": {"crons": [worker.cron]},
        # Declares the secret's name only; its value lives in Cloudflare or .dev.vars.
        "secrets": {"required": [CLIENTS_SECRET]},
    }
    if worker.metrics_dataset:
        # Locally wrangler binds a stand-in that records nothing (docs/observability.md).
        section["analytics_engine_datasets"] = [{"binding": METRICS_BINDING, "dataset": worker.metrics_dataset}]
    return section


def local_section(settings: Settings) -> dict[str, Any]:
    names = settings.names(LOCAL)
    return env_section(worker_plan(settings, LOCAL), names, local_ids(names))


def env_sections_of(text: str) -> dict[str, Any]:
    """The [env.*] sections of a rendered wrangler.toml (raises tomllib.TOMLDecodeError)."""
    return dict(tomllib.loads(text).get("env") or {})


def render(
    local_settings: Settings, stack_sections: Mapping[str, Mapping[str, Any]], template: str | None = None
) -> str:
    """The whole wrangler.toml: the template's layout and comments, local values, then `[env.<stack>]`."""
    document = tomlkit.parse(paths.WRANGLER_TEMPLATE.read_text() if template is None else template)
    local = local_section(local_settings)
    _merge(document, local)
    for optional in OPTIONAL_TEMPLATE_KEYS - local.keys():
        document.pop(optional, None)  # a binding the settings turn off keeps no placeholder
    if stack_sections:
        envs = tomlkit.table(is_super_table=True)
        for stack in sorted(stack_sections):
            section = _table(stack_sections[stack])
            section.comment(f"stack {stack}: `pulumi stack output wrangler --stack {stack}`")
            envs.add(stack, section)
        document["env"] = envs
    return tomlkit.dumps(document)


def _table(data: Mapping[str, Any]) -> Table:
    """A TOML table in wrangler's usual shape: lists of objects as [[arrays]], objects inside them inline."""
    table = tomlkit.table()
    for key, value in data.items():
        if isinstance(value, Mapping):
            table.add(key, _table(value))
        elif isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
            array = tomlkit.aot()
            for item in value:
                entry = tomlkit.table()
                for field, field_value in item.items():
                    entry.add(field, _inline(field_value) if isinstance(field_value, Mapping) else field_value)
                array.append(entry)
            table.add(key, array)
        else:
            table.add(key, value)
    return table


def _inline(data: Mapping[str, Any]) -> InlineTable:
    inline = tomlkit.inline_table()
    inline.update(data)
    return inline


def _merge(container: Any, data: Mapping[str, Any]) -> None:
    """Write `data` into the template in place, so the template's comments stay where they are."""
    for key, value in data.items():
        existing = container.get(key)
        if isinstance(value, Mapping) and isinstance(existing, (Table, InlineTable)):
            _merge(existing, value)
        elif isinstance(value, list) and isinstance(existing, AoT) and len(existing) == len(value):
            for table, item in zip(existing, value, strict=True):
                _merge(table, item)
        else:
            container[key] = value
