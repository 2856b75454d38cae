"""`guruai-cache adopt --stack S`: find the namespaces and databases a stack should take over.

It asks the Cloudflare API (the official SDK) for the account's KV namespaces and D1
databases, matches them to the stack's names (infra/plan/adoption.py), and prints what it
matched, what it could not, and what would be renamed or created, with the `adopt.*`
settings; `--write` puts them into Pulumi.<stack>.yaml. Two uses: the setup guide's
hand-made namespace and database, and the way back after `pulumi destroy` (the retained
namespaces and databases otherwise block a fresh `pulumi up` by title and name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import cloudflare
import yaml

from infra import paths
from infra.plan.adoption import Existing, Outcome, adopt_settings, match, slots, taken_ids
from infra.plan.imports import settle
from infra.settings import PROJECT, committed_stack_settings, stack_file_settings
from infra.settings.adopt import JURISDICTIONS
from infra.tools.errors import UserError
from infra.tools.stack_outputs import stack_outputs
from infra.tools.verify import explain

ADOPT_KEY = f"{PROJECT}:adopt"
PAGE_SIZE = 100  # the most the KV and D1 list endpoints return per page
PERMISSIONS = "Workers KV Storage: Read and D1: Read"


@dataclass(frozen=True)
class Adoption:
    stack: str
    account_id: str
    outcomes: list[Outcome]
    settings: dict[str, str]  # the whole `adopt` setting after adoption


def list_account(client: cloudflare.Cloudflare, account_id: str) -> tuple[list[Existing], list[Existing]]:
    """The account's KV namespaces (id, title) and D1 databases (uuid, name), every page."""
    try:
        namespaces = [
            Existing(item.id, item.title)
            for item in client.kv.namespaces.list(account_id=account_id, per_page=PAGE_SIZE)
        ]
        databases = [
            Existing(item.uuid, item.name)
            for item in client.d1.database.list(account_id=account_id, per_page=PAGE_SIZE)
            if item.uuid and item.name
        ]
    except cloudflare.APIError as error:
        raise UserError(
            f"listing the account's namespaces and databases: {explain(error, permissions=PERMISSIONS)}"
        ) from None
    return namespaces, databases


def with_jurisdictions(client: cloudflare.Cloudflare, account_id: str, outcomes: list[Outcome]) -> list[Outcome]:
    """Each matched database's jurisdiction, read as the provider's import reads it: the database
    object by its uuid (`D1.Database.Get`). The import reads it back and replaces the database
    when the program declares another, so it must be known before `pulumi up`."""
    read = []
    for outcome in outcomes:
        if outcome.found is None or outcome.slot.jurisdiction_key is None:
            read.append(outcome)
            continue
        try:
            database = client.d1.database.get(outcome.found.id, account_id=account_id)
        except cloudflare.APIError as error:
            raise UserError(
                f"reading the D1 database {outcome.found.name!r}: {explain(error, permissions=PERMISSIONS)}"
            ) from None
        jurisdiction = database.jurisdiction
        if jurisdiction is not None and jurisdiction not in JURISDICTIONS:
            raise UserError(
                f"the D1 database {outcome.found.name!r} ({outcome.found.id}) is in the jurisdiction "
                f"{jurisdiction!r}, which this program cannot declare (it knows {', '.join(JURISDICTIONS)}): "
                "adopting it would replace it; copy its data into the database `pulumi up` creates "
                "(`npx wrangler d1 export`, then `d1 execute --file`), or leave it out with --database"
            )
        read.append(replace(outcome, found=replace(outcome.found, jurisdiction=jurisdiction)))
    return read


def plan(
    stack: str,
    client: cloudflare.Cloudflare,
    *,
    kv_title: str | None = None,
    database: str | None = None,
) -> Adoption:
    settings = stack_file_settings(stack, require_account=True)  # the account id is needed here
    if settings.account_id is None:
        raise UserError(f"stack {stack!r} has no account id: `pulumi config set accountId <id> --stack {stack}`")
    namespaces, databases = list_account(client, settings.account_id)
    others = {name: other.adopt for name, other in committed_stack_settings(besides=stack).items()}
    outcomes = match(
        slots(settings.app_name, stack, kv_title, database), namespaces, databases, taken=taken_ids(others)
    )
    outcomes = with_jurisdictions(client, settings.account_id, outcomes)
    return Adoption(stack, settings.account_id, outcomes, adopt_settings(outcomes, settings.adopt))


