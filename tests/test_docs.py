"""The README and docs/: every relative link leads to a file, every command they name exists,
and the commands work as written after the README's set-up."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from infra import paths
from infra.tools import adopt, local, metrics, preflight, verify

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


ACTIVATE = "source .venv/bin/activate"
UV_ON_PATH = 'export PATH="$PATH:$PWD/.tools/bin"'
# A command that needs the project's virtualenv on PATH, as a line of a code block or inline code.
VENV_COMMAND = re.compile(
    r"^\s*(?:\w+=\S+\s+)*(guruai-cache [a-z]|python -m guruai_cache_client|client/examples/|pytest )"
)


def commands(page):
    """Code-block lines, then inline code spans that are commands (with options or arguments), in page order."""
    text, found, in_block = page.read_text(), [], False
    for number, line in enumerate(text.splitlines()):
        if line.startswith("```"):
            in_block = not in_block
        elif in_block:
            found.append((number, line))
        else:
            found += [(number, span) for span in re.findall(r"`([^`]+)`", line) if " -" in span or "-m " in span]
    return [(number, command) for number, command in found if VENV_COMMAND.match(command)]


def first_line_with(page, text):
    lines = [number for number, line in enumerate(page.read_text().splitlines()) if text in line]
    return lines[0] if lines else None


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_virtualenv_commands_come_after_the_line_that_activates_it(page):
    """`guruai-cache ...` is `command not found` after `scripts/setup.sh` alone: each page that gives
    one says how to activate the virtualenv first (the README's line)."""
    found = commands(page)
    if found:
        activated = first_line_with(page, ACTIVATE)
        assert activated is not None and activated < found[0][0], f"{found[0][1]!r} before `{ACTIVATE}`"


def test_the_readmes_activation_line_puts_the_documented_commands_on_path():
    readme = (paths.ROOT / "README.md").read_text()
    line = next(line for line in readme.splitlines() if line.startswith(ACTIVATE)).split("#")[0]
    venv_bin = (paths.ROOT / ".venv" / "bin").resolve()
    bare = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if Path(p).resolve() != venv_bin)
    script = (
        f"{line}\ncommand -v guruai-cache && python -m guruai_cache_client --help >/dev/null && guruai-cache --help"
    )
    result = subprocess.run(
        ["bash", "-c", script], cwd=paths.ROOT, env={**os.environ, "PATH": bare}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(paths.ROOT / ".venv" / "bin" / "guruai-cache"))


@pytest.mark.skipif(not (paths.ROOT / ".tools" / "bin" / "uv").exists(), reason="setup.sh found uv on PATH")
@pytest.mark.parametrize("page", ["README.md", "docs/deploying.md"])
def test_the_documented_path_line_finds_the_uv_setup_installed(page):
    """Pulumi's `toolchain: uv` runs `uv` from PATH; setup.sh may have installed it into .tools/bin."""
    assert UV_ON_PATH in (paths.ROOT / page).read_text()
    without_uv = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not shutil.which("uv", path=p))
    result = subprocess.run(
        ["bash", "-c", f"{ACTIVATE} && {UV_ON_PATH} && command -v uv && command -v python"],
        cwd=paths.ROOT, env={**os.environ, "PATH": without_uv}, capture_output=True, text=True,
    )  # fmt: skip
    assert result.stdout.splitlines() == [str(paths.ROOT / ".tools/bin/uv"), str(paths.ROOT / ".venv/bin/python")]


def test_local_development_counts_the_steps_guruai_cache_local_prints():
    page = (paths.ROOT / "docs" / "local-development.md").read_text()
    printed = 1 + local.PREPARE_STEPS + 1  # the build, the preparation, then wrangler dev: `==> [n/7]`
    words = {5: "five", 6: "six", 7: "seven"}
    assert f"in {words[printed]} steps" in page and f"`==> [{printed}/{printed}]`" in page
    assert re.findall(r"^(\d)\. ", page, re.MULTILINE) == [str(n) for n in range(1, printed + 1)]


def test_the_token_permissions_are_one_list_per_command_in_deploying():
    deploying = (paths.ROOT / "docs" / "deploying.md").read_text()
    rows = {
        row.split("|")[1].strip(): row.split("|")[2].strip() for row in deploying.splitlines() if row.startswith("| `")
    }
    assert rows["`guruai-cache verify`"] == verify.PERMISSIONS  # what the command's own errors ask for
    assert rows["`guruai-cache adopt`"] == adopt.PERMISSIONS
    assert rows["`guruai-cache metrics`"] == metrics.TOKEN_PERMISSION
    assert rows["`guruai-cache preflight`"] == preflight.PERMISSIONS
    for page in ("README.md", "docs/ci.md"):  # they link to it, and keep no list of their own
        text = (paths.ROOT / page).read_text()
        assert "deploying.md#the-cloudflare-api-token-what-each-command-needs" in text
        assert "Workers KV Storage" not in text


def test_deploying_says_what_the_provider_leaves_behind_and_how_to_check_for_drift():
    """Issue 16 item 17: schedules outlive a removed cron trigger; observability drift shows in a refreshed preview."""
    deploying = (paths.ROOT / "docs" / "deploying.md").read_text()
    cron = deploying.split("\n## The cron trigger goes only with its Worker\n", 1)[1].split("\n## ", 1)[0]
    assert "workers_cron_trigger/resource.go:191-193" in cron and "v5.22.0" in cron
    assert "/workers/scripts/$script/schedules" in cron and "--data '[]'" in cron
    drift = deploying.split("\n## After a stack's first deploy: a refreshed preview\n", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"^pulumi preview --stack \w+ --refresh --diff\b", drift, re.M)
    assert "terraform-provider-cloudflare/issues/7326" in drift and "observability" in drift
    first_steps = deploying.split("\n## First steps, once per repository\n", 1)[1].split("\n## ", 1)[0]
    assert "#after-a-stacks-first-deploy-a-refreshed-preview" in first_steps
