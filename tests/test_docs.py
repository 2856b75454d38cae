"""The README and docs/: every relative link leads to a file, and every command they name exists."""

import re

import pytest

from infra import paths

GENERATED = {"policy/venv"}  # made by a command the page gives, git-ignored
PAGES = [paths.ROOT / "README.md", *sorted((paths.ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\((?!https?://|#)([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_lead_to_files(page):
    missing = [target for target in LINK.findall(page.read_text()) if not (page.parent / target).exists()]
    assert missing == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_named_repository_paths_exist(page):
    """`infra/...`, `worker/...`, `tests/...`, `bench/...` and `scripts/...` in backticks name real files."""
    named = re.findall(r"`((?:infra|worker|tests|bench|scripts|templates|policy)/[\w./-]*\w)`", page.read_text())
    assert [path for path in named if path not in GENERATED and not (paths.ROOT / path).exists()] == []


def test_the_readme_stays_short():
    assert len((paths.ROOT / "README.md").read_text().splitlines()) <= 80
