"""Reading the repository's lock files in tests: uv.lock, and pip requirements files with hashes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from infra.paths import ROOT


def locked_versions() -> dict[str, str]:
    """name -> version of every package in uv.lock."""
    return {p["name"]: p["version"] for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]}


def requirement_blocks(path: Path) -> dict[str, tuple[str, set[str]]]:
    """name -> (version, {sha256 hashes}) of a pip requirements file with --hash options."""
    found = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", path.read_text()):
        match = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", block)
        if match:
            found[match.group(1).lower()] = (match.group(2), set(re.findall(r"--hash=sha256:([0-9a-f]{64})", block)))
    return found
