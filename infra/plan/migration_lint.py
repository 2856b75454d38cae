"""The migrations' lint: statements remote D1 refuses or handles differently, and changes that lose
data without saying why.

No SQL parser of our own and no third-party one: SQLite itself reads the files, the engine D1 runs.
`sqlite3.complete_statement` (SQLite's `sqlite3_complete`) says where each statement ends (strings,
comments and a trigger's BEGIN...END included); the authorizer callback says what a statement does
as SQLite prepares it (a transaction, a savepoint, a PRAGMA and its value); and the files run in
order on an in-memory database, so a lost column is read from the schema before and after, whatever
SQL lost it (DROP TABLE, DROP COLUMN, or a rebuild: CREATE new, INSERT SELECT, DROP old, RENAME).
sqlglot's SQLite dialect would be a second, approximate reading of the same text.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from infra.plan.migration_findings import Finding, short

# `-- guruai: destructive: <why>`: the file loses data on purpose, and says why.
DESTRUCTIVE_MARKER = re.compile(r"^\s*--\s*guruai:\s*destructive:\s*(\S.*)$", re.MULTILINE)

# Remote D1 runs each migration file in a transaction of its own and refuses SQL transaction
# control: workerd's SQLite wrapper fails BEGIN TRANSACTION and SAVEPOINT ("To execute a
# transaction, please use the state.storage.transaction() ... APIs instead of the SQL BEGIN
# TRANSACTION or SAVEPOINT statements", src/workerd/api/sql.c++, SqlStorage::allowTransactions;
# workerd #5411: a file with BEGIN passes `--local` and fails `--remote`). COMMIT, ROLLBACK and
# RELEASE would end D1's own transaction early.
TRANSACTION_FIX = "remove it: D1 runs each migration file in one transaction of its own (workerd #5411)"
# D1 allows only some PRAGMAs ("not authorized: SQLITE_AUTH" for the rest), and "because D1 runs
# every query inside an implicit transaction, user queries cannot change [foreign_keys] during a
# query or migration"; D1's way is `PRAGMA defer_foreign_keys = on`
# (https://developers.cloudflare.com/d1/sql-api/foreign-keys/).
ALLOWED_PRAGMA_WRITES = frozenset({"defer_foreign_keys"})
# PRAGMAs whose argument names a table or index to read, not a value to set.
READS_WITH_ARGUMENT = frozenset(
    {"table_info", "table_xinfo", "table_list", "index_info", "index_xinfo", "index_list", "foreign_key_list",
     "foreign_key_check", "integrity_check", "quick_check"}
)  # fmt: skip
PRAGMA_FIX = (
    "remove it: D1 refuses PRAGMA writes or ignores them inside a migration's transaction; "
    "for foreign keys use `PRAGMA defer_foreign_keys = on` (developers.cloudflare.com/d1/sql-api/foreign-keys)"
)
DESTRUCTIVE_FIX = (
    "keep the data (expand, then contract in a later deploy: docs/deploying.md), or add the line "
    "`-- guruai: destructive: <why>` to the file"
)


def statements(sql: str) -> Iterator[str]:
    """The file's statements, split where SQLite's own `sqlite3_complete` says each one ends."""
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending.strip()
            pending = ""
    if pending.strip():
        yield pending.strip()  # an unterminated last statement still runs


def columns(database: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    """table -> its columns, SQLite's and D1's own tables left out."""
    tables = [
        row[0]
        for row in database.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            "AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name != 'd1_migrations'"
        )
    ]
    return {t: tuple(r[1] for r in database.execute("SELECT * FROM pragma_table_info(?)", (t,))) for t in tables}


@dataclass
class _Authorizer:
    """Records what SQLite is asked to authorize while it prepares a statement, and denies
    transaction control and PRAGMA writes, which therefore never run here."""

    refused: list[tuple[str, str]] = field(default_factory=list)  # (problem, fix)

    def __call__(self, action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
        if action in (sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT):
            self.refused.append(("transaction control, which remote D1 refuses", TRANSACTION_FIX))
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_PRAGMA and arg2 is not None:
            name = (arg1 or "").lower()
            if name not in ALLOWED_PRAGMA_WRITES and name not in READS_WITH_ARGUMENT:
                self.refused.append((f"a PRAGMA write ({name} = {arg2})", PRAGMA_FIX))
                return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK


def migrated(files: Mapping[str, str]) -> sqlite3.Connection:
    """An in-memory database with the migrations applied in name order (no lint)."""
    database = sqlite3.connect(":memory:", isolation_level=None)
    for name in sorted(files):
        for statement in statements(files[name]):
            database.execute(statement)
    return database


def lint(files: Mapping[str, str]) -> list[Finding]:
    """Run the migrations in name order on an in-memory SQLite and report, per statement, what D1
    refuses and, per file, the columns it loses without the destructive marker. Stops at the first
    statement SQLite cannot run (the rest would report what follows from it)."""
    database = sqlite3.connect(":memory:", isolation_level=None)  # autocommit: no BEGIN of Python's own
    authorizer = _Authorizer()
    database.set_authorizer(authorizer)
    findings: list[Finding] = []
    for name in sorted(files):
        sql = files[name]
        at_start = columns(database)
        # each column now -> the column of the file's start whose data it holds (renames followed)
        origin = {(t, c): (t, c) for t, cols in at_start.items() for c in cols}
        lost: dict[tuple[str, str], str] = {}  # a column the file started with -> the statement that lost it
        for statement in statements(sql):
            before = columns(database)
            authorizer.refused.clear()
            try:
                database.execute(statement)
            except sqlite3.Error as error:
                if authorizer.refused:
                    findings.extend(Finding(name, short(statement), p, f) for p, f in authorizer.refused)
                    continue
                findings.append(
                    Finding(
                        name,
                        short(statement),
                        f"does not run on SQLite (D1's engine): {error}",
                        "correct the statement",
                    )
                )
                return findings
            origin = _follow(origin, before, columns(database))
            for kept in _keys(at_start):
                if kept not in origin.values():
                    lost.setdefault(kept, statement)
        if DESTRUCTIVE_MARKER.search(sql):
            continue
        end = columns(database)
        held = set(origin.values())
        gone = [key for key in lost if key not in held and key[1] not in end.get(key[0], ())]
        for statement in dict.fromkeys(lost[key] for key in gone):
            names = ", ".join(f"{t}.{c}" for t, c in gone if lost[(t, c)] == statement)
            findings.append(Finding(name, short(statement), f"loses data ({names}) without a reason", DESTRUCTIVE_FIX))
    return findings


def _keys(at_start: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    return [(t, c) for t, cols in at_start.items() for c in cols]


def _follow(
    origin: dict[tuple[str, str], tuple[str, str]],
    before: dict[str, tuple[str, ...]],
    after: dict[str, tuple[str, ...]],
) -> dict[tuple[str, str], tuple[str, str]]:
    """The origins after one statement. A table renamed (gone, and a new one with the same columns)
    or a column renamed (same count, same place) keeps its data; anything else gone is gone. A
    table rebuilt under the old name holds new columns: the name check at the file's end keeps them."""
    gone_tables = set(before) - set(after)
    new_tables = set(after) - set(before)
    renamed = {t: n for t in gone_tables for n in new_tables if after[n] == before[t]}
    moved: dict[tuple[str, str], tuple[str, str]] = {}
    for table, cols in before.items():
        target = renamed.get(table, table)
        now = after.get(target)
        if now is None:
            continue
        # same count: each kept or renamed in place; otherwise columns were added or dropped
        same = len(now) == len(cols)
        pairs = list(zip(cols, now, strict=True)) if same else [(c, c) for c in cols if c in now]
        for old, new in pairs:
            if (table, old) in origin:
                moved[(target, new)] = origin[(table, old)]
    return moved
