"""The difference of two plan documents (`guruai-cache plan --against`): pure data in, pure data out.

A resource is the same resource on both sides when its type and name are (as its URN is). A
change to an input the provider cannot update in place replaces it: the table below, read from
terraform-provider-cloudflare v5.22.0's schemas (`RequiresReplace` plan modifiers) and
pulumi-command's `triggers`. Protection first: a resource losing `protect` or `retainOnDelete`,
or leaving the stack while it had them, is what a reviewer must not miss.
"""

from __future__ import annotations

from typing import Any

# type -> the inputs whose change replaces the resource (delete and create; a store loses its data).
REPLACED_BY: dict[str, frozenset[str]] = {
    # internal/services/workers_kv_namespace/schema.go:32-35 (title renames in place)
    "cloudflare:index/workersKvNamespace:WorkersKvNamespace": frozenset({"accountId"}),
    # workers_kv/schema.go:33-46
    "cloudflare:index/workersKv:WorkersKv": frozenset({"accountId", "keyName", "namespaceId"}),
    # d1_database/schema.go:40-71
    "cloudflare:index/d1Database:D1Database": frozenset({"accountId", "name", "jurisdiction", "primaryLocationHint"}),
    # workers_script/schema.go:44-52
    "cloudflare:index/workersScript:WorkersScript": frozenset({"accountId", "scriptName"}),
    # workers_cron_trigger/schema.go:31-39
    "cloudflare:index/workersCronTrigger:WorkersCronTrigger": frozenset({"accountId", "scriptName"}),
    # workers_script_subdomain/schema.go:33-41
    "cloudflare:index/workersScriptSubdomain:WorkersScriptSubdomain": frozenset({"accountId", "scriptName"}),
    # workers_custom_domain/schema.go:32-64
    "cloudflare:index/workersCustomDomain:WorkersCustomDomain": frozenset(
        {"accountId", "hostname", "service", "environment", "zoneId", "zoneName"}
    ),
    # workers_route/schema.go:33-36
    "cloudflare:index/workersRoute:WorkersRoute": frozenset({"zoneId"}),
    "command:local:Command": frozenset({"triggers"}),
}
REPLACED_ALWAYS = ("random:",)  # every input of a random resource forces a new value
KV_ENTRY = "cloudflare:index/workersKv:WorkersKv"  # shown as seeds
OPTIONS = ("parent", "deleteBeforeReplace", "importId")
GUARDS = ("protect", "retainOnDelete")

Key = tuple[str, str]


def flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted keys (`observability.traces.enabled`); lists stay whole."""
    if isinstance(value, dict) and (value or not prefix):
        found: dict[str, Any] = {}
        for key, item in value.items():
            found |= flat(item, f"{prefix}.{key}" if prefix else key)
        return found
    return {prefix: value}


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Each dotted key whose value differs: [before, after] (None where absent)."""
    old, new = flat(before), flat(after)
    return {
        key: [old.get(key), new.get(key)] for key in sorted(old.keys() | new.keys()) if old.get(key) != new.get(key)
    }


def _by_key(document: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    return {(r["type"], r["name"]): r for r in document["resources"]}


def _replaces(resource_type: str, inputs: dict[str, list[Any]]) -> bool:
    if resource_type.startswith(REPLACED_ALWAYS):
        return bool(inputs)
    fields = REPLACED_BY.get(resource_type, frozenset())
    return any(key.split(".")[0] in fields for key in inputs)


def _guard_changes(before: dict[Key, Any], after: dict[Key, Any], production: bool) -> list[dict[str, Any]]:
    found = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        guards = {
            guard: [old[guard] if old else None, new[guard] if new else None]
            for guard in GUARDS
            if (old and old[guard]) or (new and new[guard])
        }
        lost = [g for g, (was, now) in guards.items() if was and not now]
        gained = [g for g, (was, now) in guards.items() if not was and now and old is not None]
        if lost or gained:
            found.append(
                {
                    "type": key[0],
                    "name": key[1],
                    "lost": lost,
                    "gained": gained,
                    "removed": new is None,
                    "production": production,
                }
            )
    return sorted(found, key=lambda change: (not change["lost"], change["type"], change["name"]))


def _named(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


def _bindings(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any]:
    old, new = _named(before, "name"), _named(after, "name")
    common = [name for name in old if name in new]
    return {
        "added": [new[name] for name in new if name not in old],
        "removed": [old[name] for name in old if name not in new],
        "changed": {name: changed(old[name], new[name]) for name in common if old[name] != new[name]},
        # The provider compares the list in order: a reorder alone is a change too.
        "reordered": [n["name"] for n in before if n["name"] in new] != [n["name"] for n in after if n["name"] in old],
    }


def _seeds(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any]:
    def keyed(seeds: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        return {(s["namespace"], s["key"]): s for s in seeds}

    old, new = keyed(before), keyed(after)
    return {
        "added": [new[k] for k in sorted(new.keys() - old.keys())],
        "removed": [old[k] for k in sorted(old.keys() - new.keys())],
        "changed": [
            {
                "namespace": k[0],
                "key": k[1],
                "bytes": [old[k]["bytes"], new[k]["bytes"]],
                "sha256": [old[k]["sha256"], new[k]["sha256"]],
            }
            for k in sorted(old.keys() & new.keys())
            if old[k]["sha256"] != new[k]["sha256"]
        ],
    }


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What changes from `before` (e.g. the pull request's base) to `after` (its head)."""
    if before.get("format") != after.get("format"):
        raise ValueError(f"plan formats differ ({before.get('format')} and {after.get('format')}): cannot compare them")
    old, new = _by_key(before), _by_key(after)
    resources: dict[str, list[dict[str, Any]]] = {"added": [], "removed": [], "replaced": [], "changed": []}
    for key in sorted(old.keys() | new.keys()):
        if key[0] == KV_ENTRY:
            continue
        if key not in old:
            resources["added"].append({"type": key[0], "name": key[1]})
        elif key not in new:
            resources["removed"].append({"type": key[0], "name": key[1]})
        else:
            inputs = changed(old[key]["inputs"], new[key]["inputs"])
            options = {o: [old[key][o], new[key][o]] for o in OPTIONS if old[key][o] != new[key][o]}
            if inputs or options:
                kind = "replaced" if _replaces(key[0], inputs) else "changed"
                resources[kind].append({"type": key[0], "name": key[1], "inputs": inputs, "options": options})
    production = bool(before.get("production") or after.get("production"))
    return {
        "stack": after["stack"],
        "production": [before.get("production"), after.get("production")],
        "protection": _guard_changes(old, new, production),
        "resources": resources,
        "seeds": _seeds(before["seeds"], after["seeds"]),
        "bindings": _bindings(before["bindings"], after["bindings"]),
        "outputs": changed(before["outputs"], after["outputs"]),
    }


def is_empty(difference: dict[str, Any]) -> bool:
    parts = [
        difference["protection"],
        *difference["resources"].values(),
        *(difference["seeds"].values()),
        difference["bindings"]["added"],
        difference["bindings"]["removed"],
        difference["bindings"]["changed"],
        difference["bindings"]["reordered"],
        difference["outputs"],
        difference["production"][0] != difference["production"][1],
    ]
    return not any(parts)
