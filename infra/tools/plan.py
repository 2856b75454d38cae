"""`guruai-cache plan`: a stack's plan document, made by the program itself under its mocks.

The program runs in a subprocess (`python -m infra.stack.offline`): this layer does not import
Pulumi, and for `--against REF` the program that runs is the ref's own, from that ref's files (a
`git archive` in a temporary folder, removed afterwards), with this virtualenv. The subprocess
gets no credentials: every CLOUDFLARE_* and PULUMI_* variable is left out of its environment.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from infra import paths
from infra.tools import git_refs
from infra.tools.errors import UserError

RUNNER = "infra.stack.offline"
RUNNER_FILE = Path("infra", "stack", "offline.py")
BUNDLE = Path("worker", "dist", "worker.js")
TIMEOUT = 600  # seconds; a plan takes a few


def _environment(root: Path) -> dict[str, str]:
    """This process's environment without credentials, the tree's `infra` first on the path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CLOUDFLARE_", "PULUMI_"))}
    # The SDKs' DeprecationWarnings would bury the program's own error list on stderr.
    return {**env, "PYTHONPATH": str(root), "PYTHONWARNINGS": "ignore"}


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def plan_of_tree(root: Path, stack: str, stacks_dir: Path, label: str) -> dict[str, Any]:
    """The plan document the program in `root` makes for `stack` (its file in `stacks_dir`)."""
    if not (root / BUNDLE).exists():
        raise UserError(f"{label}: {BUNDLE.as_posix()} is missing: run `guruai-cache worker build` first")
    command = [sys.executable, "-m", RUNNER, "--stack", stack, "--stacks-dir", str(stacks_dir)]
    result = subprocess.run(
        command, cwd=root, env=_environment(root), capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    if result.returncode == 2:  # the program's own error: invalid settings, or what the provider refuses
        raise UserError(result.stderr.strip())
    if result.returncode != 0:
        raise UserError(f"{label}: the program failed under the mocks:\n{_tail(result.stderr)}")
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def current_plan(stack: str) -> dict[str, Any]:
    """The plan of the files on disk (the working tree)."""
    return plan_of_tree(paths.ROOT, stack, paths.STACKS_DIR, "the working tree")


@contextmanager
def tree_at(ref: str, root: Path = paths.ROOT) -> Iterator[Path]:
    """The files of `ref` in a temporary folder (removed afterwards), its Worker bundled by its own
    `guruai-cache worker build` with this checkout's node_modules (the bundle is not committed)."""
    archive = git_refs.git(root, "archive", "--format=tar", git_refs.given_commit(root, ref), timeout=TIMEOUT)
    if archive.returncode != 0:
        raise UserError(f"--against {ref}: git archive failed: {_tail(archive.stderr.decode())}")
    folder = Path(tempfile.mkdtemp(prefix="guruai-plan-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(folder, filter="data")
        if not (folder / RUNNER_FILE).exists():
            raise UserError(
                f"--against {ref}: its program is too old to plan: it has no {RUNNER_FILE.as_posix()} "
                "(the runner `guruai-cache plan` uses); compare with a ref that has it"
            )
        if (root / "node_modules").is_dir():
            (folder / "node_modules").symlink_to(root / "node_modules", target_is_directory=True)
        build = subprocess.run(
            [sys.executable, "-m", "infra.tools.cli", "worker", "build"],
            cwd=folder,
            env=_environment(folder),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        if build.returncode != 0:
            raise UserError(f"--against {ref}: building its Worker failed:\n{_tail(build.stderr or build.stdout)}")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def plan_at(ref: str, stack: str) -> dict[str, Any]:
    """The plan `ref`'s program makes from `ref`'s stack files (the same folder, relative to the root)."""
    with tree_at(ref) as folder:
        try:
            stacks_dir = folder / paths.STACKS_DIR.resolve().relative_to(paths.ROOT)
        except ValueError:  # stack files outside the repository: the same ones on both sides
            stacks_dir = paths.STACKS_DIR
        return plan_of_tree(folder, stack, stacks_dir, ref)
