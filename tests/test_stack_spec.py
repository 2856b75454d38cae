"""`guruai-cache openapi --stack S`: the contract as one stack's Worker serves it, its tiers as
the enum of the fields that name one (issue 17, "Tiers in the spec"). tests/e2e/test_contract.py
runs schemathesis on it against the real Worker."""

from __future__ import annotations

import yaml
from openapi_spec_validator import validate
from typer.testing import CliRunner

from infra.plan.api import spec, stack_spec
from infra.settings import stack_file_settings
from infra.tools import cli


def openapi(*args: str):
    return CliRunner().invoke(cli.app, ["openapi", *args])


def test_the_stack_spec_names_the_stacks_tiers_where_a_request_or_answer_names_a_configured_tier():
    document = stack_spec(["free", "pro"])
    validate(document)
    schemas = document["components"]["schemas"]
    assert schemas["SubscriptionChange"]["properties"]["tier"]["enum"] == ["free", "pro"]
    assert schemas["Entitlements"]["properties"]["effectiveTier"]["enum"] == ["free", "pro"]
    assert schemas["Usage"]["properties"]["effectiveTier"]["enum"] == ["free", "pro"]
    assert schemas["Tiers"]["propertyNames"] == {"enum": ["free", "pro"]}
    # A stored subscription may name a tier a later deploy removed: its tier stays a free string.
    assert "enum" not in schemas["Subscription"]["properties"]["tier"]
    assert "enum" not in spec()["components"]["schemas"]["SubscriptionChange"]["properties"]["tier"]  # not mutated


def test_the_command_prints_the_stacks_spec_and_writes_it_to_a_file(tmp_path):
    tiers = [tier.name for tier in stack_file_settings("dev").tiers]  # tests/stacks
    printed = openapi("--stack", "dev")
    assert printed.exit_code == 0, printed.output
    assert "&id" not in printed.output  # no YAML anchors
    assert yaml.safe_load(printed.output) == stack_spec(tiers)
    target = tmp_path / "openapi.dev.yaml"
    written = openapi("--stack", "dev", "--output", str(target))
    assert written.exit_code == 0 and str(target) in written.output
    assert yaml.safe_load(target.read_text()) == stack_spec(tiers)


def test_bad_input_is_a_one_line_error_without_a_traceback(tmp_path):
    missing = openapi("--stack", "nowhere")
    assert missing.exit_code == 2 and "Pulumi.nowhere.yaml" in missing.output
    unwritable = openapi("--stack", "dev", "--output", str(tmp_path / "no" / "such" / "dir.yaml"))
    assert unwritable.exit_code == 2 and "--output" in unwritable.output
    for result in (missing, unwritable):
        assert "Traceback" not in result.output and not isinstance(result.exception, (KeyError, OSError))


def test_help_says_what_it_does():
    result = openapi("--help")
    assert result.exit_code == 0 and "tiers" in result.output and "--output" in result.output
