"""`guruai-cache estimate`: the model's figures as JSON and as a table, --traffic and --kv-counter,
and user mistakes in one line."""

import json

import pytest
from cost_cases import meter, settings_with
from typer.testing import CliRunner

from infra import paths
from infra import platform as pricing
from infra.cost import estimate as cost
from infra.cost import operations
from infra.settings import stack_file_settings
from infra.tools import cli


def invoke(*args):
    return CliRunner().invoke(cli.app, ["estimate", *args], env={"COLUMNS": "100"})


def test_estimate_json_is_the_models_figures():
    result = invoke("--stack", "prod", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    expected = cost.estimate(stack_file_settings("prod"))
    assert printed["stack"] == "prod"
    for each in expected.meters:
        assert printed["meters"][each.key]["daily"] == pytest.approx(each.daily, abs=1e-3)
        assert printed["meters"][each.key]["monthly"] == pytest.approx(each.monthly, abs=1e-3)
        assert printed["meters"][each.key]["freeDailyLimit"] == each.free_daily_limit
    assert printed["overFreeLimits"] == [m.key for m in expected.over_free_limits]
    assert printed["paidMonthlyUsd"] == pytest.approx(expected.paid_monthly_usd, abs=0.005)
    assert printed["pricesReadOn"] == pricing.PRICES_READ_ON.isoformat()


def test_estimate_prints_a_table_with_daily_figures_limits_and_the_bill():
    result = invoke("--stack", "prod")
    assert result.exit_code == 0, result.output
    expected = cost.estimate(stack_file_settings("prod"))
    writes = meter(expected, "kv_writes")
    row = next(line for line in result.output.splitlines() if line.strip().startswith("KV writes"))
    assert f"{writes.daily:,.0f}" in row and f"{writes.utilisation:.1%}" in row
    assert f"used up by {cost.utc_clock(writes.exhausted_after_s)} UTC" in result.output
    assert f"Workers Paid: ${expected.paid_monthly_usd:,.2f} a month" in result.output
    printed = " ".join(result.output.split())
    assert (
        f"at random times over the day the subscription TTL would give {expected.random_arrival_hit_ratio:.1%}"
        in printed
    )
    assert expected.kv_fallback is not None
    assert f"from {cost.utc_clock(expected.kv_fallback.after_s)} UTC, with the KV writes gone" in printed


def test_estimate_kv_counter_prices_the_guides_limiter(monkeypatch, tmp_path):
    stack_file = tmp_path / "Pulumi.busy.yaml"
    stack_file.write_text("config:\n  guruai-cache:traffic:\n    usageCallsPerUserPerDay: 10\n")
    monkeypatch.setattr(paths, "STACKS_DIR", tmp_path)
    in_d1 = json.loads(invoke("--stack", "busy", "--json").output)
    kv_counter = json.loads(invoke("--stack", "busy", "--json", "--kv-counter").output)
    assert kv_counter["usageStore"] == "kv-counter"
    table = operations.load_operations()
    usage = 10_000 * 10  # default users and hit ratio (0.9)
    miss_adds = table["subscription_get_miss"]["kv_writes"] - table["subscription_get_hit"]["kv_writes"]
    in_d1_usage_writes = usage * table["usage_post_allowed"]["kv_writes"] + usage * 0.1 * miss_adds
    added = kv_counter["meters"]["kv_writes"]["daily"] - in_d1["meters"]["kv_writes"]["daily"]
    assert added == pytest.approx(usage - in_d1_usage_writes)


def test_estimate_traffic_option_tries_other_figures_validated_like_the_stacks():
    tried = json.loads(
        invoke("--stack", "prod", "--json", "-t", "activeUsers=500", "--traffic", "workersPlan=paid").output
    )
    expected = cost.estimate(settings_with({"activeUsers": 500, "workersPlan": "paid"}))
    assert tried["traffic"]["activeUsers"] == 500 and tried["traffic"]["workersPlan"] == "paid"
    assert tried["meters"]["kv_reads"]["daily"] == pytest.approx(meter(expected, "kv_reads").daily)
    bad = invoke("--stack", "prod", "-t", "cacheHitRatio=90")
    assert bad.exit_code == 2
    assert "--traffic cacheHitRatio: a share must lie between 0 and 1 (got 90)" in bad.output
    assert "traffic.cacheHitRatio" not in bad.output and "pulumi config" not in bad.output  # the option, not the file
    malformed = invoke("--stack", "prod", "-t", "activeUsers")
    assert malformed.exit_code == 2 and "expected KEY=VALUE" in malformed.output


def test_a_boolean_on_the_command_line_is_refused_not_read_as_one_user():
    result = invoke("--stack", "dev", "-t", "activeUsers=true")
    assert result.exit_code == 2
    assert "--traffic activeUsers: a boolean is not a number (got true)" in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            "config:\n  guruai-cache:traffic:\n    cacheHitRatio: 95\n",
            "traffic.cacheHitRatio: a share must lie between 0 and 1",
        ),
        (None, "Pulumi.typo.yaml not found"),
    ],
)
def test_estimate_mistakes_are_one_line_and_exit_2(monkeypatch, tmp_path, yaml_text, message):
    if yaml_text is not None:
        (tmp_path / "Pulumi.typo.yaml").write_text(yaml_text)
    monkeypatch.setattr(paths, "STACKS_DIR", tmp_path)
    result = invoke("--stack", "typo")
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_estimate_without_the_operations_table_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(paths, "OPERATIONS_TABLE", tmp_path / "operations.json")
    result = invoke("--stack", "dev")
    assert result.exit_code == 2
    assert "operations.json not found" in result.output
