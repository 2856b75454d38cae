"""A run of the program under the mocks as a plan document: what `guruai-cache plan` prints.

The document is plain JSON, the same for the same program and settings wherever it is made (two
plans diff): resources sorted by type and name, a resource's id shown as the resource it names
(`${kv.id}`), long values (the Worker's bundle, seeds, the catalog) as their size and digest.
Secret values never enter it: a secret input is `[secret]`, and before the document leaves this
process it is searched for every secret the run handled (refused if one is found).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from infra.stack.mocks import (
    KV_ENTRY,
    RANDOM_PASSWORD,
    SCRIPT,
    SECRET_SIG,
    SECRET_VALUE,
    ProgramRun,
    Registered,
    unwrap,
)

# The plan document's shape: `guruai-cache plan --against` compares documents of one format only.
FORMAT = 1
SECRET = "[secret]"
LONG = 120  # characters: a longer text is shown as its size and digest
# Binding kinds whose fields, besides type and name, are secret.
SECRET_BINDINGS = {"secret_text", "secret_key", "secrets_store_secret"}
MIN_SECRET_CHARS = 8  # shorter texts (`true`, a name) are no secret worth searching for


class SecretInPlan(Exception):
    """The document would have shown a secret value: a bug in the plan, never printed."""


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def summary(text: str) -> str:
    return f"<{len(text.encode())} bytes, sha256 {digest(text)}>"


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_VALUE


class _Shaper:
    """Values as the document shows them: secrets hidden, ids named, long texts summarised."""

    def __init__(self, resources: Iterable[Registered]) -> None:
        # Only real ids (KV namespaces' 32 hex, D1 uuids): the mocks' `<name>-id` mean nothing.
        self.ids = {r.id: r.name for r in resources if r.id and len(r.id) >= 16 and r.type != KV_ENTRY}

    def __call__(self, value: Any) -> Any:
        if _is_secret(value):
            inner = value["value"]
            return {key: SECRET for key in sorted(inner)} if isinstance(inner, dict) else SECRET
        if isinstance(value, dict):
            return {key: self(item) for key, item in sorted(value.items())}
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, float) and value.is_integer():
            return int(value)  # the wire carries every number as a float
        if isinstance(value, str):
            if value in self.ids:
                return f"${{{self.ids[value]}.id}}"
            return summary(value) if len(value) > LONG else value
        return value

    def binding(self, binding: dict[str, Any]) -> dict[str, Any]:
        if binding.get("type") in SECRET_BINDINGS:
            return {key: (item if key in ("type", "name") else SECRET) for key, item in sorted(binding.items())}
        shown: dict[str, Any] = self(binding)
        return shown


def _resource(resource: Registered, names: dict[str, str], shaped: _Shaper) -> dict[str, Any]:
    inputs = {
        key: value for key, value in resource.inputs.items() if not (resource.type == SCRIPT and key == "bindings")
    }
    return {
        "type": resource.type,
        "name": resource.name,
        "parent": names.get(resource.parent),
        "protect": resource.protect,
        "retainOnDelete": resource.retain_on_delete,
        "deleteBeforeReplace": resource.delete_before_replace,
        "importId": resource.import_id or None,
        "inputs": shaped(inputs),
    }


def _seed(resource: Registered, shaped: _Shaper) -> dict[str, Any]:
    value = resource.inputs.get("value")
    text = value if isinstance(value, str) else None  # a secret arrives wrapped: never measured
    return {
        "namespace": shaped.ids.get(resource.plain("namespaceId"), resource.plain("namespaceId")),
        "key": resource.plain("keyName"),
        "resource": resource.name,
        "bytes": None if text is None else len(text.encode()),
        "sha256": SECRET if text is None else digest(text),
    }


def plan_document(run: ProgramRun, *, stack: str, production: bool, notes: list[str]) -> dict[str, Any]:
    """The run as the plan document. `notes`: what the plan stood in for (placeholders)."""
    shaped = _Shaper(run.resources)
    names = {r.urn: r.name for r in run.resources}
    scripts = [r for r in run.resources if r.type == SCRIPT]
    bindings = [shaped.binding(b) for s in scripts for b in unwrap(s.inputs.get("bindings", []))[0]]
    return {
        "format": FORMAT,
        "stack": stack,
        "production": production,
        "notes": notes,
        "warnings": list(run.warnings),
        "resources": [_resource(r, names, shaped) for r in sorted(run.resources, key=lambda r: (r.type, r.name))],
        "bindings": bindings,
        "seeds": sorted(
            (_seed(r, shaped) for r in run.resources if r.type == KV_ENTRY),
            key=lambda seed: (seed["namespace"], seed["key"]),
        ),
        "outputs": {
            name: SECRET if name in run.secret_outputs else shaped(value) for name, value in sorted(run.outputs.items())
        },
    }


def secrets_of(run: ProgramRun, fed: Iterable[str]) -> set[str]:
    """Every secret text the run handled: those `fed` to it, what it generated (random
    passwords), what it bound as secret text, and each one's SHA-256 (a token's digest is how
    a client is known)."""
    found = {text for text in fed}
    found |= {str(r.state.get("result", "")) for r in run.resources if r.type == RANDOM_PASSWORD}
    for script in (r for r in run.resources if r.type == SCRIPT):
        for binding in unwrap(script.inputs.get("bindings", []))[0]:
            if binding.get("type") in SECRET_BINDINGS:
                found |= {str(value) for key, value in binding.items() if key not in ("type", "name")}
    found |= {hashlib.sha256(text.encode()).hexdigest() for text in list(found)}
    return {text for text in found if len(text) >= MIN_SECRET_CHARS}


def checked(document: dict[str, Any], secrets: set[str]) -> str:
    """The document as JSON text, refused if any secret text appears in it."""
    text = json.dumps(document, indent=2)
    if any(secret in text for secret in secrets):
        raise SecretInPlan("a secret value would appear in the plan: nothing printed (a bug: please report it)")
    return text
