"""What users read when something is off: settings errors in the project's words (never
pydantic's), warnings `settings check` owes, and CLI errors that name the option the user typed
and a fix that works as given. Each test's stack files are its own (tmp_path)."""

from __future__ import annotations

import datetime as dt
import typing

import pytest
from pydantic import BaseModel, ValidationError
from typer.testing import CliRunner

from infra import paths
from infra.settings import Settings, SettingsError, load_settings
from infra.settings.base import SeveralProblems
from infra.settings.errors import WORDS
from infra.tools import cli, local_clients
from infra.worker_contract import CLIENTS_SECRET

# pydantic's own phrases: none may reach a user.
PYDANTIC_WORDING = ("Input should", "Field required", "Extra inputs", "Value error", "String should", "instance of")
# A bad value of every kind a stack file or `pulumi config set` can give.
BAD_VALUES = [
    "abc", "", "-5", 1.5, -1, 0, 10**30, True, None, [], {}, [1], {"a": 1},
    float("nan"), float("inf"), "x" * 300, dt.date(2026, 4, 1),
]  # fmt: skip
DIGEST = "ab" * 32


def _models_below(annotation: object) -> list[tuple[tuple[object, ...], type[BaseModel]]]:
    """The settings models inside a field's type, with the path to one of their places:
    `tuple[Tier, ...]` -> ((0,), Tier); `dict[str, FeatureFlag]` -> (("x",), FeatureFlag)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [((), annotation)]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is tuple:
        return [((0, *path), model) for path, model in _models_below(args[0])]
    if origin is dict:
        return [(("x", *path), model) for path, model in _models_below(args[1])]
    return [found for arg in args for found in _models_below(arg)]  # unions: X | None


def setting_places(model: type[BaseModel] = Settings, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every setting's place in a config document, nested ones included (list items, map entries)."""
    places = []
    for name, field in model.model_fields.items():
        here = (*prefix, field.alias or name)
        places.append(here)
        for path, inner in _models_below(field.annotation):
            places.append((*here, *path))
            places += setting_places(inner, (*here, *path))
    return places


def document(place: tuple[object, ...], value: object) -> object:
    for part in reversed(place):
        value = [value] if isinstance(part, int) else {part: value}
    return value


def every_bad_document() -> list[dict[str, object]]:
    found = [document(place, value) for place in setting_places() for value in BAD_VALUES]
    return [doc for doc in found if isinstance(doc, dict)]


def test_every_error_type_the_settings_produce_has_the_projects_words():
    """pydantic's error types that reach users, found by feeding every setting bad values of every
    kind: each has its words in infra/settings/errors.py (a new setting or type fails here)."""
    unworded = set()
    for doc in every_bad_document():
        try:
            Settings.model_validate(doc, context={"require_account": False, "stack": "dev"})
        except ValidationError as error:
            for err in error.errors(include_url=False):
                own = err["type"] == "setting" or isinstance((err.get("ctx") or {}).get("error"), SeveralProblems)
                if not own and err["type"] not in WORDS:
                    unworded.add((err["type"], err["msg"]))
    assert unworded == set()


def test_no_bad_value_of_any_setting_is_reported_in_pydantics_words():
    reports = []
    for doc in every_bad_document():
        try:
            load_settings(doc, stack="dev", require_account=False, env={})
        except SettingsError as error:
            reports.append(str(error))
    assert len(reports) > 500  # the walk did reach the settings
    assert [r for r in reports if any(phrase in r for phrase in PYDANTIC_WORDING)] == []


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        (
            {"traffic": {"activeUsers": 1.5}},
            "traffic.activeUsers: not a whole number (got 1.5); fix: use a whole number",
        ),
        (
            {"ttls": {"subscription": "abc"}},
            "ttls.subscription: not a whole number (got 'abc'); fix: use a whole number",
        ),
        ({"cron": 5}, "cron: not a string (got 5); fix: write it as a string (in a stack file, in quotes)"),
        ({"workersDev": "maybe"}, "workersDev: not true or false (got 'maybe'); fix: use true or false"),
        ({"tiers": [{"name": "team"}]}, 'tiers[0].monthlyPrice: missing (got {"name": "team"}); fix: set it'),
        (
            {"clients": {"app": {"scopes": ["admin"], "tokenSha256": DIGEST}}},
            "clients.app.scopes[0]: not one of the accepted values (got 'admin'); fix: use one of 'read', 'usage' or 'write'",
        ),
        (
            {"featureFlags": {1: True}},
            "featureFlags.1: its name is not a string (got 1); fix: write the name as a string",
        ),
    ],
)
def test_bad_values_read_in_the_projects_words(raw, line):
    with pytest.raises(SettingsError) as caught:
        load_settings(raw, stack="dev", require_account=False, env={})
    assert line in str(caught.value)


