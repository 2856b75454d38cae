"""The Worker's statements against a migrated schema: each still prepares and runs (the Worker
that is serving when the migrations run, the base's, must keep working), and none reads a table
row by row (D1 bills every row read).

Both questions go to SQLite itself: a statement prepares (`EXPLAIN`) only if every table, column,
index and trigger it needs exists, and `EXPLAIN QUERY PLAN` says how it reads each table.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping

from infra.plan.migration_findings import TWO_DEPLOYS, Finding, short

# The only statements allowed to read a range of rows, and why (by their export name in
# worker/src/sql.js). Every other read is by a whole unique key, one row.
RANGE_SCANS_ALLOWED = {
    "DELETE_OLD_USAGE": "the cron's daily cleanup: every usage row before the current window, a range over "
    "the key's first column that reads only the rows it deletes",
    "DELETE_OLD_KEYS": "the cron's daily cleanup of expired Idempotency-Keys: a range over usage_keys_created_at "
    "that reads only the rows it deletes",
}
SCAN_FIX = "add an index that covers what it filters by, in a new migration"

# SQLite's EXPLAIN QUERY PLAN lines (the engine's output, stable since 3.24): how a table is read.
PLAN_LINE = re.compile(r"^(?P<how>SCAN|SEARCH) (?P<table>\S+)(?: AS \S+)?(?: USING (?P<using>.*))?$")
USING = re.compile(
    r"^(?:(?P<rowid>INTEGER PRIMARY KEY)|(?P<pk>PRIMARY KEY)|(?:COVERING |AUTOMATIC (?:COVERING |PARTIAL )*)?INDEX "
    r"(?P<index>\S+)) \((?P<terms>.*)\)$"
)


def _parameters(database: sqlite3.Connection, sql: str) -> list[None]:
    """As many NULLs as the statement has parameters (SQLite says how many it wants)."""
    try:
        database.execute(f"EXPLAIN {sql}", [])
        return []
    except sqlite3.ProgrammingError as error:
        wanted = re.search(r"uses (\d+)", str(error))
        if wanted is None:
            raise
        return [None] * int(wanted.group(1))


def compatibility_findings(database: sqlite3.Connection, statements: Mapping[str, str], label: str) -> list[Finding]:
    """Each statement (name -> SQL) prepared on the migrated database; one that no longer does
    would fail in the Worker at `label` while it still serves (during the deploy, or after a rollback)."""
    findings = []
    for name, sql in statements.items():
        try:
            database.execute(f"EXPLAIN {sql}", _parameters(database, sql))
        except sqlite3.Error as error:  # _parameters' own EXPLAIN may be the one that fails
            findings.append(
                Finding(
                    f"{label}'s Worker, {name}",
                    short(sql),
                    f"no longer prepares on the migrated schema ({error}): it fails while that Worker serves",
                    f"make the change in two deploys, expand then contract ({TWO_DEPLOYS})",
                )
            )
    return findings


# Values bound to every parameter of a statement when it is run, tried in turn until one set runs
# on the schema before the migrations: "active" passes the schema's text checks (a status, a user
# id's length), 1 its numeric ones. Only "ran before, fails after" is a finding, so a sample that
# fits neither schema is never blamed on the migration.
SAMPLE_ARGUMENTS = ("active", 1)


def _run_error(database: sqlite3.Connection, sql: str, arguments: list[object]) -> sqlite3.Error | None:
    """Run the statement in a savepoint rolled back at once: the error it raises, or None."""
    database.execute("SAVEPOINT probe")
    try:
        database.execute(sql, arguments).fetchall()
        return None
    except sqlite3.Error as error:
        return error
    finally:
        database.execute("ROLLBACK TO probe")
        database.execute("RELEASE probe")


def run_findings(
    before: sqlite3.Connection, after: sqlite3.Connection, statements: Mapping[str, str], label: str
) -> list[Finding]:
    """Each statement that still prepares, run with sample values on the schema before the
    migrations and after: one that runs before and fails after (a NOT NULL column without a
    default, a new CHECK, a trigger that aborts) would fail in the Worker at `label` while it
    serves. Run on empty tables: a trigger or a constraint only rows would meet is not reached."""
    findings = []
    for name, sql in statements.items():
        try:
            count = len(_parameters(after, sql))
            after.execute(f"EXPLAIN {sql}", [None] * count)
        except sqlite3.Error:
            continue  # it does not prepare: compatibility_findings says so
        for sample in SAMPLE_ARGUMENTS:
            arguments: list[object] = [sample] * count
            if _run_error(before, sql, arguments) is not None:
                continue
            error = _run_error(after, sql, arguments)
            if error is not None:
                findings.append(
                    Finding(
                        f"{label}'s Worker, {name}",
                        short(sql),
                        f"runs on {label}'s schema but fails on the migrated one ({error}): it fails while "
                        "that Worker serves",
                        f"make the change in two deploys, expand then contract ({TWO_DEPLOYS})",
                    )
                )
            break
    return findings


def _unique_key(database: sqlite3.Connection, table: str, using: re.Match[str]) -> tuple[str, ...] | None:
    """The columns of the unique key the plan reads by, or None when it is not unique."""
    if using["rowid"]:
        return ("rowid",)
    if using["pk"]:
        key = sorted((r[5], r[1]) for r in database.execute("SELECT * FROM pragma_table_info(?)", (table,)) if r[5])
        return tuple(c for _, c in key)
    index = using["index"]
    unique = {r[1]: r[2] for r in database.execute("SELECT * FROM pragma_index_list(?)", (table,))}
    if not unique.get(index):
        return None
    return tuple(r[2] for r in database.execute("SELECT * FROM pragma_index_info(?)", (index,)))


def plan_findings(database: sqlite3.Connection, statements: Mapping[str, str], label: str) -> list[Finding]:
    """Each statement's EXPLAIN QUERY PLAN: a full scan of a table fails, and so does a range (a
    search that is not one row by a whole unique key) unless RANGE_SCANS_ALLOWED names it."""
    tables = {r[0] for r in database.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    findings = []
    for name, sql in statements.items():
        try:
            rows = database.execute(f"EXPLAIN QUERY PLAN {sql}", _parameters(database, sql)).fetchall()
        except sqlite3.Error:
            continue  # it does not prepare: compatibility_findings says so
        for detail in (row[3] for row in rows):
            line = PLAN_LINE.match(detail)
            if line is None or line["table"] not in tables:
                continue  # a constant row, a subquery, a temporary b-tree
            problem = None
            if line["how"] == "SCAN":
                problem = f"reads every row of {line['table']} ({detail}), and D1 bills each row read"
            else:
                using = USING.match(line["using"] or "")
                terms = using["terms"].split(" AND ") if using else []
                key = _unique_key(database, line["table"], using) if using else None
                equal = {t.removesuffix("=?") for t in terms if t.endswith("=?")}
                if key is None or len(equal) != len(terms) or set(key) != equal:
                    problem = f"reads a range of {line['table']} ({detail}), not one row by its key"
                    if name in RANGE_SCANS_ALLOWED:
                        continue
            if problem:
                findings.append(Finding(f"{label}'s Worker, {name}", short(sql), problem, SCAN_FIX))
    return findings
