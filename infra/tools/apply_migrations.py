"""The script each D1 migrations Command runs on `pulumi up` (infra/stack/migrations.py):
check the database's existing tables, then `wrangler d1 migrations apply <database> --remote`.

It writes a throwaway wrangler config naming only that database (name and id from the D1
resource's outputs, `migrations_dir` pointing at worker/migrations) and runs the pinned
wrangler with it. A generated config, rather than the committed wrangler.toml's
`[env.<stack>]`, because on a stack's first `pulumi up` the database ids exist only in the
engine: wrangler.toml is rendered from the stack's outputs after the deploy.

Before applying, it reads the database's tables: a table the migrations would create that
already exists with other columns (the setup guide's hand-made `subscriptions`) stops the
deploy with the commands that fix it, before wrangler changes anything (infra/plan/schema.py).

Then, on a remote database, it records D1 Time Travel's current bookmark (`wrangler d1
time-travel info`) and prints it as the restore-point line, which the stack keeps as its
`d1RestorePoint` output: `guruai-cache restore --before-last-deploy` goes back to it. Without a
bookmark nothing is migrated.

wrangler runs with an allow-listed environment: what Node, a proxy and the Cloudflare API
need, never the rest of `pulumi up`'s environment (PULUMI_ACCESS_TOKEN,
PULUMI_CONFIG_PASSPHRASE, other clouds' credentials), which the Command inherits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.paths import MIGRATIONS_DIR, WRANGLER
from infra.plan import schema
from infra.plan.migrations import (
    ACCOUNT_ENV,
    ID_ENV,
    NAME_ENV,
    TOKEN_ENV,
    migration_files,
    restore_point_line,
    single_database_config,
)
from infra.tools import restore
from infra.tools.pinned_wrangler import wrangler_env

# What wrangler may see of the environment: the system and Node basics, proxies and
# certificates (corporate networks), CI detection (no prompts), and the account's token and id.
# Not NODE_OPTIONS: its `--require`/`--import` load any file into the process holding the token.
WRANGLER_ALLOWED_ENV = (
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TEMP", "TMP",
    "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "CI",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR",
    TOKEN_ENV, ACCOUNT_ENV, "CLOUDFLARE_API_BASE_URL",
)  # fmt: skip


class MigrationError(Exception):
    """The database cannot take the migrations as it is; the message says why and how to fix it."""


def allowed_environment(env: Mapping[str, str]) -> dict[str, str]:
    """`env` reduced to WRANGLER_ALLOWED_ENV, with wrangler kept offline and uncoloured."""
    return wrangler_env({name: env[name] for name in WRANGLER_ALLOWED_ENV if name in env})


@dataclass(frozen=True)
class Database:
    """One database as wrangler reaches it: through the generated config, locally or remotely."""

    name: str
    config_path: Path
    local: bool
    persist_to: Path | None
    env: dict[str, str]

    def where(self) -> list[str]:
        return [
            "--local" if self.local else "--remote",
            *(["--persist-to", str(self.persist_to)] if self.persist_to else []),
        ]

    def query(self, sql: str) -> list[dict[str, object]]:
        """One `wrangler d1 execute --json` query's rows."""
        args = [
            str(WRANGLER),
            "d1",
            "execute",
            self.name,
            "--config",
            str(self.config_path),
            "--json",
            "--command",
            sql,
        ]
        result = subprocess.run(
            args + self.where(),
            cwd=self.config_path.parent,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            detail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-10:]
            raise MigrationError(f"{self.name}: reading its tables failed (wrangler d1 execute):\n" + "\n".join(detail))
        try:
            rows: list[dict[str, object]] = json.loads(result.stdout)[0]["results"]
        except (ValueError, LookupError, TypeError):
            raise MigrationError(
                f"{self.name}: wrangler d1 execute printed no JSON result: {result.stdout[-500:]}"
            ) from None
        return rows


def wrangler_args(config_path: Path, database_name: str, *, local: bool, persist_to: Path | None = None) -> list[str]:
    database = Database(database_name, config_path, local, persist_to, {})
    return [str(WRANGLER), "d1", "migrations", "apply", database_name, "--config", str(config_path), *database.where()]


def check_existing_tables(database: Database, migrations_dir: Path) -> None:
    """Raise MigrationError when the database holds a table the migrations would create differently."""
    expected = schema.expected_tables(migrations_dir)
    if not expected:
        return
    existing = schema.existing_tables(database.query(schema.schema_query(expected)))
    if not schema.conflicts(expected, existing, applied=()):
        return  # the usual deploy: the tables are the migrations' own (one query, no more)
    applied: list[str] = []
    if schema.APPLIED_TABLE in existing:
        applied = [str(row["name"]) for row in database.query(schema.APPLIED_QUERY)]
    found = schema.conflicts(expected, existing, applied)
    if found:
        raise MigrationError(schema.report(found, database.name, "local" if database.local else "remote"))


def apply(
    database_name: str,
    database_id: str,
    *,
    local: bool = False,
    persist_to: Path | None = None,
    migrations_dir: Path = MIGRATIONS_DIR,
    env: Mapping[str, str] | None = None,
) -> int:
    """Check the existing tables, then apply the migrations with wrangler (its output is the
    progress). Returns wrangler's exit code, or 1 when the check stops it."""
    if not WRANGLER.exists():
        raise SystemExit(f"error: {WRANGLER} not found: run scripts/setup.sh (it installs the pinned wrangler)")
    wrangler_environment = allowed_environment(os.environ if env is None else env)
    files = migration_files(migrations_dir)
    where = "local" if local else "remote"
    print(f"==> {database_name} ({where}): {len(files)} migration file(s) in {migrations_dir}", flush=True)
    with tempfile.TemporaryDirectory(prefix="d1-migrations-") as folder:
        config_path = Path(folder) / "wrangler.json"
        config_path.write_text(json.dumps(single_database_config(database_name, database_id, migrations_dir)))
        if not local:
            try:
                bookmark = restore.current_bookmark(database_name, database_id, wrangler_environment, WRANGLER)
            except restore.TimeTravelError as error:
                print(f"error: {database_name}: no restore point, so no migrations: {error}", file=sys.stderr)
                return 1
            print(restore_point_line(database_name, bookmark), flush=True)
        try:
            check_existing_tables(
                Database(database_name, config_path, local, persist_to, wrangler_environment), migrations_dir
            )
        except MigrationError as error:
            print(f"error: {error}", file=sys.stderr, flush=True)
            return 1
        result = subprocess.run(
            wrangler_args(config_path, database_name, local=local, persist_to=persist_to),
            cwd=folder,
            env=wrangler_environment,
            stdin=subprocess.DEVNULL,  # no TTY: wrangler applies without asking
        )
    return result.returncode


def main(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    missing = [name for name in (NAME_ENV, ID_ENV, TOKEN_ENV, ACCOUNT_ENV) if not env.get(name)]
    if missing:
        print(
            f"error: {', '.join(missing)} not set: this script is run by `pulumi up` "
            f"(the D1 migrations Command sets them; {TOKEN_ENV} comes from its environment or "
            f"`cloudflare:apiToken`); by hand use `npx wrangler d1 migrations apply DB --remote --env <stack>`",
            file=sys.stderr,
        )
        return 2
    return apply(env[NAME_ENV], env[ID_ENV], env=env)


if __name__ == "__main__":
    sys.exit(main())
