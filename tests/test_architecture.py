"""The package's layers import one way only, and the fast paths stay free of heavy imports.

bottom (paths, platform, names, worker_contract) <- settings <- plan <- cost <- stack (Pulumi glue);
tools (the CLI) sits beside stack and never imports it. Only stack and the program import Pulumi.
"""

import ast
import json
import subprocess
import sys

import pytest

from infra import paths

PACKAGE = paths.ROOT / "infra"
BOTTOM = {"infra.paths", "infra.platform", "infra.names", "infra.worker_contract"}
# layer -> the layers it may import (besides itself and the bottom modules)
MAY_IMPORT = {
    "bottom": set(),
    "settings": set(),
    "plan": {"settings"},
    "cost": {"settings", "plan"},
    "stack": {"settings", "plan", "cost"},
    "tools": {"settings", "plan", "cost"},
    "program": {"settings", "plan", "cost", "stack"},
}
PULUMI = {"pulumi", "pulumi_cloudflare", "pulumi_random", "pulumi_command"}


def layer_of(module: str) -> str:
    if module in BOTTOM:
        return "bottom"
    if module == "infra.__main__":
        return "program"
    return module.split(".")[1]


def modules() -> dict[str, set[str]]:
    """Each module of the package and what it imports (absolute names; `from infra import x` as infra.x)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(paths.ROOT).with_suffix("").parts).removesuffix(".__init__")
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
                if node.module == "infra":
                    imported |= {f"infra.{alias.name}" for alias in node.names}
        found[name] = imported
    return found


MODULES = {name: imports for name, imports in modules().items() if name != "infra"}


def test_every_module_belongs_to_a_known_layer():
    assert {layer_of(name) for name in MODULES} <= set(MAY_IMPORT)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_one_way(module):
    layer = layer_of(module)
    allowed = MAY_IMPORT[layer] | {layer, "bottom"}
    upward = sorted(
        i for i in MODULES[module] if i.startswith("infra.") and i != "infra" and layer_of(i) not in allowed
    )
    assert upward == [], f"{module} ({layer}) imports {upward}"
    roots = {i.split(".")[0] for i in MODULES[module]}
    if layer not in ("stack", "program"):
        assert not roots & PULUMI, f"{module} ({layer}) imports Pulumi: only infra/stack may"


def test_the_check_catches_an_upward_import():
    assert layer_of("infra.stack.component") not in MAY_IMPORT["plan"] | {"plan", "bottom"}
    assert layer_of("infra.tools.cli") not in MAY_IMPORT["settings"] | {"settings", "bottom"}


def heavy_modules_after(statement: str) -> list[str]:
    code = f"import sys; {statement}; print(__import__('json').dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    heavy = PULUMI | {"cloudflare", "httpx", "rich.table", "tomlkit", "cronsim"}
    return sorted(m for m in loaded if m in heavy)


def test_the_cli_starts_without_the_provider_sdks():
    """`--help` pays for typer only; each command imports what it needs (bench/cli_startup.py times it)."""
    assert heavy_modules_after("import infra.tools.cli") == []


def test_settings_check_needs_no_pulumi_nor_cloudflare():
    fixtures = str(paths.STACKS_DIR)  # the tests' own stack files, in the subprocess too
    loaded = heavy_modules_after(
        f"import pathlib, infra.tools.cli, infra.settings; from infra import paths; paths.STACKS_DIR = pathlib.Path({fixtures!r}); "
        "infra.settings.stack_file_settings('dev')"
    )
    assert loaded == ["cronsim"]
