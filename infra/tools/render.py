"""`guruai-cache wrangler render`: the one writer of wrangler.toml.

It renders the local (top-level) section from the dev stack's settings and each
`[env.<stack>]` from that stack's `wrangler` output; `--local-only` re-renders the local
section and keeps the `[env.*]` sections already in the file (no Pulumi needed). Nothing
else writes the file: `guruai-cache local` checks it, and the deploy workflow proposes this
command's result as a pull request.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import paths
from infra.plan import wrangler_toml
from infra.settings import stack_file_settings
from infra.tools.errors import UserError
from infra.tools.stack_outputs import stack_outputs, wrangler_section

DEFAULT_STACKS = ("dev", "prod")
LOCAL_SETTINGS_STACK = "dev"  # local development mirrors the dev stack's settings


@dataclass(frozen=True)
class Rendered:
    text: str
    sections: tuple[str, ...]  # the [env.*] sections it holds


def existing_env_sections(path: Path) -> dict[str, Any]:
    """The [env.*] sections already rendered into `path` (none when there is no file)."""
    if not path.exists():
        return {}
    try:
        return wrangler_toml.env_sections_of(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise UserError(
            f"{path} is not valid TOML ({error}): delete it and run `guruai-cache wrangler render`"
        ) from None


def render_file(output: Path, stacks: list[str], outputs_files: Mapping[str, Path], local_only: bool) -> Rendered:
    if local_only:
        sections = existing_env_sections(output)
    else:
        sections = {name: wrangler_section(name, stack_outputs(name, outputs_files.get(name))) for name in stacks}
    text = wrangler_toml.render(stack_file_settings(LOCAL_SETTINGS_STACK), sections)
    return Rendered(text, tuple(sorted(sections)))


def write_atomically(path: Path, text: str) -> None:
    """Replace the file in one step: a running `wrangler dev` watches wrangler.toml and reloads on
    change, and must never read a half-written file (it would stop with "Missing entry-point")."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text)
    os.replace(partial, path)


def fix_command(output: Path, local_only: bool) -> str:
    """The command that brings `output` up to date, as `--check` was asked: with --local-only,
    one that needs no Pulumi (the [env.*] sections are kept)."""
    return " ".join(
        [
            "guruai-cache wrangler render",
            *(["--local-only"] if local_only else []),
            *([] if output == paths.WRANGLER_TOML else [f"--output {output}"]),
        ]
    )


def staleness(output: Path, rendered: Rendered) -> str | None:
    """A unified diff when the file on disk differs from `rendered`; None when it is current."""
    current = output.read_text() if output.exists() else ""
    if current == rendered.text:
        return None
    return "\n".join(
        difflib.unified_diff(current.splitlines(), rendered.text.splitlines(), str(output), "rendered", lineterm="")
    )
