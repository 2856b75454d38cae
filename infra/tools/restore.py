"""`guruai-cache restore`: put a stack's D1 database back to a Time Travel bookmark with
`wrangler d1 time-travel restore`, and read the current bookmark (`wrangler d1 time-travel info`),
which the deploy records before it migrates (infra/tools/apply_migrations.py).

Both run the pinned wrangler with `--json` and a throwaway config naming the one database (its
id from the stack's outputs), in the allow-listed environment the migrations use. With `--json`
wrangler asks nothing and prints the API's result: `{bookmark}` for info, `{bookmark,
previous_bookmark, message}` for restore (workers-sdk packages/wrangler/src/d1/timeTravel/info.ts,
restore.ts, types.ts); the confirmation is this module's, before wrangler runs.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.plan.migrations import ACCOUNT_ENV, single_database_config
from infra.plan.outputs import StackOutputs, output_name
from infra.tools.errors import UserError
from infra.tools.pinned_wrangler import wrangler_path

# What the commands need of the API token (docs/deploying.md's table lists the same).
PERMISSIONS = "D1: Edit"
# A bookmark as D1 prints it (00000085-0000024c-00004c6d-8e61117b...): hex groups joined by '-'.
BOOKMARK = re.compile(r"^[0-9a-fA-F]+(-[0-9a-fA-F]+)+$")
RESTORE_POINT_OUTPUT = output_name("d1_restore_point")


class TimeTravelError(Exception):
    """wrangler could not read or restore a bookmark; the message holds its last lines."""


@dataclass(frozen=True)
class Target:
    """The database a restore acts on, from the stack's outputs."""

    stack: str
    account_id: str
    database_name: str
    database_id: str
    restore_point: str | None  # the bookmark the last deploy recorded before migrating

    @classmethod
    def from_outputs(cls, stack: str, exported: Mapping[str, Any]) -> Target:
        outputs = StackOutputs.from_exported(exported)
        values = (outputs.account_id, outputs.d1_database_name, outputs.d1_database_id)
        if not all(isinstance(value, str) and value for value in values):
            raise UserError(
                f"stack {stack!r} has no D1 database in its outputs (accountId, d1DatabaseName, d1DatabaseId): "
                f"run `pulumi up --stack {stack}` first"
            )
        point = outputs.d1_restore_point
        return cls(stack, *values, point if isinstance(point, str) and point else None)


def check_bookmark(bookmark: str, option: str = "--bookmark") -> str:
    if not BOOKMARK.match(bookmark):
        raise UserError(
            f"{option} {bookmark!r} is not a D1 bookmark (hex groups joined by '-', as "
            "`wrangler d1 time-travel info <database>` prints)"
        )
    return bookmark


def chosen_bookmark(
    target: Target,
    bookmark: str | None,
    before_last_deploy: bool,
    timestamp: str | None,
    env: Mapping[str, str],
) -> str:
    """The bookmark to restore to: the one given, the restore point the last migrating deploy
    recorded, or D1's bookmark for a time (e.g. a deploy's start, in its job summary)."""
    if sum((bookmark is not None, before_last_deploy, timestamp is not None)) != 1:
        raise UserError("give one of --bookmark B, --before-last-deploy or --timestamp T")
    if bookmark is not None:
        return check_bookmark(bookmark)
    if timestamp is not None:
        return bookmark_at(target, timestamp, env)
    if target.restore_point is None:
        raise UserError(
            f"stack {target.stack!r} has no {RESTORE_POINT_OUTPUT} output (no deploy has migrated its database "
            "since the restore point was added): pass --timestamp T (a time before the deploy) or --bookmark B"
        )
    return check_bookmark(target.restore_point, RESTORE_POINT_OUTPUT)


def production_guard(stack: str, production: bool, named: str | None) -> None:
    """A production stack is restored only when --production-stack names it, before anything remote."""
    if production and named != stack:
        raise UserError(
            f"stack {stack!r} is a production stack: a restore overwrites its live data; "
            f"add --production-stack {stack} to confirm you mean it"
        )
    if named is not None and named != stack:
        raise UserError(f"--production-stack {named!r} does not name the stack being restored ({stack!r})")


