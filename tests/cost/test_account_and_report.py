"""The account view (Free limits are per account), the burst limit, and the estimate as the
person who pays reads it: the verdict first, 80 columns, one number format, 100 % flagged."""

import json
import re

import pytest
from cost_cases import GUIDE, daily, settings_with, small_app
from typer.testing import CliRunner

from infra import paths
from infra import platform as pricing
from infra.cost import estimate as cost
from infra.cost.account import account_estimate, peak_requests_per_minute
from infra.cost.free_plan import free_plan_warnings
from infra.tools import cli


def invoke(*args):
    return CliRunner().invoke(cli.app, ["estimate", *args], env={"COLUMNS": "200"})


def limit(account, label):
    return next(x for x in account.limits if x.label.startswith(label))


def test_stacks_on_one_account_share_its_free_kv_writes_and_a_deploys_seed_writes_count(table):
    """Two stacks each at 600 KV writes a day fit alone; together they do not. A deploy's seed
    writes come on top of the day's."""
    traffic = {**small_app(0), "cacheHitRatio": 0.95}  # 10,000 checks: 500 misses + 10 updates
    one = cost.estimate(settings_with(traffic), table)
    writes = next(m.daily for m in one.meters if m.key == "kv_writes")
    assert 400 < writes < 1_000 and not one.over_free_limits
    account = account_estimate({"dev": (one, 5), "prod": (one, 7)})
    shared = limit(account, "KV writes")
    assert shared.amount == pytest.approx(2 * writes + 12) and shared.over
    assert shared in account.crossed


def test_the_free_plans_thousand_requests_a_minute_is_checked_at_the_busiest_minute(table):
    even = cost.estimate(settings_with(GUIDE), table)
    assert peak_requests_per_minute(even) == pytest.approx(100_101 / 1_440)
    peaky = cost.estimate(settings_with({**GUIDE, "peakToAverage": 20}), table)
    assert peak_requests_per_minute(peaky) == pytest.approx(20 * 100_101 / 1_440)  # 1,390 a minute
    assert any("busiest minute" in line for line in free_plan_warnings(peaky))
    assert not any("busiest minute" in line for line in free_plan_warnings(even))
    account = account_estimate({"prod": (peaky, 0)})
    assert limit(account, "Worker requests, busiest minute").over


def test_the_account_option_sums_the_committed_stacks_on_the_same_account(monkeypatch, tmp_path):
    for name, users in (("a", 600), ("b", 600), ("c", 600)):
        account = "1" * 32 if name != "c" else "2" * 32
        (tmp_path / f"Pulumi.{name}.yaml").write_text(
            f"config:\n  guruai-cache:accountId: '{account}'\n  guruai-cache:traffic:\n"
            f"    activeUsers: {users}\n    cacheHitRatio: 0.95\n"
        )
    monkeypatch.setattr(paths, "STACKS_DIR", tmp_path)
    printed = json.loads(invoke("--stack", "a", "--json", "--account").output)
    assert printed["account"]["stacks"] == ["a", "b"]  # c is on another account
    writes = next(x for x in printed["account"]["limits"] if x["limit"].startswith("KV writes"))
    alone = printed["meters"]["kv_writes"]["daily"]
    assert writes["amount"] == pytest.approx(2 * alone + printed["account"]["seedWritesPerDeploy"], abs=0.01)
    text = invoke("--stack", "a", "--account").output
    assert "Free plan limits shared by a, b" in text


def test_the_verdict_comes_first_and_every_line_fits_80_columns():
    result = invoke("--stack", "prod")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Bill: $5.00 to $14.50 a month on Workers Paid")
    assert any(line.startswith("First limit: KV writes, today, used up by 02:24 UTC") for line in lines[:4])
    assert max(len(line.rstrip()) for line in lines) <= 80


def test_one_number_format_in_the_table():
    output = invoke("--stack", "prod", "-t", "workersPlan=paid").output
    millions = re.findall(r"\b(\d+(?:\.\d+)?) M\b", output)
    assert millions and all(re.fullmatch(r"\d+\.\d\d", m) for m in millions), millions


def test_usage_at_exactly_100_percent_is_flagged(table):
    """The guide's 100,000 KV reads a day are the Free plan's 100,000 to the read: flagged, not passed."""
    result = cost.estimate(settings_with(GUIDE), table)
    reads = next(m for m in result.meters if m.key == "kv_reads")
    assert reads.utilisation == pytest.approx(1.0) and not reads.over_free_limit and reads.at_free_limit
    assert any(line.startswith("KV reads: exactly at the free plan's limit") for line in free_plan_warnings(result))
    row = next(line for line in invoke("--stack", "prod").output.splitlines() if line.strip().startswith("KV reads"))
    assert "100.0% !" in row