def report(adoption: Adoption) -> str:
    lines = [f"stack {adoption.stack} (account {adoption.account_id}):"]
    width = max(len(o.slot.resource) for o in adoption.outcomes)
    for outcome in adoption.outcomes:
        verb = "adopt " if outcome.found else "create"
        found = f" <- {outcome.found.name!r} ({outcome.found.id}{_in(outcome.found)})," if outcome.found else ":"
        lines.append(f"  {verb} {outcome.slot.resource:<{width}}  {outcome.slot.wanted}{found} {outcome.how}")
    renames = [o.rename_command for o in adoption.outcomes if o.rename_command]
    if renames:
        lines += ["", "before `pulumi up`, rename (Pulumi imports only what matches the program):"]
        lines += [f"  {command}" for command in renames]
    if adoption.settings:
        lines += ["", "settings:"]
        lines += [
            f"  pulumi config set --path adopt.{key} {value} --stack {adoption.stack}"
            for key, value in adoption.settings.items()
        ]
    else:
        lines += ["", "nothing to adopt: `pulumi up` creates all four"]
    return "\n".join(lines)


def _in(found: Existing) -> str:
    return f", jurisdiction {found.jurisdiction}, declared with it" if found.jurisdiction else ""


def write(adoption: Adoption, path: Path | None = None) -> Path:
    """Put the `adopt` setting into Pulumi.<stack>.yaml, the rest of the file as it was.

    Pulumi writes stack files with two-space indentation under `config:`: the block of the
    one key `guruai-cache:adopt` is replaced (or appended), and the result is read back to
    prove nothing else changed.
    """
    path = path or paths.stack_file(adoption.stack)
    before = path.read_text()
    updated = with_adopt_block(before, adoption.settings)
    old, new = yaml.safe_load(before) or {}, yaml.safe_load(updated) or {}
    expected = dict(old.get("config") or {})
    expected.pop(ADOPT_KEY, None)
    if adoption.settings:
        expected[ADOPT_KEY] = adoption.settings
    if new.get("config") != expected or {k: v for k, v in new.items() if k != "config"} != {
        k: v for k, v in old.items() if k != "config"
    }:
        raise UserError(f"{path.name}: could not place the adopt setting safely; set it with the commands above")
    path.write_text(updated)
    return path


def with_adopt_block(text: str, values: dict[str, str]) -> str:
    lines = text.splitlines()
    if not any(line.rstrip() == "config:" for line in lines):
        lines.append("config:")
    kept: list[str] = []
    skipping = False
    for line in lines:
        if line.startswith(f"  {ADOPT_KEY}:"):
            skipping = True
            continue
        if skipping and (line.startswith("   ") or not line.strip()):
            continue
        skipping = False
        kept.append(line)
    end = max(i for i, line in enumerate(kept) if line.rstrip() == "config:") + 1
    while end < len(kept) and (kept[end].startswith("  ") or not kept[end].strip()):
        end += 1
    while end > 0 and not kept[end - 1].strip():
        end -= 1
    block = [f"  {ADOPT_KEY}:"] + [f"    {key}: {_scalar(value)}" for key, value in values.items()] if values else []
    return "\n".join(kept[:end] + block + kept[end:]) + "\n"


def _scalar(value: str) -> str:
    """A YAML scalar that stays a string (a UUID or hex id could otherwise read as a number)."""
    return f'"{value}"'


def run(
    stack: str,
    token: str,
    *,
    write_file: bool,
    kv_title: str | None,
    database: str | None,
    echo: Callable[[str], None],
) -> Adoption:
    """The command: plan, print, and with `write_file` write. The API token comes from the
    environment only (the caller's CLOUDFLARE_API_TOKEN); CLOUDFLARE_BASE_URL, as the SDK reads it."""
    with cloudflare.Cloudflare(api_token=token, max_retries=1) as client:
        adoption = plan(stack, client, kv_title=kv_title, database=database)
    echo(report(adoption))
    if write_file and adoption.settings:
        written = write(adoption)
        echo(f"\nwrote adopt.* into {written.name}; review it, then `pulumi preview --stack {stack}`")
    elif adoption.settings:
        echo(f"\n(`guruai-cache adopt --stack {stack} --write` puts them into {paths.stack_file(stack).name})")
    return adoption


def run_settle(stack: str, outputs_file: Path | None, *, echo: Callable[[str], None]) -> list[str]:
    """`adopt --settle`: clear the adopt.* ids the stack now manages; refuse, writing nothing, when
    one names another resource. Returns the keys cleared."""
    settings = stack_file_settings(stack)
    settled = settle(settings.adopt, stack_outputs(stack, outputs_file, per_stack_option=False))
    if settled.conflicts:
        raise UserError("\n".join(settled.conflicts))
    for key, value in settled.cleared.items():
        echo(f"adopt.{key}: {value} is the stack's now, the id goes")
    for key in settled.waiting:
        echo(f"adopt.{key}: not in the stack's outputs yet (no successful `pulumi up`?), kept")
    if not settled.cleared:
        echo("nothing to settle")
        return []
    written = write(Adoption(stack, settings.account_id or "", [], settled.remaining))
    echo(f"wrote {written.name}: commit it (names and jurisdictions stay: they describe the resources)")
    return list(settled.cleared)