def plan_text(target: Target, bookmark: str) -> str:
    return (
        f"restore stack {target.stack}'s D1 database {target.database_name} ({target.database_id}, "
        f"account {target.account_id}) to bookmark {bookmark}.\n"
        "Every write since that bookmark is undone and in-flight queries are cancelled; "
        "the bookmark that undoes the restore is printed after it."
    )


def undo_command(target: Target, previous: str, production: bool) -> str:
    guard = f" --production-stack {target.stack}" if production else ""
    return f"guruai-cache restore --stack {target.stack} --bookmark {previous}{guard}"


def _wrangler_json(
    args: list[str], database_name: str, database_id: str, env: Mapping[str, str], wrangler: Path | None = None
) -> Any:
    """Run `wrangler d1 <args> --json` against a config naming only this database; its JSON answer.
    `wrangler`: the executable (default: the pinned one)."""
    with tempfile.TemporaryDirectory(prefix="d1-time-travel-") as folder:
        config = Path(folder) / "wrangler.json"
        config.write_text(json.dumps(single_database_config(database_name, database_id)))
        result = subprocess.run(
            [str(wrangler or wrangler_path()), "d1", *args, "--json", "--config", str(config)],
            cwd=folder,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-10:]
        raise TimeTravelError(f"wrangler d1 {' '.join(args[:2])} failed:\n" + "\n".join(detail))
    start = result.stdout.find("{")
    try:
        return json.loads(result.stdout[start:]) if start >= 0 else None
    except ValueError:
        raise TimeTravelError(f"wrangler d1 {' '.join(args[:2])} printed no JSON: {result.stdout[-500:]}") from None


def current_bookmark(database_name: str, database_id: str, env: Mapping[str, str], wrangler: Path | None = None) -> str:
    """D1 Time Travel's bookmark for now (`wrangler d1 time-travel info <db> --json`)."""
    return _bookmark(["time-travel", "info", database_name], database_name, database_id, env, wrangler)


def bookmark_at(target: Target, timestamp: str, env: Mapping[str, str]) -> str:
    """D1's bookmark for a time (`... info <db> --timestamp T --json`; wrangler checks the time:
    Unix seconds or RFC 3339, in the past, within 30 days)."""
    args = ["time-travel", "info", target.database_name, f"--timestamp={timestamp}"]
    return _bookmark(args, target.database_name, target.database_id, {**env, ACCOUNT_ENV: target.account_id})


def _bookmark(
    args: list[str], database_name: str, database_id: str, env: Mapping[str, str], wrangler: Path | None = None
) -> str:
    answer = _wrangler_json(args, database_name, database_id, env, wrangler)
    bookmark = answer.get("bookmark") if isinstance(answer, dict) else None
    if not isinstance(bookmark, str) or not BOOKMARK.match(bookmark):
        raise TimeTravelError(f"wrangler d1 time-travel info answered no bookmark: {answer!r}")
    return bookmark


def restore(target: Target, bookmark: str, env: Mapping[str, str]) -> str:
    """Restore the database to `bookmark`; the previous bookmark (the one that undoes it)."""
    answer = _wrangler_json(
        ["time-travel", "restore", target.database_name, f"--bookmark={bookmark}"],
        target.database_name,
        target.database_id,
        {**env, ACCOUNT_ENV: target.account_id},
    )
    previous = answer.get("previous_bookmark") if isinstance(answer, dict) else None
    if not isinstance(previous, str) or not previous:
        raise TimeTravelError(f"wrangler d1 time-travel restore answered no previous bookmark: {answer!r}")
    return previous


def run(
    target: Target,
    bookmark: str,
    *,
    production: bool,
    env: Mapping[str, str],
    confirm: Callable[[str], bool],
    echo: Callable[[str], None],
) -> str | None:
    """Show the plan, ask, restore, print the undo. The previous bookmark, or None when not confirmed."""
    echo(plan_text(target, bookmark))
    if not confirm(f"Restore {target.database_name}?"):
        echo("nothing restored")
        return None
    previous = restore(target, bookmark, env)
    echo(f"restored {target.database_name} to bookmark {bookmark}")
    echo(f"previous bookmark: {previous}; to undo this restore: {undo_command(target, previous, production)}")
    return previous