def test_a_paid_stack_prints_no_free_plan_warnings_nor_maintainer_notes():
    output = invoke("--stack", "prod", "-t", "workersPlan=paid").output
    assert "Free plan" not in output and "free plan" not in output
    assert "infra/platform.py" not in output and "re-read" not in output
    free = invoke("--stack", "prod").output
    assert "infra/platform.py" not in free
    assert pricing.WORKERS_FREE_REQUESTS_PER_MINUTE == 1_000


def test_finops_views_price_the_same_model_across_hit_ratios_users_months_and_designs(table):
    from infra.cost import views

    settings = settings_with({**GUIDE, "monthlyUserGrowth": 0.2})
    result = cost.estimate(settings, table)
    grid = views.sensitivity(settings, result, table)
    assert grid.users == (5_000, 10_000, 20_000, 50_000, 100_000)
    # The expected users at the random-arrival and the assumed ratio: the verdict's range.
    column = grid.users.index(10_000)
    assert grid.bills[0][column] == pytest.approx(result.paid_range_usd[1])
    assert grid.bills[grid.hit_ratios.index(0.9)][column] == pytest.approx(result.paid_range_usd[0])
    # More users never cost less, nor a lower hit ratio.
    assert all(list(row) == sorted(row) for row in grid.bills)
    assert all(grid.bills[i][j] >= grid.bills[i + 1][j] for i in range(len(grid.bills) - 1) for j in range(5))
    months = views.growth(settings, table)
    assert months[12].active_users == cost.users_on_day(settings.traffic, 360)
    assert months[12].paid_usd == pytest.approx(views.paid_bill(settings, table, users=months[12].active_users))
    this, counter, _, d1_only = views.designs(settings_with({**GUIDE, "usageCallsPerUserPerDay": 10}), table)
    assert counter.paid_usd > this.paid_usd  # a KV write per usage call
    # Without the cache every lookup is a D1 query and no KV operation is made.
    no_cache = views.d1_only_alternative(table)
    assert all(ops[kind] == 0 for ops in no_cache.values() for kind in ("kv_reads", "kv_writes"))
    assert d1_only.paid_usd >= 5.0


def test_the_guides_own_worker_is_priced_in_full_beside_this_design_and_d1_alone(table):
    """The seed guide's Worker (bench/guide-worker/): its cached `null` never hits, so each lookup of
    a user without a subscription reads KV, reads D1 and writes KV; usage in its KV counter; no log
    line or data point of its own. D1 alone answers every lookup from the database's one region."""
    from infra.cost import views

    traffic = {**GUIDE, "usageCallsPerUserPerDay": 10, "unsubscribedShare": 0.2, "lapsedShare": 0.5}
    domain = {"hostname": "cache.example.com", "zoneId": "f" * 32}
    settings = settings_with(traffic, customDomain=domain)  # negative entries can hit here
    this, counter, guide, d1_only = views.designs(settings, table)
    unknown = 10_000 * 10 * 0.2  # lookups a day of users without a subscription
    negative = cost.negative_hit_ratio(0.9, settings.ttls.subscription)  # this Worker's, with a domain
    assert 0 < negative < 1
    # The guide puts each of them in KV (this Worker keeps its "no subscription" answers in the
    # Cache API, no KV write), and reads D1 for each (this Worker's negative cache spares part).
    assert daily(guide.paid, "kv_writes") - daily(counter.paid, "kv_writes") == pytest.approx(unknown)
    lapsed_reads = daily(guide.paid, "d1_rows_read") - daily(counter.paid, "d1_rows_read")
    assert lapsed_reads == pytest.approx(0.5 * unknown * negative)
    assert guide.paid.requests["subscription_get_negative_hit"] == 0
    assert daily(guide.paid, "ae_data_points") == 0
    invocations = daily(guide.paid, "worker_requests")
    assert daily(guide.paid, "workers_logs_bytes") == pytest.approx(invocations * cost.INVOCATION_LOG_BYTES)
    # Lookups answered from D1: this design's misses; all of D1 alone's (subscription checks and
    # usage calls' own lookups); the KV counter's usage calls look nothing up.
    checks, usage = 10_000 * 10, 10_000 * 10
    assert d1_only.lookups_from_d1 == pytest.approx(checks + usage)
    expected = 0.1 * 0.8 * (checks + usage) + (1 - negative) * 0.2 * (checks + usage)
    assert this.lookups_from_d1 == pytest.approx(expected)
    assert guide.lookups_from_d1 == pytest.approx(0.1 * 0.8 * checks + 0.2 * checks)
    assert daily(d1_only.paid, "kv_reads") == 0 and daily(d1_only.paid, "kv_writes") == 0
    # Each design's Free day: which allowance runs out first.
    assert any(m.exhausted_after_s is not None for m in guide.free.meters)


def test_the_finops_option_prints_the_views_within_80_columns():
    result = invoke("--stack", "prod", "--finops", "-t", "monthlyUserGrowth=0.2")
    assert result.exit_code == 0, result.output
    assert "Paid bill a month, by hit ratio" in result.output and "D1 alone, no KV cache" in result.output
    assert max(len(line.rstrip()) for line in result.output.splitlines()) <= 80
