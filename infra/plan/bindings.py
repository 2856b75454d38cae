"""The Worker's bindings, each declared once, typed, and rendered everywhere it is needed: the
provider's `WorkersScript.bindings` (infra/stack/worker.py), wrangler.toml's sections
(infra/plan/wrangler_toml.py) and the Worker's `Env` type (worker/src/env.d.ts, written by
`guruai-cache worker build`; `tsc` then refuses a Worker that reads a binding not declared here).

A binding that names a resource of the stack (a KV namespace, a D1 database) or a secret gets
its value by its own name: from `ScriptInputs` (Pulumi Outputs at deploy time) or `StackIds`
(wrangler.toml's ids; infra/stack/storage.py files each resource's id under the binding's
name); the rest carry their value. Field names are the provider's (snake_case) and wrangler's:
read from pulumi-cloudflare 6.23.1 (`WorkersScriptBindingArgs`) and wrangler's
`config-schema.json`; infra/stack/mocks.py refuses what the provider would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from infra import paths
from infra.worker_contract import canonical_json

MIGRATIONS_DIR = paths.relative(paths.MIGRATIONS_DIR)


@dataclass(frozen=True)
class StackIds:
    """wrangler.toml's ids of a stack's resources, by the name of the binding that uses each:
    a deployed stack's (with its preview resources', which `wrangler dev --remote` uses), or
    local placeholders (no preview ids: locally wrangler reads `preview_id ?? id`)."""

    ids: Mapping[str, str]
    preview_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ScriptInputs:
    """What the deployed script's bindings take from the stack, by binding name: the id of the
    resource a binding names, or a secret's text (Pulumi Inputs)."""

    values: Mapping[str, Any]


@dataclass(frozen=True)
class KvNamespace:
    """The stack's KV namespace (the cache); locally, wrangler reads `preview_id ?? id`."""

    name: str
    ts_type: ClassVar[str] = "KVNamespace"
    optional: ClassVar[bool] = False

    def provider(self, inputs: ScriptInputs) -> dict[str, Any]:
        return {"type": "kv_namespace", "name": self.name, "namespace_id": inputs.values[self.name]}

    def wrangler(self, section: dict[str, Any], ids: StackIds) -> None:
        entry: dict[str, Any] = {"binding": self.name, "id": ids.ids[self.name]}
        if ids.preview_ids.get(self.name):
            entry["preview_id"] = ids.preview_ids[self.name]
        section.setdefault("kv_namespaces", []).append(entry)


@dataclass(frozen=True)
class D1:
    """The stack's D1 database (the system of record), with its migrations folder for wrangler."""

    name: str
    database_name: str
    ts_type: ClassVar[str] = "D1Database"
    optional: ClassVar[bool] = False

    def provider(self, inputs: ScriptInputs) -> dict[str, Any]:
        return {"type": "d1", "name": self.name, "id": inputs.values[self.name]}

    def wrangler(self, section: dict[str, Any], ids: StackIds) -> None:
        entry: dict[str, Any] = {
            "binding": self.name,
            "database_name": self.database_name,
            "database_id": ids.ids[self.name],
        }
        if ids.preview_ids.get(self.name):
            entry["preview_database_id"] = ids.preview_ids[self.name]
        entry["migrations_dir"] = MIGRATIONS_DIR
        section.setdefault("d1_databases", []).append(entry)


@dataclass(frozen=True)
class RateLimit:
    """The `ratelimit` binding: `limit` requests per `period` seconds, per key, in one account-wide namespace."""

    name: str
    namespace_id: str
    limit: int
    period: int
    ts_type: ClassVar[str] = "RateLimit"
    optional: ClassVar[bool] = False

    def provider(self, inputs: ScriptInputs) -> dict[str, Any]:
        return {"type": "ratelimit", "name": self.name, "namespace_id": self.namespace_id, "simple": self._simple()}

    def wrangler(self, section: dict[str, Any], ids: StackIds) -> None:
        entry = {"name": self.name, "namespace_id": self.namespace_id, "simple": self._simple()}
        section.setdefault("ratelimits", []).append(entry)

    def _simple(self) -> dict[str, int]:
        return {"limit": self.limit, "period": self.period}


@dataclass(frozen=True)
class PlainText:
    """A plain-text variable (Workers vars are text; the Worker parses numbers itself)."""

    name: str
    text: str
    ts_type: ClassVar[str] = "string"
    optional: ClassVar[bool] = False

    def provider(self, inputs: ScriptInputs) -> dict[str, Any]:
        return {"type": "plain_text", "name": self.name, "text": self.text}

    def wrangler(self, section: dict[str, Any], ids: StackIds) -> None:
        section.setdefault("vars", {})[self.name] = self.text


@dataclass(frozen=True)
class Json:
    """A `json` binding: the provider takes JSON text; wrangler binds a non-string var as JSON.
    The Worker also takes it as text, should a provider release deliver it as a string."""

    name: str
    value: Mapping[str, Any]
    ts_type: ClassVar[str] = "unknown"
    optional: ClassVar[bool] = False

    def provider(self, inputs: ScriptInputs) -> dict[str, Any]:
        return {"type": "json", "name": self.name, "json": canonical_json(self.value)}

    def wrangler(self, section: dict[str, Any], ids: StackIds) -> None:
        section.setdefault("vars", {})[self.name] = dict(self.value)


@dataclass(frozen=True)
class Secret:
    """A `secret_text` binding: its value comes from the stack (a secret Output), never from a file;
    wrangler.toml only names it (`[secrets] required`), its local value lives in .dev.vars. Optional
    to the Worker, which answers 503 with the fix when it is missing."""

    name: str
    ts_type: ClassVar[str] = "string"
    optional: ClassVar[bool] = True

    def provider(self, inputs: ScriptInputs) -> dict[str, Any]:
        return {"type": "secret_text", "name": self.name, "text": inputs.values[self.name]}

    def wrangler(self, section: dict[str, Any], ids: StackIds) -> None:
        section.setdefault("secrets", {}).setdefault("required", []).append(self.name)


@dataclass(frozen=True)
class AnalyticsEngine:
    """A Workers Analytics Engine dataset (made by its first write). Optional to the Worker: a
    setting can turn it off. Locally wrangler binds a stand-in that records nothing."""

    name: str
    dataset: str
    ts_type: ClassVar[str] = "AnalyticsEngineDataset"
    optional: ClassVar[bool] = True

    def provider(self, inputs: ScriptInputs) -> dict[str, Any]:
        return {"type": "analytics_engine", "name": self.name, "dataset": self.dataset}

    def wrangler(self, section: dict[str, Any], ids: StackIds) -> None:
        section.setdefault("analytics_engine_datasets", []).append({"binding": self.name, "dataset": self.dataset})


Binding = KvNamespace | D1 | RateLimit | PlainText | Json | Secret | AnalyticsEngine
