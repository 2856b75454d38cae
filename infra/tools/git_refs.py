"""The git calls `plan --against` and `migrations check --against` share: a command in the
repository, and a ref resolved to its commit with one error for a ref the clone lacks."""

from __future__ import annotations

import subprocess
from pathlib import Path

from infra.tools.errors import UserError


def git(root: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=timeout, check=False)


def commit_of(root: Path, ref: str) -> str | None:
    """The commit `ref` names, or None when this clone has no such commit."""
    found = git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return found.stdout.decode().strip() if found.returncode == 0 else None


def given_commit(root: Path, ref: str) -> str:
    """The commit an `--against` ref names; a ref the clone lacks is the user's to fetch."""
    commit = commit_of(root, ref)
    if commit is None:
        raise UserError(f"--against {ref}: no such commit in this repository (fetch it first: `git fetch origin`)")
    return commit
