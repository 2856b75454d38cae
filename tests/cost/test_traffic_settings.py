"""The `traffic` settings: each mistake named with its key, value and fix."""

import pytest
from cost_cases import settings_with

from infra.settings import SettingsError


@pytest.mark.parametrize(
    ("traffic", "key", "says"),
    [
        ({"activeUsers": -5}, "traffic.activeUsers", "(got -5); fix: raise it to at least 0"),
        ({"subscriptionChecksPerUserPerDay": -1}, "traffic.subscriptionChecksPerUserPerDay", "at least 0"),
        (
            {"cacheHitRatio": 90},
            "traffic.cacheHitRatio",
            "between 0 and 1 (got 90); fix: write it as a fraction (90 % is 0.9)",
        ),
        ({"cacheHitRatio": -0.1}, "traffic.cacheHitRatio", "between 0 and 1 (got -0.1)"),
        ({"unsubscribedShare": 1.5}, "traffic.unsubscribedShare", "between 0 and 1"),
        ({"usageDeniedShare": float("nan")}, "traffic.usageDeniedShare", "between 0 and 1"),
        ({"usageCallsPerUserPerDay": float("inf")}, "traffic.usageCallsPerUserPerDay", "use a finite number"),
        ({"activeUsers": 2.5}, "traffic.activeUsers", "use a whole number"),
        ({"workersPlan": "pro"}, "traffic.workersPlan", "(got 'pro'); fix: use one of 'free' or 'paid'"),
        ({"activeUser": 10}, "traffic.activeUser", "did you mean 'traffic.activeUsers'?"),
        ({"activeUsers": True}, "traffic.activeUsers", "a boolean is not a number (got true); fix: use a number"),
        ({"cacheHitRatio": False}, "traffic.cacheHitRatio", "a boolean is not a number (got false)"),
        ({"lapsedShare": 2}, "traffic.lapsedShare", "between 0 and 1"),
    ],
)
def test_bad_traffic_settings_name_key_value_and_fix(traffic, key, says):
    with pytest.raises(SettingsError) as caught:
        settings_with(traffic)
    issues = [str(issue) for issue in caught.value.issues]
    assert len(issues) == 1 and issues[0].startswith(f"{key}: "), issues
    assert says in issues[0]
