"""`guruai-cache migrations check` and `migrations hash`: the migrations and the Worker's SQL read
from the working tree and from a base ref (git), then judged by the pure checks in infra/plan
(migration_sum, migration_lint, worker_statements)."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from infra.plan import migration_lint, migration_sum, worker_statements
from infra.plan.migration_findings import Finding
from infra.tools import git_refs
from infra.tools.errors import UserError

MIGRATIONS = "worker/migrations"
WORKER_SRC = "worker/src"
DEFAULT_BASE = "origin/main"
TIMEOUT = 60


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return git_refs.git(root, *args, timeout=TIMEOUT)


def resolve_base(root: Path, against: str | None) -> str | None:
    """The commit to compare with: `against`, else origin/main when the clone has it, else None."""
    return git_refs.given_commit(root, against) if against is not None else git_refs.commit_of(root, DEFAULT_BASE)


def _archive(root: Path, commit: str, folder: str, into: Path) -> bool:
    """The folder as it is at the commit, extracted under `into`; False when the commit has no such folder."""
    listed = _git(root, "ls-tree", "-d", "--name-only", commit, folder)
    if listed.returncode != 0 or not listed.stdout.strip():
        return False
    archive = _git(root, "archive", "--format=tar", commit, folder)
    if archive.returncode != 0:
        raise UserError(f"git archive {commit} {folder} failed: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return True


def migration_bytes(folder: Path) -> dict[str, bytes]:
    """name -> bytes of each migration wrangler applies (`*.sql`)."""
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.sql"))}


def sql_exports(src: Path) -> dict[str, str]:
    """The string exports of the Worker's sql.js, as the module builds them (run by Node)."""
    module = src / "sql.js"
    if not module.exists():
        return {}
    node = shutil.which("node")
    if node is None:
        raise UserError("node is not on PATH: the Worker's SQL (worker/src/sql.js) is read by running it")
    script = (
        "const m = await import(process.argv[1]);"
        "console.log(JSON.stringify(Object.fromEntries(Object.entries(m).filter(([, v]) => typeof v === 'string'))));"
    )
    result = subprocess.run(
        [node, "--input-type=module", "-e", script, module.resolve().as_uri()],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise UserError(f"{module} does not load in Node: {result.stderr.strip().splitlines()[-1:]}")
    exports: dict[str, str] = json.loads(result.stdout)
    return exports


@dataclass(frozen=True)
class Report:
    findings: list[Finding]
    notes: list[str]


def check(root: Path, against: str | None) -> Report:
    """Every check on the working tree's migrations; those that need a base only with one."""
    folder = root / MIGRATIONS
    files = migration_bytes(folder)
    sum_path = folder / migration_sum.SUM_FILE
    sum_text = sum_path.read_text() if sum_path.exists() else None
    findings = migration_sum.sequence_findings(list(files))
    findings += migration_sum.integrity_findings(files, sum_text)
    notes = []
    base = resolve_base(root, against)
    label = against or DEFAULT_BASE
    base_statements: dict[str, str] = {}
    base_files: dict[str, bytes] = {}
    if base is None:
        notes.append(
            f"no base to compare with ({DEFAULT_BASE} is not in this clone): edits of merged migrations and "
            "the serving Worker's statements were not checked; pass --against REF"
        )
    else:
        with tempfile.TemporaryDirectory(prefix="guruai-migrations-") as temporary:
            at_base = Path(temporary)
            base_files = migration_bytes(at_base / MIGRATIONS) if _archive(root, base, MIGRATIONS, at_base) else {}
            if _archive(root, base, WORKER_SRC, at_base):
                base_statements = sql_exports(at_base / WORKER_SRC)
        edits = _recorded_edits(sum_text)
        findings += migration_sum.base_findings(files, base_files, label, edits)
    texts = {name: content.decode() for name, content in files.items()}
    lint = migration_lint.lint(texts)
    findings += lint
    if any("does not run on SQLite" in f.problem for f in lint):
        return Report(findings, [*notes, "the Worker's statements were not checked: the migrations do not run"])
    database = migration_lint.migrated(texts)
    head_statements = sql_exports(root / WORKER_SRC)
    # Each text once: the base's statements, then this tree's that differ from them (and the other
    # way round for the plans, which judge this tree's Worker first).
    newer = {n: s for n, s in head_statements.items() if base_statements.get(n) != s}
    findings += worker_statements.compatibility_findings(database, base_statements, label)
    if base_statements:
        try:
            before = migration_lint.migrated({n: c.decode() for n, c in base_files.items()})
        except sqlite3.Error as error:
            notes.append(f"{label}'s migrations do not run on SQLite ({error}): its Worker's statements were not run")
        else:
            findings += worker_statements.run_findings(before, database, base_statements, label)
    findings += worker_statements.compatibility_findings(database, newer, "this tree")
    findings += worker_statements.plan_findings(database, head_statements, "this tree")
    older = {n: s for n, s in base_statements.items() if head_statements.get(n) != s}
    findings += worker_statements.plan_findings(database, older, label)
    return Report(findings, notes)


def _recorded_edits(sum_text: str | None) -> tuple[migration_sum.Edit, ...]:
    """The `edited` lines of the integrity file; none when it is absent or unreadable (the check
    reports that file on its own; `hash` rewrites it from the files)."""
    try:
        return migration_sum.parse(sum_text).edits if sum_text else ()
    except ValueError:
        return ()


def write_sum(root: Path, edited: str | None, reason: str | None, against: str | None) -> Path:
    """Write the integrity file from the migrations, keeping its `edited` lines; with `edited`,
    record a reviewed edit of that file from its bytes at the base to its bytes now."""
    folder = root / MIGRATIONS
    files = migration_bytes(folder)
    sum_path = folder / migration_sum.SUM_FILE
    # Rewritten from the files; a lost `edited` line of an unreadable file shows in the diff under review.
    edits = _recorded_edits(sum_path.read_text() if sum_path.exists() else None)
    if edited is not None:
        if not reason or not reason.strip():
            raise UserError("--edited needs --reason: why the edit is safe for databases that applied the file")
        if edited not in files:
            raise UserError(f"--edited {edited}: no such migration in {MIGRATIONS}/")
        base = resolve_base(root, against)
        if base is None:
            raise UserError(f"--edited needs a base to compare with: pass --against REF ({DEFAULT_BASE} is not here)")
        shown = _git(root, "show", f"{base}:{MIGRATIONS}/{edited}")
        if shown.returncode != 0:
            raise UserError(f"--edited {edited}: it is not on {against or DEFAULT_BASE}, so it may change freely")
        before, after = migration_sum.file_hash(shown.stdout), migration_sum.file_hash(files[edited])
        if before == after:
            raise UserError(f"--edited {edited}: it is the same as on {against or DEFAULT_BASE}")
        edits = (*edits, migration_sum.Edit(edited, before, after, " ".join(reason.split())))
    sum_path.write_text(migration_sum.render(files, edits))
    return sum_path
