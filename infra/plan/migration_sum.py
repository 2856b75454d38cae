"""The migrations' integrity file (worker/migrations/migrations.sum), modelled on Atlas's atlas.sum:
one hash per migration and a sum over them all, written only by `guruai-cache migrations hash`.

The sum line makes two pull requests that each add a migration conflict in git, so they are
renumbered before either merges. The check also compares the files with a base ref (main): a
migration that reached it never changes, moves or disappears, because wrangler records applied
files by name (d1_migrations) and never runs one again; an edit reaches no database that
already applied the file. The one way to edit one anyway is an `edited` line: the file, the hash
it had at the base, the hash it has now, and the reason, reviewed like any other line.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from infra.plan.migration_findings import Finding

SUM_FILE = "migrations.sum"
# wrangler's own naming (`wrangler d1 migrations create`): a zero-padded number, then a name.
NAME = re.compile(r"^(\d{4,})_[A-Za-z0-9_-]+\.sql$")
HEADER = (
    "# The integrity file of worker/migrations: written by `guruai-cache migrations hash`, never by hand.\n"
    "# `guruai-cache migrations check` refuses a migration missing here, a stale hash, and an edit of a\n"
    "# migration that reached main unless an `edited` line records it (old hash, new hash, reason).\n"
)
HASH_FIX = "run `guruai-cache migrations hash` and commit worker/migrations/migrations.sum"
NEW_FILE_FIX = "put the change in a new migration (the next number) instead"


def file_hash(content: bytes) -> str:
    """Atlas's form: `h1:` and the base64 of the SHA-256."""
    return "h1:" + base64.b64encode(hashlib.sha256(content).digest()).decode()


@dataclass(frozen=True)
class Edit:
    """A reviewed edit of a migration that had reached main."""

    name: str
    before: str  # the file's hash at the base
    after: str  # its hash with the edit
    reason: str

    def line(self) -> str:
        return f"edited {self.name} {self.before} {self.after} {self.reason}"


@dataclass(frozen=True)
class SumFile:
    total: str
    hashes: dict[str, str]
    edits: tuple[Edit, ...]


def _total(hashes: Mapping[str, str], edits: tuple[Edit, ...]) -> str:
    body = "".join(f"{name} {digest}\n" for name, digest in hashes.items())
    body += "".join(edit.line() + "\n" for edit in edits)
    return file_hash(body.encode())


def render(files: Mapping[str, bytes], edits: tuple[Edit, ...] = ()) -> str:
    """The integrity file for these migrations (name -> bytes), in name order, with the edits kept."""
    hashes = {name: file_hash(files[name]) for name in sorted(files)}
    lines = [_total(hashes, edits), *(f"{name} {digest}" for name, digest in hashes.items())]
    return HEADER + "\n".join([*lines, *(edit.line() for edit in edits)]) + "\n"


def parse(text: str) -> SumFile:
    """The integrity file's lines; a ValueError names the first line it cannot read."""
    total = ""
    hashes: dict[str, str] = {}
    edits: list[Edit] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split(" ")
        if not total and len(words) == 1 and line.startswith("h1:"):
            total = line
        elif words[0] == "edited" and len(words) >= 5 and all(w.startswith("h1:") for w in words[2:4]):
            edits.append(Edit(words[1], words[2], words[3], " ".join(words[4:])))
        elif len(words) == 2 and words[1].startswith("h1:"):
            hashes[words[0]] = words[1]
        else:
            raise ValueError(f"line {number} is neither `h1:<sum>`, `<file> h1:<hash>` nor `edited ...`: {line!r}")
    if not total:
        raise ValueError("no `h1:<sum>` line")
    return SumFile(total, hashes, tuple(edits))


def sequence_findings(names: list[str]) -> list[Finding]:
    """Every file named NNNN_name.sql, numbered 1, 2, 3... in name order: no duplicate, no gap."""
    findings = []
    numbers = []
    for name in names:
        match = NAME.match(name)
        if match is None:
            findings.append(
                Finding(name, "", "not named NNNN_name.sql", "rename it as `wrangler d1 migrations create` would")
            )
        else:
            numbers.append((int(match.group(1)), name))
    seen: dict[int, str] = {}
    for number, name in numbers:
        if number in seen:
            findings.append(
                Finding(name, "", f"has the number of {seen[number]}", "renumber it after the last migration")
            )
        seen.setdefault(number, name)
    for expected, number in enumerate(sorted(seen), start=1):
        if number != expected:
            findings.append(
                Finding(
                    seen[number], "", f"numbered {number} where {expected} is next (a gap)", f"number it {expected:04d}"
                )
            )
            break  # the rest follow from the first
    return findings


def integrity_findings(files: Mapping[str, bytes], sum_text: str | None) -> list[Finding]:
    """The integrity file against the migrations: present, readable, one current hash per file."""
    if sum_text is None:
        return [Finding(SUM_FILE, "", "missing", HASH_FIX)]
    try:
        recorded = parse(sum_text)
    except ValueError as error:
        return [Finding(SUM_FILE, "", f"unreadable: {error}", HASH_FIX)]
    findings = []
    for name in sorted(files):
        digest = recorded.hashes.get(name)
        if digest is None:
            findings.append(Finding(name, "", f"missing from {SUM_FILE}", HASH_FIX))
        elif digest != file_hash(files[name]):
            findings.append(Finding(name, "", f"changed since {SUM_FILE} was written (stale hash)", HASH_FIX))
    for name in sorted(set(recorded.hashes) - set(files)):
        findings.append(Finding(name, "", f"listed in {SUM_FILE} but not in worker/migrations/", HASH_FIX))
    if not findings and recorded.total != _total(recorded.hashes, recorded.edits):
        findings.append(Finding(SUM_FILE, "", "its sum does not match its lines (edited by hand?)", HASH_FIX))
    return findings


def base_findings(
    files: Mapping[str, bytes], base: Mapping[str, bytes], base_label: str, edits: tuple[Edit, ...]
) -> list[Finding]:
    """What reached the base stays as it is: same bytes (or a recorded edit), same name, and new
    files numbered after it."""
    findings = []
    for name in sorted(base):
        if name not in files:
            findings.append(
                Finding(
                    name,
                    "",
                    f"is on {base_label} but deleted or renamed here: databases keep it applied, and "
                    "wrangler would apply a renamed copy again",
                    "restore it under its name; undo its effect in a new migration",
                )
            )
            continue
        before, after = file_hash(base[name]), file_hash(files[name])
        if before != after and (name, before, after) not in {(e.name, e.before, e.after) for e in edits}:
            findings.append(
                Finding(
                    name,
                    "",
                    f"changed after it reached {base_label}: databases that applied it never see the edit",
                    f"{NEW_FILE_FIX}; a reviewed exception: "
                    f"`guruai-cache migrations hash --edited {name} --reason '<why it is safe>'`",
                )
            )
    last = max(base, default="")
    for name in sorted(set(files) - set(base)):
        if name < last:
            findings.append(
                Finding(
                    name,
                    "",
                    f"is new but sorts before {last}, which is on {base_label}: databases that have {last} "
                    "would apply it after it, new ones before",
                    "renumber it after the last migration on the base",
                )
            )
    return findings