def test_a_missing_account_id_is_fixed_for_the_stack_at_hand():
    with pytest.raises(SettingsError) as caught:
        load_settings({}, stack="eu-prod", env={})
    assert "`pulumi config set accountId <32-hex id> --stack eu-prod`" in str(caught.value)


# --- settings check, on stack files of the test's own -------------------------------------------


@pytest.fixture
def stacks(tmp_path, monkeypatch):
    """Write Pulumi.<stack>.yaml files into a folder of the test's own, which the settings read."""
    monkeypatch.setattr(paths, "stack_file", lambda stack: tmp_path / f"Pulumi.{stack}.yaml")

    def write(**files: str) -> None:
        for stack, text in files.items():
            (tmp_path / f"Pulumi.{stack}.yaml").write_text("config:\n" + text)

    return write


def settings_check(*stacks: str):
    return CliRunner().invoke(cli.app, ["settings", "check", *(f"--stack={s}" for s in stacks)])


CLIENT = f"  guruai-cache:clients:\n    app: {DIGEST}\n"
# A production stack's clients say their scopes (the shorthand is refused there).
PROD_CLIENT = f"  guruai-cache:clients:\n    app:\n      scopes: [read]\n      tokenSha256: {DIGEST}\n"


def test_settings_check_warns_about_a_stack_without_clients(stacks):
    stacks(dev="  guruai-cache:cron: '0 4 * * *'\n", prod=PROD_CLIENT)
    result = settings_check("dev", "prod")
    assert result.exit_code == 0, result.output
    dev, prod = result.output.split("prod: settings valid")
    assert "warning: deprecated setting no `clients` set" in dev  # the generated all-scope token
    assert "Define `clients`" in dev
    assert "warning" not in prod


def test_settings_check_says_a_production_stack_without_clients_cannot_deploy_yet(stacks):
    # The tests' own prod file without its clients, as the team's is before they make them: valid
    # settings (CI's check of the team's files passes), but preflight, preview and up stop on it.
    prod = (paths.STACKS_DIR / "Pulumi.prod.yaml").read_text().split("  guruai-cache:clients:")[0]
    stacks(prod=prod.split("config:\n", 1)[1])
    result = settings_check("prod")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("  before deploying: ")]
    assert lines == [
        "  before deploying: clients: none in a production stack, which gets no generated token with every scope "
        "(got {}); fix: run `python -m guruai_cache_client new-token --name <app> --scope read ...` (one --scope "
        "per scope it needs) and the `pulumi config set` lines it prints, with --stack prod"
    ]
    assert "generated service token" not in result.output  # no generated token to warn about in production


@pytest.mark.parametrize(
    ("prod", "key", "fix"),
    [
        (CLIENT, "clients.app: the every-scope shorthand", "write the long form with the scopes it needs"),
        (
            PROD_CLIENT + "  guruai-cache:serviceToken:\n    secure: v1:AAAA:BBBB\n",
            "serviceToken: a token with every scope is refused in a production stack",
            "pulumi config rm serviceToken",
        ),
    ],
)
def test_settings_check_refuses_every_scope_tokens_in_production_only(stacks, prod, key, fix):
    stacks(prod=prod, staging=prod)  # staging: not production, the same file passes (with a warning at most)
    result = settings_check("prod", "staging")
    assert result.exit_code == 2
    assert f"  - {key}" in result.output and fix in result.output
    assert "staging: settings valid" in result.output
    assert "v1:AAAA" not in result.output


