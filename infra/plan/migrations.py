"""The D1 migrations as data: which files wrangler applies, their content hash, and the
throwaway wrangler config that names one database to migrate."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from infra.paths import MIGRATIONS_DIR
from infra.worker_contract import DB_BINDING


def migration_files(directory: Path = MIGRATIONS_DIR) -> list[Path]:
    """The files wrangler applies: `*.sql` in the directory, in name order."""
    return sorted(directory.glob("*.sql"))


def migrations_hash(directory: Path = MIGRATIONS_DIR) -> str:
    """Content hash of the migration files (names and bytes): the deploy's trigger to apply them."""
    digest = hashlib.sha256()
    for path in migration_files(directory):
        content = path.read_bytes()
        digest.update(f"{path.name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def single_database_config(
    database_name: str, database_id: str, migrations_dir: Path = MIGRATIONS_DIR
) -> dict[str, Any]:
    """A wrangler config naming only the database to migrate (wrangler resolves paths from the config's folder)."""
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


# How `pulumi up` hands one database to the script that migrates it
# (infra/tools/apply_migrations.py, run by the Command in infra/stack/migrations.py).
APPLY_MODULE = "infra.tools.apply_migrations"
NAME_ENV = "D1_DATABASE_NAME"
ID_ENV = "D1_DATABASE_ID"
ACCOUNT_ENV = "CLOUDFLARE_ACCOUNT_ID"
TOKEN_ENV = "CLOUDFLARE_API_TOKEN"

# The restore point: the line infra/tools/apply_migrations.py prints before it migrates a remote
# database (D1 Time Travel's bookmark at that moment), read back from the Command's stdout into
# the `d1RestorePoint` stack output (infra/stack/migrations.py).
RESTORE_POINT_PREFIX = "restore point before migrations: "
_RESTORE_POINT = re.compile(rf"^{re.escape(RESTORE_POINT_PREFIX)}(\S+) bookmark (\S+)$", re.M)


def restore_point_line(database_name: str, bookmark: str) -> str:
    return f"{RESTORE_POINT_PREFIX}{database_name} bookmark {bookmark}"


def restore_point(stdout: str | None) -> str | None:
    """The bookmark of the last restore-point line in a migrations run's output (None: there is none)."""
    found = _RESTORE_POINT.findall(stdout or "")
    return found[-1][1] if found else None
