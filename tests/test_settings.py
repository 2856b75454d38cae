"""Settings validation: defaults, and every bad setting reported with key, value and fix."""

import pytest
from pulumi_mocks import ACCOUNT_ID

from infra.plan.seeds import seed_entries
from infra.settings import SettingsError, load_settings
from infra.worker_contract import canonical_json


def errors_for(raw, stack="dev", env=None):
    with pytest.raises(SettingsError) as caught:
        load_settings({"accountId": ACCOUNT_ID, **raw}, stack=stack, env=env or {})
    return caught.value


def the_issue(raw, key):
    issues = [issue for issue in errors_for(raw).issues if issue.key == key]
    assert len(issues) == 1, [str(i) for i in errors_for(raw).issues]
    return issues[0]


def test_defaults_are_the_guides_values():
    settings = load_settings({"accountId": ACCOUNT_ID}, stack="dev", env={})
    assert (settings.ttls.subscription, settings.ttls.tier_config, settings.ttls.rate_limit) == (300, 3600, 86400)
    assert settings.app_name == "guruai"
    assert settings.protect_stateful_resources is True  # safe unless a stack opts out


def test_a_deprecated_setting_still_loads_and_says_what_to_do():
    settings = load_settings({"accountId": ACCOUNT_ID, "ttls": {"usage": 60}}, stack="dev", env={})
    assert settings.deprecations() == [
        "ttls.usage: no route caches usage data (usage is counted in D1), so the Worker no longer gets USAGE_TTL; "
        "remove it: `pulumi config rm --path ttls.usage`"
    ]
    assert load_settings({"accountId": ACCOUNT_ID}, stack="dev", env={}).deprecations() == []


def test_account_id_comes_from_the_environment_like_wranglers():
    settings = load_settings({}, stack="dev", env={"CLOUDFLARE_ACCOUNT_ID": ACCOUNT_ID})
    assert settings.account_id == ACCOUNT_ID


def test_missing_account_id_says_how_to_set_it():
    with pytest.raises(SettingsError) as caught:
        load_settings({}, stack="prod", env={})
    assert [issue.key for issue in caught.value.issues] == ["accountId"]
    assert "pulumi config set accountId" in str(caught.value)
    assert "stack 'prod'" in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "key", "problem", "got"),
    [
        ({"ttls": {"usage": 30}}, "ttls.usage", "below KV's minimum expirationTtl of 60 s", "(got 30)"),
        ({"accountId": "not-an-account"}, "accountId", "32 lowercase hex", "(got 'not-an-account')"),
        ({"cron": "0 25 * * *"}, "cron", "not a cron expression", "(got '0 25 * * *')"),
        ({"cron": "*/5 * * * * *"}, "cron", "exactly 5 fields", "(got '*/5 * * * * *')"),
        ({"appName": "Guru_AI"}, "appName", "lowercase letters", "(got 'Guru_AI')"),
        ({"appName": "a" * 60}, "appName", "over Cloudflare's 63", "(got 'aaaa"),
        ({"featureFlags": {"beta": {"tiers": ["gold"]}}}, "featureFlags.beta.tiers[0]", "unknown tier", "(got 'gold')"),
        (
            {"devSubscriptions": [{"userId": "u1", "tier": "platinum"}]},
            "devSubscriptions[0].tier",
            "unknown tier",
            "(got 'platinum')",
        ),
        (
            {"featureFlags": {"x" * 600: True}},
            "featureFlags.xxxx",
            "KV key is 606 bytes, over KV's 512",
            "(got 'flags:x",
        ),
        ({"burstRateLimit": {"period": 30}}, "burstRateLimit.period", "only 10 or 60", "(got 30)"),
        ({"compatibilityDate": "2999-01-01"}, "compatibilityDate", "in the future", "(got '2999-01-01')"),
        (
            {"tiers": [{"name": "free", "monthlyPrice": 0, "dailyRequestLimit": 0}]},
            "tiers[0].dailyRequestLimit",
            "greater than or equal to 1",
            "(got 0)",
        ),
    ],
)
def test_each_bad_setting_names_key_value_and_fix(raw, key, problem, got):
    error = errors_for(raw)
    matching = [issue for issue in error.issues if issue.key.startswith(key)]
    assert len(matching) == 1, str(error)
    line = str(matching[0])
    assert problem in line and got in line and "; fix: " in line, line


def test_a_seeded_value_over_25_mib_is_refused_before_anything_is_built():
    huge_feature = "x" * (25 * 1024 * 1024)
    issue = the_issue(
        {"tiers": [{"name": "free", "monthlyPrice": 0, "dailyRequestLimit": 1, "features": [huge_feature]}]}, "tiers"
    )
    assert "over KV's 26214400 (25 MiB)" in issue.problem
    assert "bytes)" in str(issue) and len(str(issue)) < 400  # the value is summarised, not dumped


def test_every_problem_is_reported_together():
    error = errors_for(
        {"ttls": {"subscription": 1}, "cron": "nope", "accountId": "x", "featureFlags": {"f": {"tiers": ["gold"]}}}
    )
    assert {issue.key for issue in error.issues} == {
        "ttls.subscription",
        "cron",
        "accountId",
        "featureFlags.f.tiers[0]",
    }
    assert str(error).startswith("stack 'dev': 4 invalid settings")


def test_a_typo_gets_a_did_you_mean():
    issue = the_issue({"ttl": {"usage": 60}}, "ttl")
    assert issue.problem == "unknown setting" and "did you mean 'ttls'" in issue.fix
    nested = the_issue({"ttls": {"subscripton": 300}}, "ttls.subscripton")
    assert "did you mean 'ttls.subscription'" in nested.fix


def test_a_dotted_key_set_without_path_explains_path():
    issue = the_issue({"ttls.usage": 120}, "ttls.usage")
    assert "pulumi config set --path ttls.usage" in issue.fix


def test_flag_shorthand_and_seed_values_are_canonical_json():
    settings = load_settings(
        {"accountId": ACCOUNT_ID, "featureFlags": {"beta": True, "ai": {"enabled": False, "tiers": ["pro"]}}},
        stack="dev",
        env={},
    )
    entries = seed_entries(settings)
    assert list(entries) == ["config:tiers", "flags:ai", "flags:beta"]
    assert entries["flags:beta"] == '{"enabled":true}'
    assert entries["flags:ai"] == '{"enabled":false,"tiers":["pro"]}'
    tiers = entries["config:tiers"]
    assert tiers == canonical_json({t.name: t.model_dump(by_alias=True, mode="json") for t in settings.tiers})
    assert '"dailyRequestLimit":1000' in tiers and ", " not in tiers and ": " not in tiers


def test_seed_values_do_not_depend_on_config_order():
    """The provider compares strings: a reordered config must not show as a diff."""
    assert canonical_json({"b": 1, "a": {"d": [2, 1], "c": "é"}}) == '{"a":{"c":"é","d":[2,1]},"b":1}'
    flags = {"zeta": {"enabled": True, "tiers": ["pro"]}, "alpha": False}
    forward = load_settings({"accountId": ACCOUNT_ID, "featureFlags": flags}, stack="dev", env={})
    backward = load_settings(
        {"accountId": ACCOUNT_ID, "featureFlags": dict(reversed(list(flags.items())))}, stack="dev", env={}
    )
    assert seed_entries(forward) == seed_entries(backward)
    assert list(seed_entries(forward)) == ["config:tiers", "flags:alpha", "flags:zeta"]
