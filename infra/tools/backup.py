"""`guruai-cache backup`: a stack's D1 database (or the local one) exported to a SQL file with
`wrangler d1 export`, a copy that outlives Time Travel's 7 (Free) or 30 (Paid) days.

Remote: the pinned wrangler with a throwaway config naming the one database (its name and id
from the stack's outputs) and the migrations' allow-listed environment; `--skip-confirmation`,
since wrangler would otherwise ask whether the database may stop serving queries while it
exports (workers-sdk packages/wrangler/src/d1/export.ts). Local: the database `guruai-cache
local` runs, by its binding, in the state next to the config (wrangler's local export takes no
--persist-to: it reads `<config dir>/.wrangler/state`). The way back is docs/deploying.md's
"Backups beyond Time Travel": `wrangler d1 execute <new database> --file <export>`.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from infra.plan.migrations import ACCOUNT_ENV, single_database_config
from infra.tools.errors import UserError
from infra.tools.pinned_wrangler import wrangler_path
from infra.tools.restore import Target
from infra.worker_contract import DB_BINDING


class BackupError(Exception):
    """wrangler could not export the database; the message holds its last lines."""


def default_output(database_name: str, now: dt.datetime) -> Path:
    """`<database>-<UTC time>.sql` in the working directory: one file per export, never overwritten."""
    return Path(f"{database_name}-{now.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}.sql")


def check_output(output: Path) -> Path:
    """The export's path; an existing file is refused (a backup never overwrites another)."""
    if output.exists():
        raise UserError(f"--output {output}: the file exists; a backup never overwrites one, choose another path")
    if not output.parent.is_dir():
        raise UserError(f"--output {output}: its folder {output.parent} does not exist")
    return output


def _export(args: list[str], cwd: Path, env: Mapping[str, str], output: Path) -> Path:
    result = subprocess.run(
        [wrangler_path(), "d1", "export", *args, "--output", str(output.resolve())],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not output.exists():
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-10:]
        raise BackupError("wrangler d1 export failed:\n" + "\n".join(detail))
    return output


def export_remote(target: Target, output: Path, env: Mapping[str, str]) -> Path:
    """The stack's database, exported (schema and rows) to `output`."""
    with tempfile.TemporaryDirectory(prefix="d1-export-") as folder:
        config = Path(folder) / "wrangler.json"
        config.write_text(json.dumps(single_database_config(target.database_name, target.database_id)))
        args = [target.database_name, "--remote", "--skip-confirmation", "--config", str(config)]
        return _export(args, Path(folder), {**env, ACCOUNT_ENV: target.account_id}, output)


def export_local(config: Path, output: Path, env: Mapping[str, str]) -> Path:
    """The local database bound as DB in `config` (its state in `<config dir>/.wrangler/state`)."""
    if not config.exists():
        raise UserError(f"{config} does not exist: run `guruai-cache local --no-start` first")
    return _export([DB_BINDING, "--local", "--config", str(config)], config.parent, env, output)
