"""The guardrails' rules as pure functions: plain resource data in, violation messages out.

No Pulumi import here, and no import of the `infra` package: the pack runs in its own
virtualenv (policy/requirements.txt) where only pulumi and pulumi_policy are installed.
KV's limits are therefore copied from infra/platform.py; tests/test_policy.py fails when
the two copies disagree.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

KV_NAMESPACE = "cloudflare:index/workersKvNamespace:WorkersKvNamespace"
KV_ENTRY = "cloudflare:index/workersKv:WorkersKv"
D1 = "cloudflare:index/d1Database:D1Database"
SCRIPT = "cloudflare:index/workersScript:WorkersScript"
STATEFUL = (KV_NAMESPACE, D1)
# What a production stack keeps whatever happens: its stores, and the keys it seeds into them
# (config:tiers, config:catalog, and flags:* with legacyFlagKeys; readers other than the Worker use them).
PRODUCTION_GUARDED = (*STATEFUL, KV_ENTRY)

# Copies of infra/platform.py (checked equal by the tests).
KV_MAX_KEY_BYTES = 512
KV_MAX_VALUE_BYTES = 25 * 1024 * 1024
KV_MAX_METADATA_BYTES = 1024
KV_MIN_EXPIRATION_TTL_S = 60

DEFAULT_PRODUCTION_STACKS = ("prod",)
DEFAULT_PREVIEW_SUFFIX = "-preview"  # infra/names.py: preview names end so
DEFAULT_MAX_COMPATIBILITY_AGE_DAYS = 365
# Words in a binding name that say its value is a secret (API_KEY, SERVICE_TOKEN, dbPassword...).
SECRET_WORDS = frozenset(
    {
        "TOKEN",
        "SECRET",
        "KEY",
        "APIKEY",
        "PASSWORD",
        "PASSWD",
        "PWD",
        "PASS",
        "CREDENTIAL",
        "CREDENTIALS",
        "PRIVATE",
        "AUTH",
    }
)


@dataclass(frozen=True)
class Resource:
    """What a rule needs of a resource; built from the policy SDK's args, or by tests."""

    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    # None: the engine did not say. Pulumi's analyzer protocol (pulumi 3.272, pulumi-policy
    # 1.21) sends policies no retainOnDelete; the tests feed the program's own value.
    retain_on_delete: bool | None = None


def stack_of(urn: str) -> str:
    """urn:pulumi:<stack>::<project>::<type>::<name> -> <stack>."""
    return urn.removeprefix("urn:pulumi:").split("::", 1)[0] if urn.startswith("urn:pulumi:") else ""


def unguarded_stateful(resource: Resource, stack: str, production_stacks: Iterable[str]) -> list[str]:
    """A production store, and each key seeded into it, must be both protected (no replace, no
    destroy) and retained on delete.

    `protect` stops `pulumi up` and `pulumi destroy` from deleting it; `retainOnDelete` keeps
    the namespace, database or key in Cloudflare when the resource leaves the stack anyway
    (`pulumi state unprotect`, `pulumi destroy --exclude-protected`, a dropped setting).
    """
    if resource.type not in PRODUCTION_GUARDED or stack not in set(production_stacks):
        return []
    missing = []
    if not resource.protect:
        missing.append("protected")
    if resource.retain_on_delete is False:
        missing.append("retained on delete")
    if not missing:
        return []
    label = {KV_NAMESPACE: "KV namespace", D1: "D1 database", KV_ENTRY: "seeded KV key"}[resource.type]
    shown = resource.props.get("keyName") or resource.props.get("title") or resource.props.get("name") or resource.name
    fixes = []
    if not resource.protect:
        fixes.append(
            "set `production: true` for the stack (its seeded keys are then protected)"
            if resource.type == KV_ENTRY
            else "set `protectStatefulResources: true` for the stack"
        )
    if resource.retain_on_delete is False:
        fixes.append("keep `retain_on_delete=True` on production storage (infra/stack/storage.py)")
    return [
        f"{label} {shown!r} in production stack {stack!r} is not {' and not '.join(missing)}: a replacement, "
        f"`pulumi destroy` or a dropped resource would delete its data; {' and '.join(fixes)}"
    ]


