import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pulumi_mocks import ProgramRun, run_program

from infra import paths

# The tests' own stack settings. The team's Pulumi.<stack>.yaml at the root are checked by
# scripts/test.sh ("the team's files"), never test fixtures: a team adding a tier must not break a test.
FIXTURE_STACKS = Path(__file__).resolve().parent / "stacks"
_team_files_allowed = False


def is_team_stack_file(path: str) -> bool:
    """Pulumi.<stack>.yaml at the repository root (Pulumi.yaml, the project file, is no stack's)."""
    folder, name = os.path.split(os.path.abspath(path))
    return folder == str(paths.ROOT) and name.startswith("Pulumi.") and name.endswith(".yaml") and name != "Pulumi.yaml"


def _refuse_the_team_stack_files(event: str, args: tuple) -> None:
    """An audit hook: opening the team's stack files in this process fails the test that does it
    (at collection too), so no test comes to depend on the team's settings by accident."""
    if event == "open" and not _team_files_allowed and isinstance(args[0], (str, os.PathLike)):
        path = os.fspath(args[0])
        if isinstance(path, str) and is_team_stack_file(path):
            raise AssertionError(
                f"a test read the team's {Path(path).name}: tests use their own stack settings, "
                f"tests/stacks/ (paths.stack_file), or the fixture `team_stack_files`"
            )


sys.addaudithook(_refuse_the_team_stack_files)


@pytest.fixture(scope="session", autouse=True)
def fixture_stacks() -> Iterator[Path]:
    """Every reader of stack files (paths.STACKS_DIR) reads tests/stacks for the whole session."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paths, "STACKS_DIR", FIXTURE_STACKS)
        yield FIXTURE_STACKS


@pytest.fixture
def team_stack_files() -> Iterator[list[Path]]:
    """The team's committed stack files, for a test about the repository itself (not their settings)."""
    global _team_files_allowed  # noqa: PLW0603 -- the audit hook cannot be removed, only told
    _team_files_allowed = True
    try:
        yield sorted(paths.ROOT.glob("Pulumi.*.yaml"))
    finally:
        _team_files_allowed = False


@pytest.fixture(scope="session")
def dev_run() -> ProgramRun:
    return run_program("dev")


@pytest.fixture(scope="session")
def prod_run() -> ProgramRun:
    return run_program("prod")
