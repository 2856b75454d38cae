"""The script each D1 migrations Command runs on `pulumi up` (infra/stack/migrations.py):
`wrangler d1 migrations apply <database> --remote` for the database its environment names.

It writes a throwaway wrangler config naming only that database (name and id from the D1
resource's outputs, `migrations_dir` pointing at worker/migrations) and runs the pinned
wrangler with it. A generated config, rather than the committed wrangler.toml's
`[env.<stack>]`, because on a stack's first `pulumi up` the database ids exist only in the
engine: wrangler.toml is rendered from the stack's outputs after the deploy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from infra.paths import MIGRATIONS_DIR, WRANGLER
from infra.plan.migrations import (
    ACCOUNT_ENV,
    ID_ENV,
    NAME_ENV,
    TOKEN_ENV,
    migration_files,
    single_database_config,
)
from infra.tools.pinned_wrangler import wrangler_env


def wrangler_args(config_path: Path, database_name: str, *, local: bool, persist_to: Path | None = None) -> list[str]:
    args = [str(WRANGLER), "d1", "migrations", "apply", database_name, "--config", str(config_path)]
    args.append("--local" if local else "--remote")
    if persist_to is not None:
        args += ["--persist-to", str(persist_to)]
    return args


def apply(
    database_name: str,
    database_id: str,
    *,
    local: bool = False,
    persist_to: Path | None = None,
    migrations_dir: Path = MIGRATIONS_DIR,
    env: Mapping[str, str] | None = None,
) -> int:
    """Apply the migrations with wrangler; its output is the progress. Returns wrangler's exit code."""
    if not WRANGLER.exists():
        raise SystemExit(f"error: {WRANGLER} not found: run scripts/setup.sh (it installs the pinned wrangler)")
    files = migration_files(migrations_dir)
    where = "local" if local else "remote"
    print(f"==> {database_name} ({where}): {len(files)} migration file(s) in {migrations_dir}", flush=True)
    with tempfile.TemporaryDirectory(prefix="d1-migrations-") as folder:
        config_path = Path(folder) / "wrangler.json"
        config_path.write_text(json.dumps(single_database_config(database_name, database_id, migrations_dir)))
        result = subprocess.run(
            wrangler_args(config_path, database_name, local=local, persist_to=persist_to),
            cwd=folder,
            env=wrangler_env(env),
            stdin=subprocess.DEVNULL,  # no TTY: wrangler applies without asking
        )
    return result.returncode


def main(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    missing = [name for name in (NAME_ENV, ID_ENV, TOKEN_ENV, ACCOUNT_ENV) if not env.get(name)]
    if missing:
        print(
            f"error: {', '.join(missing)} not set: this script is run by `pulumi up` "
            f"(the D1 migrations Command sets them); by hand use "
            f"`npx wrangler d1 migrations apply DB --remote --env <stack>`",
            file=sys.stderr,
        )
        return 2
    return apply(env[NAME_ENV], env[ID_ENV], env=env)


if __name__ == "__main__":
    sys.exit(main())
