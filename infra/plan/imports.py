"""Which stateful resources are adopted (imported) rather than created, by Pulumi import id,
what an adopted database keeps (its jurisdiction), and when the ids can go.

The ids are the ones `pulumi import` takes: `<account_id>/<namespace_id>` for a KV
namespace, `<account_id>/<database_id>` for a D1 database.

An id left set after the import is not harmless: Pulumi imports again whenever the id in the
program differs from the one the state recorded, and replaces what the stack holds with the
resource it names (pulumi/pulumi pkg/resource/deploy/step_generator.go, `isImport`, an
ImportReplacementStep); and while it is set, a change that would replace the resource is
refused ("previously-imported resources that still specify an ID may not be replaced"). So
once a `pulumi up` has imported them, `guruai-cache adopt --settle` removes the ids the stack's
outputs show it manages (`settle`), and refuses to touch one that names another resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from infra.settings.adopt import Adopt
from infra.settings.base import snake_case


@dataclass(frozen=True)
class ImportIds:
    """Per stateful resource: the import id of the existing one to adopt, or None to create it."""

    kv_namespace: str | None = None
    kv_preview_namespace: str | None = None
    database: str | None = None
    preview_database: str | None = None


def import_ids(adopt: Adopt, account_id: str) -> ImportIds:
    def of(resource_id: str | None) -> str | None:
        return f"{account_id}/{resource_id}" if resource_id else None

    return ImportIds(
        kv_namespace=of(adopt.kv_namespace_id),
        kv_preview_namespace=of(adopt.kv_preview_namespace_id),
        database=of(adopt.database_id),
        preview_database=of(adopt.preview_database_id),
    )


@dataclass(frozen=True)
class Jurisdictions:
    """Per database: where Cloudflare keeps its data (`eu`, `fedramp`, `us`), or None for anywhere.
    Fixed for its life: the provider replaces a database whose jurisdiction changes."""

    database: str | None = None
    preview_database: str | None = None


def jurisdictions(adopt: Adopt) -> Jurisdictions:
    return Jurisdictions(database=adopt.jurisdiction, preview_database=adopt.preview_jurisdiction)


# Each adopt.* id, and the stack output holding the id of the resource it adopts.
ADOPTED_OUTPUTS = {
    "kvNamespaceId": "kvNamespaceId",
    "kvPreviewNamespaceId": "kvPreviewNamespaceId",
    "databaseId": "d1DatabaseId",
    "previewDatabaseId": "d1PreviewDatabaseId",
}


@dataclass(frozen=True)
class Settled:
    """The `adopt` setting once the stack manages what it adopted."""

    remaining: dict[str, str]  # the setting after: ids still waiting, names and jurisdictions
    cleared: dict[str, str] = field(default_factory=dict)  # adopt.* key -> the id the stack now manages
    waiting: list[str] = field(default_factory=list)  # keys whose resource the outputs do not show yet
    conflicts: list[str] = field(default_factory=list)  # an id that names another resource than the stack's


def settle(adopt: Adopt, outputs: Mapping[str, object]) -> Settled:
    """Clear each adopt.* id equal to the one the stack manages (its outputs); keep one not yet
    there; report one that differs, which the next `pulumi up` would import in place of the stack's."""
    current = {key: value for key, value in adopt.model_dump(by_alias=True).items() if value is not None}
    remaining = dict(current)
    settled = Settled(remaining)
    for key, output in ADOPTED_OUTPUTS.items():
        wanted, managed = current.get(key), outputs.get(output)
        if wanted is None:
            continue
        if not managed:
            settled.waiting.append(key)
        elif managed == wanted:
            settled.cleared[key] = remaining.pop(key)
        else:
            settled.conflicts.append(
                f"adopt.{key} is {wanted}, but the stack manages {managed} (its {output} output): the next "
                f"`pulumi up` would drop {managed} from the stack and import {wanted} in its place. If {managed} "
                f"is right, `pulumi config rm --path adopt.{key}`; if {wanted} is, see docs/deploying.md "
                "(Adopting what already exists) before anything else"
            )
    return settled


def settle_reminder(adopt: Adopt, stack: str) -> str | None:
    """What preview says while ids are set: they are for the first `pulumi up` only."""
    keys = [key for key in ADOPTED_OUTPUTS if getattr(adopt, snake_case(key)) is not None]
    if not keys:
        return None
    return (
        f"adopt.{', adopt.'.join(keys)} set: once `pulumi up` has imported them, run `guruai-cache adopt "
        f"--stack {stack} --settle` and commit Pulumi.{stack}.yaml; an id left set replaces the resource "
        "the stack holds whenever it names another (docs/deploying.md, 'Adopting what already exists')"
    )
