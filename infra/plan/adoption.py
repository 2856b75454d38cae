"""Which existing namespaces and databases a stack should adopt, matched by name (pure).

`guruai-cache adopt` lists the account's KV namespaces and D1 databases and hands them here.
Each of the stack's four stateful resources is matched, in this order, to:

1. the one with the program's own name (`guruai-cache-prod`, `guruai-db-prod`, ...): the
   stack's own resources, left in Cloudflare by `pulumi destroy` (they are retained) or by a
   first `pulumi up` that failed half-way;
2. the setup guide's hand-made one: `wrangler kv namespace create guruai-cache` makes the
   title `<appName>-cache` (with `--preview`, `<appName>-cache_preview`); the guide's database
   is looked for as `<appName>-db` (`<appName>-db-preview`), or under the names given.

A namespace matched under another title must be renamed before the import (Pulumi imports
only what matches the program; a rename keeps the id and the data). A database cannot be
renamed, so it is adopted under its own name (`adopt.databaseName`), and with its
jurisdiction (`adopt.jurisdiction`: an EU or FedRAMP database is declared so, or the import
would replace it). What matches nothing is
created by `pulumi up`. One already adopted by another committed stack is never offered twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from infra.names import NAME_PATTERN, ResourceNames, resource_names
from infra.settings.adopt import Adopt

GUIDE = "the setup guide's"


@dataclass(frozen=True)
class Existing:
    """A namespace (id, title) or database (uuid, name, jurisdiction) the account has."""

    id: str
    name: str
    jurisdiction: str | None = None  # databases: "eu", "fedramp", "us", or None


@dataclass(frozen=True)
class Slot:
    resource: str  # the program's resource name (kv, kv-preview, db, db-preview)
    kind: str  # "KV namespace" or "D1 database"
    wanted: str  # the name the program gives it
    id_key: str  # the adopt.* setting of its id
    name_key: str | None  # the adopt.* setting that keeps another name (databases only)
    candidates: tuple[str, ...]  # hand-made names to look for after `wanted`
    jurisdiction_key: str | None = None  # the adopt.* setting of its jurisdiction (databases only)


@dataclass(frozen=True)
class Outcome:
    slot: Slot
    found: Existing | None
    how: str  # how it matched, or why it did not
    rename_command: str | None = None  # to run before `pulumi up`
    keeps_name: bool = False  # adopted under its own name (adopt.databaseName)

    @property
    def settings(self) -> dict[str, str]:
        if self.found is None:
            return {}
        values = {self.slot.id_key: self.found.id}
        if self.keeps_name and self.slot.name_key:
            values[self.slot.name_key] = self.found.name
        if self.found.jurisdiction and self.slot.jurisdiction_key:
            values[self.slot.jurisdiction_key] = self.found.jurisdiction
        return values


def slots(app_name: str, stack: str, kv_title: str | None = None, database: str | None = None) -> list[Slot]:
    """The stack's four stateful resources; `kv_title`/`database` name a hand-made production pair."""
    names: ResourceNames = resource_names(app_name, stack)
    kv = kv_title or f"{app_name}-cache"
    db = database or f"{app_name}-db"
    return [
        Slot("kv", "KV namespace", names.kv_namespace, "kvNamespaceId", None, (kv,)),
        Slot("kv-preview", "KV namespace", names.kv_preview_namespace, "kvPreviewNamespaceId", None, (f"{kv}_preview",)),
        Slot("db", "D1 database", names.database, "databaseId", "databaseName", (db,), "jurisdiction"),
        Slot("db-preview", "D1 database", names.preview_database, "previewDatabaseId", "previewDatabaseName", (f"{db}-preview",), "previewJurisdiction"),
    ]  # fmt: skip


def match(
    stack_slots: Sequence[Slot],
    namespaces: Iterable[Existing],
    databases: Iterable[Existing],
    taken: Mapping[str, str] | None = None,
) -> list[Outcome]:
    """One outcome per slot. `taken`: ids other committed stacks already adopt -> that stack."""
    taken = dict(taken or {})
    pools = {"KV namespace": {e.name: e for e in namespaces}, "D1 database": {e.name: e for e in databases}}
    used: set[str] = set()
    outcomes = []
    for slot in stack_slots:
        outcomes.append(_match_one(slot, pools[slot.kind], taken, used))
    return outcomes


def _match_one(slot: Slot, pool: Mapping[str, Existing], taken: Mapping[str, str], used: set[str]) -> Outcome:
    skipped: list[str] = []
    for name, how in ((slot.wanted, "its own name"), *((c, f"{GUIDE} hand-made {slot.kind}") for c in slot.candidates)):
        found = pool.get(name)
        if found is None or found.id in used:
            continue
        if found.id in taken:
            skipped.append(f"{name!r} is adopted by stack {taken[found.id]!r}")
            continue
        used.add(found.id)
        if name == slot.wanted:
            return Outcome(slot, found, how)
        if slot.name_key is None:
            command = f"npx wrangler kv namespace rename --namespace-id {found.id} --new-name {slot.wanted}"
            return Outcome(slot, found, f"{how}; rename it to {slot.wanted!r} first (its id and data stay)", command)
        if not NAME_PATTERN.match(found.name):
            used.discard(found.id)
            skipped.append(
                f"{name!r} cannot be declared under its name (lowercase letters, digits, hyphens) nor renamed: "
                "copy its data into the database `pulumi up` creates (`npx wrangler d1 export`, then `d1 execute --file`)"
            )
            continue
        return Outcome(slot, found, f"{how}; kept under its name (a D1 database cannot be renamed)", keeps_name=True)
    reason = (
        "; ".join(skipped) if skipped else f"none named {' or '.join(repr(n) for n in (slot.wanted, *slot.candidates))}"
    )
    return Outcome(slot, None, f"{reason}: `pulumi up` creates it")


def adopt_settings(outcomes: Iterable[Outcome], current: Adopt) -> dict[str, str]:
    """The stack's `adopt` setting after adoption: the matches over what it already says."""
    merged = {key: value for key, value in current.model_dump(by_alias=True).items() if value is not None}
    for outcome in outcomes:
        merged.update(outcome.settings)
    return merged


def taken_ids(others: Mapping[str, Adopt]) -> dict[str, str]:
    """Ids the other stacks' `adopt` settings name -> the stack."""
    return {
        value: stack
        for stack, adopt in others.items()
        for value in (
            adopt.kv_namespace_id,
            adopt.kv_preview_namespace_id,
            adopt.database_id,
            adopt.preview_database_id,
        )
        if value
    }
