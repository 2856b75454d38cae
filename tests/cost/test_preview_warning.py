"""The cost warning at `pulumi preview` / `up`: free limits crossed, the Paid bill, bad traffic refused."""

import pytest
from cost_cases import GUIDE, settings_with, small_app
from pulumi_mocks import run_program

from infra.cost import estimate as cost
from infra.cost import verdict


def test_preview_warns_when_expected_traffic_crosses_a_free_limit(logged):
    run_program("prod", {"traffic": GUIDE}, dry_run=True)
    expected = cost.estimate(settings_with(GUIDE))
    warnings = [m for m in logged["warn"] if "Workers Free plan" in m]
    assert len(warnings) == 1
    for meter in expected.over_free_limits:
        assert f"{meter.label}: {meter.daily:,.0f}/day expected" in warnings[0]
    assert "guruai-cache estimate --stack prod" in warnings[0]
    # The same verdict as `guruai-cache estimate` prints first: the bill's range, the first limit.
    assert verdict.bill_line(expected) in warnings[0] and verdict.limit_line(expected) in warnings[0]
    assert "First limit: KV writes, today, used up by 02:24 UTC each day" in warnings[0]


def test_committed_stacks_dev_previews_quietly_and_prod_at_the_guides_traffic_warns(logged):
    run_program("dev", dry_run=True)
    assert not [m for m in logged["warn"] if "Workers Free plan" in m]
    run_program("prod", dry_run=True)
    assert [m for m in logged["warn"] if "Workers Free plan" in m and "stack 'prod'" in m]


def test_preview_is_quiet_when_the_traffic_fits(logged):
    run_program("prod", {"traffic": small_app(1)}, dry_run=True)
    assert not [m for m in logged["warn"] if "Workers Free plan" in m]


def test_on_workers_paid_preview_states_the_bill_instead(logged):
    run_program("prod", {"traffic": {**GUIDE, "workersPlan": "paid"}}, dry_run=True)
    assert not [m for m in logged["warn"] if "Workers Free plan" in m]
    expected = cost.estimate(settings_with({**GUIDE, "workersPlan": "paid"}))
    assert any(verdict.bill_line(expected) in m and verdict.limit_line(expected) in m for m in logged["info"])


def test_bad_traffic_stops_preview_before_any_resource(logged):
    with pytest.raises(Exception, match=r"traffic\.cacheHitRatio"):
        run_program("prod", {"traffic": {"cacheHitRatio": 2}}, dry_run=True)