def preview_storage_bound(resources: Iterable[Resource], preview_suffix: str = DEFAULT_PREVIEW_SUFFIX) -> list[str]:
    """A deployed Worker's bindings are production bindings: never the preview namespace or database."""
    resources = list(resources)
    preview_ids = {}
    for resource in resources:
        name = resource.props.get("title") if resource.type == KV_NAMESPACE else resource.props.get("name")
        if resource.type in STATEFUL and isinstance(name, str) and name.endswith(preview_suffix):
            for key in ("id", "uuid"):
                if resource.props.get(key):
                    preview_ids[resource.props[key]] = name
    found = []
    for script in (r for r in resources if r.type == SCRIPT):
        for binding in script.props.get("bindings") or []:
            target = (
                binding.get("namespaceId")
                if binding.get("type") == "kv_namespace"
                else (binding.get("id") if binding.get("type") == "d1" else None)
            )
            if target in preview_ids:
                found.append(
                    f"Worker {script.props.get('scriptName', script.name)!r} binds {binding.get('name')!r} to the "
                    f"preview resource {preview_ids[target]!r}: deployed code would serve preview data; bind the "
                    "production namespace/database (the preview one is for `wrangler dev --remote`)"
                )
    return found


def name_words(name: str) -> list[str]:
    """SERVICE_TOKEN -> [SERVICE, TOKEN]; dbPassword -> [DB, PASSWORD]; APIKey -> [API, KEY]."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return [word.upper() for word in re.split(r"[^A-Za-z0-9]+", spaced) if word]


def secret_in_plain_text(script: Resource) -> list[str]:
    if script.type != SCRIPT:
        return []
    found = []
    for binding in script.props.get("bindings") or []:
        name = str(binding.get("name", ""))
        if binding.get("type") == "plain_text" and SECRET_WORDS & set(name_words(name)):
            found.append(
                f"binding {name!r} is plain_text but its name says it is a secret: plain-text values are "
                "shown in the dashboard and the state; make it a secret_text binding from a "
                "`pulumi config set --secret` value"
            )
    return found


def kv_entry_problems(entry: Resource) -> list[str]:
    if entry.type != KV_ENTRY:
        return []
    props = entry.props
    key = str(props.get("keyName", ""))
    found = []
    if not key or len(key.encode()) > KV_MAX_KEY_BYTES:
        found.append(f"KV key {key[:40]!r} is {len(key.encode())} bytes: keys hold 1 to {KV_MAX_KEY_BYTES} bytes")
    value = props.get("value")
    if isinstance(value, str) and len(value.encode()) > KV_MAX_VALUE_BYTES:
        found.append(f"KV value of {key!r} is {len(value.encode())} bytes, over KV's {KV_MAX_VALUE_BYTES} (25 MiB)")
    metadata = props.get("metadata")
    if isinstance(metadata, str) and len(metadata.encode()) > KV_MAX_METADATA_BYTES:
        found.append(f"KV metadata of {key!r} is {len(metadata.encode())} bytes, over KV's {KV_MAX_METADATA_BYTES}")
    ttl = props.get("expirationTtl")
    if isinstance(ttl, (int, float)) and ttl < KV_MIN_EXPIRATION_TTL_S:
        found.append(f"KV expirationTtl of {key!r} is {ttl:g} s, under KV's minimum of {KV_MIN_EXPIRATION_TTL_S} s")
    return found


def stale_compatibility_date(script: Resource, max_age_days: int, today: dt.date) -> list[str]:
    if script.type != SCRIPT:
        return []
    value = script.props.get("compatibilityDate")
    try:
        date = dt.date.fromisoformat(str(value))
    except ValueError:
        return [f"compatibility date {value!r} is not a YYYY-MM-DD date"]
    age = (today - date).days
    if age > max_age_days:
        return [
            f"compatibility date {value} is {age} days old, over the {max_age_days} allowed: the Worker keeps "
            "runtime behaviour that old; test on a recent date and set `compatibilityDate`"
        ]
    return []
