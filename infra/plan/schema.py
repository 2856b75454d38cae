"""The tables worker/migrations creates, and how an existing database can disagree with them.

The migrations create their tables with `IF NOT EXISTS`, so a database made by hand (the setup
guide's, which already has `subscriptions`) does not stop them. But a table kept that way must
have the columns the Worker queries: the deploy checks that before wrangler applies anything
(infra/tools/apply_migrations.py), and reports a table that differs with the way to move its
rows over. Pure: the expected tables come from running the migration files on an in-memory
SQLite database, the existing ones from the query below.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.paths import MIGRATIONS_DIR
from infra.plan.migrations import migration_files

# wrangler's record of the applied files, in the migrated database itself.
APPLIED_TABLE = "d1_migrations"
NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
KEPT_SUFFIX = "_before_migrations"


@dataclass(frozen=True)
class Column:
    name: str
    primary_key: bool

    def __str__(self) -> str:
        return f"{self.name} (primary key)" if self.primary_key else self.name


@dataclass(frozen=True)
class ExpectedTable:
    name: str
    migration: str  # the file that creates it
    columns: tuple[Column, ...]  # as that file leaves it


@dataclass(frozen=True)
class Conflict:
    expected: ExpectedTable
    found: tuple[Column, ...]


def expected_tables(directory: Path = MIGRATIONS_DIR) -> dict[str, ExpectedTable]:
    """Each table the migrations create, with the file that creates it and its columns right after."""
    database = sqlite3.connect(":memory:")
    found: dict[str, ExpectedTable] = {}
    try:
        for path in migration_files(directory):
            database.executescript(path.read_text())
            for table, columns in _tables(database).items():
                if table not in found:
                    found[table] = ExpectedTable(table, path.name, columns)
    finally:
        database.close()
    return found


def _tables(database: sqlite3.Connection) -> dict[str, tuple[Column, ...]]:
    names = [
        row[0]
        for row in database.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {
        name: tuple(
            Column(row[0], bool(row[1]))
            for row in database.execute("SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", (name,))
        )
        for name in names
    }


def schema_query(tables: Iterable[str]) -> str:
    """One query for the existing database: the columns of the named tables (and whether
    wrangler's record of applied files exists), as rows of (tbl, col, pk)."""
    names = ", ".join(f"'{name}'" for name in sorted({*tables, APPLIED_TABLE}))
    return (
        "SELECT m.name AS tbl, p.name AS col, p.pk AS pk FROM sqlite_master AS m "
        f"LEFT JOIN pragma_table_info(m.name) AS p WHERE m.type = 'table' AND m.name IN ({names}) "
        "ORDER BY m.name, p.cid"
    )


APPLIED_QUERY = f"SELECT name FROM {APPLIED_TABLE} ORDER BY id"


def existing_tables(rows: Iterable[Mapping[str, object]]) -> dict[str, tuple[Column, ...]]:
    """schema_query's rows as tables and their columns."""
    tables: dict[str, list[Column]] = {}
    for row in rows:
        columns = tables.setdefault(str(row["tbl"]), [])
        if row.get("col") is not None:
            columns.append(Column(str(row["col"]), bool(row.get("pk"))))
    return {name: tuple(columns) for name, columns in tables.items()}


def _differ(expected: tuple[Column, ...], found: tuple[Column, ...]) -> bool:
    """Other column names, or another primary key (a table's column names are unique)."""
    return set(expected) != set(found)


def conflicts(
    expected: Mapping[str, ExpectedTable], existing: Mapping[str, tuple[Column, ...]], applied: Iterable[str]
) -> list[Conflict]:
    """Tables that a migration still to be applied would create, that already exist with
    other columns (or another primary key): `IF NOT EXISTS` would keep them as they are."""
    done = set(applied)
    return [
        Conflict(table, existing[name])
        for name, table in expected.items()
        if table.migration not in done and name in existing and _differ(table.columns, existing[name])
    ]


def report(found: list[Conflict], database: str, where: str) -> str:
    """What is wrong, and the commands that move the rows into the table the Worker needs."""
    run = f"npx wrangler d1 execute {database} --{where} --command"
    lines = [
        f"{database}: the database already has tables the migrations would create differently; nothing was applied."
    ]
    for conflict in found:
        table, kept = conflict.expected, f"{conflict.expected.name}{KEPT_SUFFIX}"
        present = {c.name for c in conflict.found}
        values = ", ".join(
            c.name if c.name in present else (NOW_SQL if c.name.endswith("_at") else f"<{c.name}>")
            for c in table.columns
        )
        lines += [
            f"  table {table.name}:",
            f"    has:       {', '.join(map(str, conflict.found)) or '(no columns)'}",
            f"    {table.migration} creates: {', '.join(map(str, table.columns))}",
            "  fix: keep its rows under another name, let the migration create the table, then copy them over:",
            f'    {run} "ALTER TABLE {table.name} RENAME TO {kept}"',
            "    then `pulumi up` again (it applies the migrations), and:",
            f'    {run} "INSERT INTO {table.name} ({", ".join(c.name for c in table.columns)}) '
            f'SELECT {values} FROM {kept}"',
            "    (fill in any <column>; docs/deploying.md, 'A database made by hand')",
        ]
    return "\n".join(lines)
