"""A deployed stack's outputs: from a saved `pulumi stack output --json`, or by asking the Pulumi CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from infra.paths import ROOT
from infra.plan.outputs import StackOutputs
from infra.tools.errors import UserError


def stack_outputs(stack: str, outputs_file: Path | None, *, per_stack_option: bool = True) -> dict[str, Any]:
    """`per_stack_option`: the command takes `--outputs STACK=FILE` (render), else `--outputs FILE` (verify);
    the messages spell the option as it was given."""
    prefix = f"{stack}=" if per_stack_option else ""
    if outputs_file is not None:
        try:
            loaded = json.loads(outputs_file.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise UserError(f"--outputs {prefix}{outputs_file}: not readable JSON ({error})") from None
        if not isinstance(loaded, dict):
            raise UserError(
                f"--outputs {prefix}{outputs_file}: not the JSON object `pulumi stack output --json` prints"
            )
        return loaded
    if shutil.which("pulumi") is None:
        raise UserError(
            "the pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/), "
            f"or pass --outputs {prefix}<file of `pulumi stack output --json --stack {stack}`>"
        )
    result = subprocess.run(
        ["pulumi", "stack", "output", "--json", "--stack", stack], cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise UserError(f"`pulumi stack output --stack {stack}` failed: {result.stderr.strip()}")
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def wrangler_section(stack: str, outputs: dict[str, Any]) -> dict[str, Any]:
    """The stack's [env.<stack>] of wrangler.toml, as the program exported it."""
    section = StackOutputs.from_exported(outputs).wrangler
    if not isinstance(section, dict):
        raise UserError(f"stack {stack!r} has no `wrangler` output: run `pulumi up --stack {stack}` first")
    return section
