"""A plan, or the difference of two, as text a pull-request comment can hold: a summary line first,
then the resources grouped by type (protection changes first in a difference)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from infra.tools.plan_diff import KV_ENTRY, flat, is_empty


def short(resource_type: str) -> str:
    """`cloudflare:index/d1Database:D1Database` -> `D1Database`."""
    return resource_type.rsplit(":", 1)[-1]


def shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _flags(resource: dict[str, Any]) -> str:
    flags = [flag for flag in ("protect", "retainOnDelete", "deleteBeforeReplace") if resource[flag]]
    if resource["importId"]:
        flags.append(f"import {resource['importId']}")
    return f"  [{', '.join(flags)}]" if flags else ""


def plan_text(document: dict[str, Any]) -> str:
    resources = document["resources"]
    counts = Counter(short(r["type"]) for r in resources)
    kind = "production" if document["production"] else "not production"
    lines = [
        f"stack {document['stack']} ({kind}): {len(resources)} resources, {len(document['bindings'])} bindings, "
        f"{len(document['seeds'])} seeds, {len(document['outputs'])} outputs",
        "  " + ", ".join(f"{count} {name}" for name, count in sorted(counts.items())),
    ]
    lines += [f"  note: {note}" for note in document["notes"]]
    for warning in document["warnings"]:
        first, *more = warning.splitlines()
        lines += [f"  warning: {first}", *(f"    {line}" for line in more)]
    accounts = {r["inputs"].get("accountId") for r in resources} - {None}
    for resource_type in sorted({r["type"] for r in resources}, key=short):
        lines += ["", short(resource_type)]
        for resource in (r for r in resources if r["type"] == resource_type):
            lines.append(f"  {resource['name']}{_flags(resource)}")
            if resource_type == KV_ENTRY:
                continue  # its key and value: under Seeds
            inputs = flat(resource["inputs"])
            lines += [
                f"      {key}: {shown(value)}"
                for key, value in inputs.items()
                if not (key == "accountId" and len(accounts) == 1)
            ]
    lines += ["", "Bindings (the Worker's, in the order uploaded)"]
    for binding in document["bindings"]:
        fields = ", ".join(f"{key}={shown(v)}" for key, v in flat(binding).items() if key not in ("name", "type"))
        lines.append(f"  {binding['name']}  {binding['type']}  {fields}")
    lines += ["", "Seeds (KV keys the stack writes)"]
    lines += [f"  {s['namespace']}  {s['key']}  {s['bytes']} bytes, sha256 {s['sha256']}" for s in document["seeds"]]
    lines += ["", "Outputs"]
    lines += [f"  {key}: {shown(value)}" for key, value in flat(document["outputs"]).items()]
    if len(accounts) == 1:
        lines += ["", f"Every resource's accountId: {accounts.pop()}"]
    return "\n".join(lines)


def _change(pairs: dict[str, list[Any]]) -> list[str]:
    return [f"      {key}: {shown(old)} -> {shown(new)}" for key, (old, new) in pairs.items()]


def diff_text(difference: dict[str, Any], before: str, after: str) -> str:
    stack = difference["stack"]
    if is_empty(difference):
        return f"stack {stack}: no differences between {before} and {after}"
    resources, seeds, bindings = difference["resources"], difference["seeds"], difference["bindings"]
    counts = [
        f"{len(difference['protection'])} protection change(s)",
        *(f"{len(items)} {kind}" for kind, items in resources.items()),
        f"{sum(len(items) for items in seeds.values())} seed change(s)",
        f"{len(bindings['added']) + len(bindings['removed']) + len(bindings['changed'])} binding change(s)",
        f"{len(difference['outputs'])} output change(s)",
    ]
    lines = [f"stack {stack}, {before} -> {after}: " + ", ".join(counts)]
    was_production, is_production = difference["production"]
    if was_production != is_production:
        lines.append(f"  ! the stack's `production` setting: {was_production} -> {is_production}")
    if difference["protection"]:
        lines += ["", "PROTECTION (read first)"]
        for change in difference["protection"]:
            where = "production " if change["production"] else ""
            what = short(change["type"]) + " " + change["name"]
            if change["lost"]:
                gone = " (leaves the stack)" if change["removed"] else ""
                lines.append(f"  ! {where}{what} LOSES {' and '.join(change['lost'])}{gone}")
            if change["gained"]:
                lines.append(f"    {where}{what} gains {' and '.join(change['gained'])}")
    titles = {
        "replaced": "Replaced (deleted and created again: a replaced store loses its data)",
        "changed": "Changed in place",
        "added": "Added",
        "removed": "Removed (deleted from Cloudflare unless retained)",
    }
    for kind in ("replaced", "changed", "added", "removed"):
        if resources[kind]:
            lines += ["", titles[kind]]
            for item in resources[kind]:
                lines.append(f"  {short(item['type'])} {item['name']}")
                lines += _change(item.get("inputs", {})) + _change(item.get("options", {}))
    if any(seeds.values()):
        lines += ["", "Seeds"]
        lines += [f"  + {s['namespace']} {s['key']} ({s['bytes']} bytes)" for s in seeds["added"]]
        lines += [f"  - {s['namespace']} {s['key']}" for s in seeds["removed"]]
        lines += [
            f"  ~ {s['namespace']} {s['key']}: {s['bytes'][0]} -> {s['bytes'][1]} bytes, "
            f"sha256 {s['sha256'][0]} -> {s['sha256'][1]}"
            for s in seeds["changed"]
        ]
    if bindings["added"] or bindings["removed"] or bindings["changed"] or bindings["reordered"]:
        lines += ["", "Bindings"]
        lines += [f"  + {b['name']} ({b['type']})" for b in bindings["added"]]
        lines += [f"  - {b['name']} ({b['type']})" for b in bindings["removed"]]
        for name, pairs in bindings["changed"].items():
            lines += [f"  ~ {name}", *_change(pairs)]
        if bindings["reordered"]:
            lines.append("  ~ their order (the provider uploads the list as it is)")
    if difference["outputs"]:
        lines += ["", "Outputs", *_change(difference["outputs"])]
    return "\n".join(lines)