def test_settings_check_warns_about_an_encrypted_service_token(stacks):
    stacks(dev=CLIENT + "  guruai-cache:serviceToken:\n    secure: v1:AAAA:BBBB\n")
    result = settings_check("dev")
    assert result.exit_code == 0, result.output
    assert "warning: deprecated setting serviceToken: one token with every scope" in result.output
    assert "v1:AAAA" not in result.output


def test_settings_check_reads_plain_values_as_text_as_pulumi_does(stacks):
    """Pulumi hands a stack file's plain value to the program as its text: an unquoted date or
    a number is no error there, so it is none here either."""
    stacks(dev=CLIENT + "  guruai-cache:compatibilityDate: 2026-01-15\n  guruai-cache:usageRetentionDays: 40\n")
    result = settings_check("dev")
    assert result.exit_code == 0 and "dev: settings valid" in result.output, result.output


# --- estimate --traffic ---------------------------------------------------------------------------


def test_a_bad_traffic_option_names_the_option_and_the_fix_on_the_command_line(stacks):
    stacks(dev="  guruai-cache:traffic:\n    activeUsers: 20\n")
    result = CliRunner().invoke(
        cli.app, ["estimate", "-t", "activeUsers=abc", "-t", "cachehitratio=0.5", "-t", "colour=blue"]
    )
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0] == "error: --traffic: 3 invalid values"
    assert "--traffic activeUsers: not a whole number (got abc); fix: use a whole number" in lines[1]
    assert "(the stack's value: --traffic activeUsers=20)" in lines[1]
    assert "--traffic cachehitratio: not a traffic key; fix: did you mean cacheHitRatio?" in lines[2]
    assert lines[3].startswith(
        "  - --traffic colour: not a traffic key; fix: use one of the traffic keys: activeUsers,"
    )
    assert "pulumi config" not in result.output and "traffic." not in result.output


# --- fixes that work as given ------------------------------------------------------------------------


def test_a_stale_local_part_is_fixed_by_the_local_only_render_that_needs_no_pulumi(stacks, tmp_path):
    stacks(dev=CLIENT)
    stale = tmp_path / "wrangler.toml"
    stale.write_text("# stale\n")
    result = CliRunner().invoke(cli.app, ["wrangler", "render", "--check", "--local-only", "--output", str(stale)])
    assert result.exit_code == 1
    assert f"is stale: run `guruai-cache wrangler render --local-only --output {stale}`" in result.output
    fixed = CliRunner().invoke(cli.app, ["wrangler", "render", "--local-only", "--output", str(stale)])
    assert fixed.exit_code == 0
    assert (
        CliRunner().invoke(cli.app, ["wrangler", "render", "--check", "--local-only", "--output", str(stale)]).exit_code
        == 0
    )


def test_verify_takes_a_file_path_and_says_so(stacks, tmp_path, monkeypatch):
    stacks(dev=CLIENT)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "not-used-before-the-outputs-are-read")
    help_text = " ".join(CliRunner().invoke(cli.app, ["verify", "--help"], env={"COLUMNS": "200"}).output.split())
    assert "--outputs FILE" in help_text and "pulumi stack output --json" in help_text
    missing = tmp_path / "dev-outputs.json"
    result = CliRunner().invoke(cli.app, ["verify", "--stack", "dev", "--outputs", str(missing)])
    assert result.exit_code == 2
    assert f"error: --outputs {missing}: not readable JSON" in result.output  # not `--outputs dev=...`


def test_local_help_says_what_the_command_writes():
    text = " ".join(CliRunner().invoke(cli.app, ["local", "--help"], env={"COLUMNS": "200"}).output.split())
    assert local_clients.TOKENS_FILE in text and f"the {CLIENTS_SECRET} secret in .dev.vars" in text
    assert "service token" not in text
