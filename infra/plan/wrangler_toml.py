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
from typing import Any

import tomlkit
from tomlkit.items import AoT, InlineTable, Table

from infra import paths
from infra.names import LOCAL, ResourceNames
from infra.plan.bindings import StackIds
from infra.plan.worker import WorkerPlan, worker_plan
from infra.settings import Settings
from infra.worker_contract import DB_BINDING, KV_BINDING

# Template tables the settings may leave out (metrics.enabled: false).
OPTIONAL_TEMPLATE_KEYS = {"analytics_engine_datasets"}


def local_ids(names: ResourceNames) -> StackIds:
    """Placeholders for local development: wrangler keys its local stores by them.

    No preview ids: locally wrangler reads `preview_id ?? id`, and with only `id`
    set, `wrangler kv key put --local --binding KV` writes where `wrangler dev` reads.
    """
    return StackIds({KV_BINDING: names.kv_namespace, DB_BINDING: names.database})


def env_section(worker: WorkerPlan, ids: StackIds) -> dict[str, Any]:
    """One stack's wrangler settings, as plain data (also the stack's `wrangler` output): each
    binding renders its own part (infra/plan/bindings.py)."""
    section: dict[str, Any] = {"name": worker.script_name, "compatibility_date": worker.compatibility_date}
    for binding in worker.bindings:
        binding.wrangler(section, ids)
    section["triggers"] = {"crons": [worker.cron]}
    return section


def local_section(settings: Settings) -> dict[str, Any]:
    return env_section(worker_plan(settings, LOCAL), local_ids(settings.names(LOCAL)))


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
