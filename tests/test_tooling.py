"""The lint and type-check set-up: the test command runs it, the pre-commit hooks run the same tools."""

import tomllib

import yaml

from infra import paths

TEST_SCRIPT = (paths.ROOT / "scripts" / "test.sh").read_text()


def test_the_test_command_lints_formats_and_type_checks():
    for command in (".venv/bin/ruff check", ".venv/bin/ruff format --check", ".venv/bin/mypy"):
        assert command in TEST_SCRIPT


def test_the_test_command_checks_the_teams_files_before_pytest():
    """The committed stack files are checked here, not read by the tests (they have tests/stacks)."""
    pytest_at = TEST_SCRIPT.index(".venv/bin/pytest")
    for command in (
        ".venv/bin/guruai-cache settings check",
        ".venv/bin/guruai-cache wrangler render --check --local-only",
    ):
        assert 0 <= TEST_SCRIPT.index(command) < pytest_at, command


def test_mypy_is_strict_on_the_package():
    config = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["strict"] is True and "infra" in config["files"]


def test_pre_commit_hooks_run_the_pinned_tools():
    hooks = yaml.safe_load((paths.ROOT / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    for hook in hooks:
        executable = paths.ROOT / hook["entry"].split()[0]
        assert executable.exists(), f"{hook['id']}: {executable} is not installed by scripts/setup.sh"
    assert {"ruff-check", "ruff-format", "mypy"} <= {hook["id"] for hook in hooks}


def test_every_imported_package_is_declared():
    """Third-party imports of infra/ are direct dependencies in pyproject.toml, not transitive luck."""
    import ast
    import sys

    declared = {
        name.split("==")[0].lower().replace("-", "_")
        for name in tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    import_names = {"yaml": "pyyaml", "pydantic_core": "pydantic"}
    imported = set()
    for path in (paths.ROOT / "infra").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = {name for name in imported if name not in sys.stdlib_module_names and name != "infra"}
    undeclared = sorted(name for name in third_party if import_names.get(name, name) not in declared)
    assert undeclared == []
