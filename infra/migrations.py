"""D1 migrations on deploy: `wrangler d1 migrations apply <db> --remote`, run by `pulumi up`.

One `command:local:Command` per database (production and preview) runs this module
as a script (`python -m infra.migrations`). The script writes a throwaway wrangler
config naming only that database (its name and id from the D1 resource's outputs,
`migrations_dir` pointing at templates/migrations) and runs the pinned wrangler with it.
A generated config, rather than the committed wrangler.toml's `[env.<stack>]`, because
on a stack's first `pulumi up` the database ids exist only in the engine: wrangler.toml
is rendered from the stack's outputs after the deploy.

Re-running is safe: wrangler records applied files in the database's `d1_migrations`
table and applies only the new ones. The Command re-runs when a migration file changes
(its content hash is the trigger) or the database does. The API token reaches wrangler
through the Command's environment, a secret, never through its command line.
The local environment applies the same directory (`migrations_dir` in wrangler.toml).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
import pulumi_cloudflare as cloudflare
from pulumi_command import local as command

from infra.bindings import DB_BINDING, MIGRATIONS_DIR
from infra.settings import SettingIssue
from infra.wrangler_cli import WRANGLER, wrangler_env

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / MIGRATIONS_DIR
# Pulumi.yaml's `virtualenv: .venv`: the interpreter that runs the program runs the migrations too.
APPLY_COMMAND = ".venv/bin/python -m infra.migrations"
TOKEN_ENV = "CLOUDFLARE_API_TOKEN"
ACCOUNT_ENV = "CLOUDFLARE_ACCOUNT_ID"
NAME_ENV = "D1_DATABASE_NAME"
ID_ENV = "D1_DATABASE_ID"


# --- pure parts -----------------------------------------------------------------


def migration_files(directory: Path = MIGRATIONS) -> list[Path]:
    """The files wrangler applies: `*.sql` in the directory, in name order."""
    return sorted(directory.glob("*.sql"))


def migrations_hash(directory: Path = MIGRATIONS) -> str:
    """Content hash of the migration files (names and bytes): the Command's trigger."""
    digest = hashlib.sha256()
    for path in migration_files(directory):
        content = path.read_bytes()
        digest.update(f"{path.name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def wrangler_config(database_name: str, database_id: str, migrations_dir: Path = MIGRATIONS) -> dict[str, Any]:
    """A config naming only the database to migrate (wrangler resolves paths from the config's folder)."""
    return {
        "name": "migrations",
        "d1_databases": [
            {
                "binding": DB_BINDING,
                "database_name": database_name,
                "database_id": database_id,
                "migrations_dir": str(migrations_dir.resolve()),
            }
        ],
    }


def wrangler_args(config_path: Path, database_name: str, *, local: bool, persist_to: Path | None = None) -> list[str]:
    args = [str(WRANGLER), "d1", "migrations", "apply", database_name, "--config", str(config_path)]
    args.append("--local" if local else "--remote")
    if persist_to is not None:
        args += ["--persist-to", str(persist_to)]
    return args


# --- Pulumi glue -------------------------------------------------------------------


def api_token() -> pulumi.Output[str] | None:
    """The Cloudflare API token the provider uses (config `cloudflare:apiToken`, else the
    environment), as a secret; None when neither has it."""
    configured = pulumi.Config("cloudflare").get_secret("apiToken")
    if configured is not None:
        return configured
    from_env = os.environ.get(TOKEN_ENV)
    return pulumi.Output.secret(from_env) if from_env else None


def api_token_issues(token: object | None) -> list[SettingIssue]:
    """wrangler has no other way to reach the account than this token: say so before anything is registered."""
    if token is not None:
        return []
    return [
        SettingIssue(
            key="cloudflare:apiToken",
            problem=f"missing: the provider and the D1 migrations (wrangler) need it (nor is {TOKEN_ENV} set)",
            got=None,
            fix=f"export {TOKEN_ENV}=<token>, or run `pulumi config set --secret cloudflare:apiToken <token>`",
        )
    ]


def apply_on_deploy(
    name: str,
    database: cloudflare.D1Database,
    account_id: str,
    token: pulumi.Input[str],
    parent: pulumi.Resource,
) -> command.Command:
    """Run the migrations against `database` whenever it or a migration file changes."""
    environment = {
        NAME_ENV: database.name,
        ID_ENV: database.id,
        ACCOUNT_ENV: account_id,
        TOKEN_ENV: pulumi.Output.secret(token),
    }
    return command.Command(
        name,
        create=APPLY_COMMAND,
        # No `update`: on a change the provider runs `create` again, which is idempotent.
        dir=str(ROOT),
        environment=environment,
        triggers=[migrations_hash()],
        add_previous_output_in_env=False,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[database]),
    )


# --- the script the Command runs --------------------------------------------------


def apply(
    database_name: str,
    database_id: str,
    *,
    local: bool = False,
    persist_to: Path | None = None,
    migrations_dir: Path = MIGRATIONS,
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
        config_path.write_text(json.dumps(wrangler_config(database_name, database_id, migrations_dir)))
        result = subprocess.run(
            wrangler_args(config_path, database_name, local=local, persist_to=persist_to),
            cwd=folder,
            env=wrangler_env(env),
            stdin=subprocess.DEVNULL,  # no TTY: wrangler applies without asking
        )
    return result.returncode


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
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
