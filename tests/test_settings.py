"""Settings validation: defaults, and every bad setting reported with key, value and fix."""

import math
import shutil

import pulumi
import pytest
from pulumi_mocks import ACCOUNT_ID, run_program
from typer.testing import CliRunner

from infra import paths
from infra.plan.seeds import seed_entries
from infra.plan.worker import var_defaults
from infra.settings import SettingsError, load_settings, shared_limiter_issues
from infra.settings.worker import derived_namespace_id
from infra.tools import cli
from infra.worker_contract import canonical_json


def errors_for(raw, stack="dev", env=None):
    with pytest.raises(SettingsError) as caught:
        load_settings({"accountId": ACCOUNT_ID, **raw}, stack=stack, env=env or {})
    return caught.value


def the_issue(raw, key):
    issues = [issue for issue in errors_for(raw).issues if issue.key == key]
    assert len(issues) == 1, [str(i) for i in errors_for(raw).issues]
    return issues[0]


def test_defaults_are_the_workers_own_fallbacks():
    """A stack that sets nothing gives the Worker what it falls back to without a variable."""
    settings = load_settings({"accountId": ACCOUNT_ID}, stack="dev", env={})
    defaults = var_defaults()
    assert (settings.ttls.subscription, settings.tiers_max_age, settings.usage_window_seconds) == (
        defaults["SUBSCRIPTION_TTL"],
        defaults["TIERS_MAX_AGE"],
        defaults["USAGE_WINDOW_SECONDS"],
    )
    assert settings.app_name == "guruai"
    assert settings.protect_stateful_resources is True  # safe unless a stack opts out


def test_a_deprecated_setting_still_loads_and_says_what_to_do():
    settings = load_settings({"accountId": ACCOUNT_ID, "ttls": {"usage": 60}}, stack="dev", env={})
    assert settings.deprecations() == [
        "ttls.usage: no route caches usage data (usage is counted in D1), so the Worker no longer gets USAGE_TTL; "
        "remove it: `pulumi config rm --path ttls.usage`"
    ]
    assert load_settings({"accountId": ACCOUNT_ID}, stack="dev", env={}).deprecations() == []


def test_renamed_settings_are_read_under_their_old_names_with_the_command_that_moves_them():
    settings = load_settings(
        {"accountId": ACCOUNT_ID, "ttls": {"tierConfig": 600, "rateLimit": 3600}}, stack="dev", env={}
    )
    assert (settings.tiers_max_age, settings.usage_window_seconds) == (600, 3600)
    moves = settings.deprecations()
    assert len(moves) == 2
    assert moves[0].startswith("ttls.tierConfig: renamed tiersMaxAge: it is GET /tiers' Cache-Control max-age")
    assert "`pulumi config set tiersMaxAge 600` then `pulumi config rm --path ttls.tierConfig`" in moves[0]
    assert moves[1].startswith("ttls.rateLimit: renamed usageWindowSeconds: it is the length of the window")
    assert "`pulumi config set usageWindowSeconds 3600` then `pulumi config rm --path ttls.rateLimit`" in moves[1]
    renamed = load_settings(
        {"accountId": ACCOUNT_ID, "tiersMaxAge": 600, "usageWindowSeconds": 3600}, stack="dev", env={}
    )
    assert (renamed.tiers_max_age, renamed.usage_window_seconds, renamed.deprecations()) == (600, 3600, [])


def test_an_old_name_beside_its_new_one_must_agree():
    both = {"ttls": {"tierConfig": 600}, "tiersMaxAge": 900}
    assert str(the_issue(both, "ttls.tierConfig")) == (
        "ttls.tierConfig: set beside tiersMaxAge (900), its new name, to another value (got 600); "
        "fix: keep tiersMaxAge: `pulumi config rm --path ttls.tierConfig`"
    )
    assert "beside usageWindowSeconds (7200)" in str(
        the_issue({"ttls": {"rateLimit": 3600}, "usageWindowSeconds": 7200}, "ttls.rateLimit")
    )
    agreeing = load_settings(
        {"accountId": ACCOUNT_ID, "ttls": {"tierConfig": 900}, "tiersMaxAge": 900}, stack="dev", env={}
    )
    assert agreeing.tiers_max_age == 900 and len(agreeing.deprecations()) == 1


@pytest.mark.parametrize("key", ["tiersMaxAge", "ttls.tierConfig"])
def test_the_tiers_max_age_is_checked_as_a_max_age_under_either_name(key):
    raw = {"ttls": {"tierConfig": -1}} if key == "ttls.tierConfig" else {"tiersMaxAge": -1}
    line = str(the_issue(raw, key))
    assert "Cache-Control max-age must be 0 to 31536000 seconds (a year) (got -1)" in line
    assert "KV" not in line and "expirationTtl" not in line
    assert "max-age must be 0 to" in str(the_issue({"tiersMaxAge": 31_536_001}, "tiersMaxAge"))
    # 0 is a max-age (callers revalidate every time), not a KV lifetime under KV's minimum of 60.
    assert load_settings({"accountId": ACCOUNT_ID, "tiersMaxAge": 0}, stack="dev", env={}).tiers_max_age == 0


def test_the_usage_window_is_at_least_a_minute_and_within_the_retention():
    short = str(the_issue({"usageWindowSeconds": 59}, "usageWindowSeconds"))
    assert "under 60 s" in short and "burstRateLimit" in short and "(got 59)" in short
    assert "under 60 s" in str(the_issue({"ttls": {"rateLimit": 30}}, "ttls.rateLimit"))
    long = str(the_issue({"usageRetentionDays": 7, "usageWindowSeconds": 8 * 86_400}, "usageWindowSeconds"))
    assert "longer than usageRetentionDays (7 days, 604800 s)" in long and "delete a window's counts" in long
    assert "fix: use at most 604800, or raise usageRetentionDays" in long
    week = load_settings(
        {"accountId": ACCOUNT_ID, "usageRetentionDays": 7, "usageWindowSeconds": 604_800}, stack="dev", env={}
    )
    assert week.usage_window_seconds == 604_800


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
            {"legacyFlagKeys": True, "featureFlags": {"x" * 600: True}},  # a key per flag: KV's key limit
            "featureFlags.xxxx",
            "KV key is 606 bytes, over KV's 512",
            "(got a value of 606 bytes, not shown)",
        ),
        ({"burstRateLimit": {"period": 30}}, "burstRateLimit.period", "only 10 or 60", "(got 30)"),
        ({"compatibilityDate": "2999-01-01"}, "compatibilityDate", "in the future", "(got '2999-01-01')"),
        (
            {"tiers": [{"name": "free", "monthlyPrice": 0, "dailyRequestLimit": 0}]},
            "tiers[0].dailyRequestLimit",
            "below the minimum, 1",
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
    assert "(got a value of" in str(issue) and len(str(issue)) < 400  # the value is summarised, not dumped


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
        {
            "accountId": ACCOUNT_ID,
            "featureFlags": {"beta": True, "ai": {"enabled": False, "tiers": ["pro"]}},
            "legacyFlagKeys": True,
        },
        stack="dev",
        env={},
    )
    entries = seed_entries(settings)
    assert list(entries) == ["config:tiers", "config:catalog", "flags:ai", "flags:beta"]
    assert entries["flags:beta"] == '{"enabled":true}'
    assert entries["flags:ai"] == '{"enabled":false,"tiers":["pro"]}'
    assert '"flags":{"ai":{"enabled":false,"tiers":["pro"]},"beta":{"enabled":true}}' in entries["config:catalog"]
    tiers = entries["config:tiers"]
    assert tiers == canonical_json({t.name: t.model_dump(by_alias=True, mode="json") for t in settings.tiers})
    assert '"dailyRequestLimit":1000' in tiers and ", " not in tiers and ": " not in tiers


def test_seed_values_do_not_depend_on_config_order():
    """The provider compares strings: a reordered config must not show as a diff."""
    assert canonical_json({"b": 1, "a": {"d": [2, 1], "c": "é"}}) == '{"a":{"c":"é","d":[2,1]},"b":1}'
    flags = {"zeta": {"enabled": True, "tiers": ["pro"]}, "alpha": False}
    base = {"accountId": ACCOUNT_ID, "legacyFlagKeys": True}
    forward = load_settings({**base, "featureFlags": flags}, stack="dev", env={})
    backward = load_settings({**base, "featureFlags": dict(reversed(list(flags.items())))}, stack="dev", env={})
    assert seed_entries(forward) == seed_entries(backward)
    assert list(seed_entries(forward)) == ["config:tiers", "config:catalog", "flags:alpha", "flags:zeta"]


# --- the rate limiter's namespace: one per stack in an account ------------------------------


def test_each_stack_gets_its_own_limiter_namespace_by_default():
    dev, prod = (load_settings({"accountId": ACCOUNT_ID}, stack=s, env={}) for s in ("dev", "prod"))
    assert dev.limiter_namespace_id("dev") != prod.limiter_namespace_id("prod")
    assert (
        dev.limiter_namespace_id("dev") == derived_namespace_id("guruai", "dev") == "571319182"
    )  # stable: docs/configuration.md
    assert int(dev.limiter_namespace_id("dev")) < 2**31
    assert load_settings({"accountId": ACCOUNT_ID, "appName": "acme"}, stack="dev", env={}).limiter_namespace_id(
        "dev"
    ) != dev.limiter_namespace_id("dev")


def test_an_explicit_limiter_namespace_is_kept_and_may_be_a_yaml_number():
    settings = load_settings({"accountId": ACCOUNT_ID, "burstRateLimit": {"namespaceId": 4242}}, stack="dev", env={})
    assert settings.limiter_namespace_id("dev") == "4242"


def test_two_stacks_sharing_a_limiter_namespace_are_refused_with_key_value_and_fix():
    shared = {"accountId": ACCOUNT_ID, "burstRateLimit": {"namespaceId": "1001"}}
    dev, prod = (load_settings(shared, stack=s, env={}) for s in ("dev", "prod"))
    [issue] = shared_limiter_issues("dev", dev, {"prod": prod})
    text = str(issue)
    assert text.startswith("burstRateLimit.namespaceId: stack 'prod' (Pulumi.prod.yaml) uses the same")
    assert "(got '1001')" in text and "pulumi config set --path burstRateLimit.namespaceId" in text
    own = load_settings({"accountId": ACCOUNT_ID}, stack="prod", env={})
    assert shared_limiter_issues("dev", dev, {"prod": own}) == []  # prod's derived id differs
    elsewhere = load_settings({**shared, "accountId": "f" * 32}, stack="prod", env={})
    assert shared_limiter_issues("dev", dev, {"prod": elsewhere}) == []  # another account: no clash


def test_a_setting_that_equals_another_stacks_derived_namespace_is_refused():
    prod_default = derived_namespace_id("guruai", "prod")
    dev = load_settings({"accountId": ACCOUNT_ID, "burstRateLimit": {"namespaceId": prod_default}}, stack="dev", env={})
    prod = load_settings({"accountId": ACCOUNT_ID}, stack="prod", env={})
    assert [i.got for i in shared_limiter_issues("dev", dev, {"prod": prod})] == [prod_default]


def test_the_client_limit_is_sized_from_the_traffic_so_normal_peaks_pass():
    # 10,000 users x (10 checks + 2 usage calls) + 100 updates a day: 1.39 a second on average.
    traffic = {"activeUsers": 10_000, "subscriptionChecksPerUserPerDay": 10, "usageCallsPerUserPerDay": 2}
    settings = load_settings({"accountId": ACCOUNT_ID, "traffic": traffic}, stack="dev", env={})
    average_per_minute = (10_000 * 12 + 100) / 86_400 * 60
    assert settings.client_limit == math.ceil(average_per_minute * 10)  # ten times the average minute
    doubled = load_settings(
        {"accountId": ACCOUNT_ID, "traffic": {**traffic, "activeUsers": 20_000}}, stack="dev", env={}
    )
    assert doubled.client_limit > settings.client_limit  # more users, a higher limit
    ten_seconds = load_settings(
        {"accountId": ACCOUNT_ID, "traffic": traffic, "clientRateLimit": {"period": 10}}, stack="dev", env={}
    )
    assert ten_seconds.client_limit == math.ceil((10_000 * 12 + 100) / 86_400 * 10 * 10)
    quiet = load_settings({"accountId": ACCOUNT_ID, "traffic": {"activeUsers": 10}}, stack="dev", env={})
    assert quiet.client_limit == 5 * 60  # the floor: five requests a second
    chosen = load_settings({"accountId": ACCOUNT_ID, "clientRateLimit": {"limit": 50}}, stack="dev", env={})
    assert chosen.client_limit == 50


def test_the_client_limiter_has_its_own_namespace_and_checks():
    dev = load_settings({"accountId": ACCOUNT_ID}, stack="dev", env={})
    assert dev.client_limiter_namespace_id("dev") == derived_namespace_id("guruai", "dev", "clients")
    assert dev.client_limiter_namespace_id("dev") != dev.limiter_namespace_id("dev")
    with pytest.raises(SettingsError) as caught:
        load_settings({"accountId": ACCOUNT_ID, "clientRateLimit": {"period": 30, "limit": 0}}, stack="dev", env={})
    text = str(caught.value)
    assert "clientRateLimit.period" in text and "only 10 or 60" in text and "clientRateLimit.limit" in text
    same = load_settings(
        {"accountId": ACCOUNT_ID, "burstRateLimit": {"namespaceId": 5}, "clientRateLimit": {"namespaceId": 5}},
        stack="dev",
        env={},
    )
    [issue] = shared_limiter_issues("dev", same, {})
    assert issue.key == "clientRateLimit.namespaceId" and "burstRateLimit's" in str(issue)


def test_a_client_limiter_namespace_another_stacks_burst_limiter_uses_is_refused():
    prod = load_settings({"accountId": ACCOUNT_ID}, stack="prod", env={})
    dev = load_settings(
        {"accountId": ACCOUNT_ID, "clientRateLimit": {"namespaceId": prod.limiter_namespace_id("prod")}},
        stack="dev",
        env={},
    )
    [issue] = shared_limiter_issues("dev", dev, {"prod": prod})
    assert issue.key == "clientRateLimit.namespaceId" and "burstRateLimit.namespaceId" in issue.problem


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A copy of the (tests' own) stack files the settings read, to edit."""
    for path in paths.STACKS_DIR.glob("Pulumi.*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(paths, "STACKS_DIR", tmp_path)
    return tmp_path


def _set_prod_namespace(checkout, value):
    prod = checkout / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text() + f"  guruai-cache:burstRateLimit:\n    namespaceId: '{value}'\n")


def test_settings_check_refuses_committed_stacks_that_share_a_limiter(checkout):
    _set_prod_namespace(checkout, derived_namespace_id("guruai", "dev"))
    result = CliRunner().invoke(cli.app, ["settings", "check"])
    assert result.exit_code == 2
    assert "stack 'dev': 1 invalid setting" in result.output and "stack 'prod': 1 invalid setting" in result.output
    assert "burstRateLimit.namespaceId: stack 'prod' (Pulumi.prod.yaml) uses the same" in result.output
    assert "Traceback" not in result.output


def test_settings_check_warns_of_an_old_name_with_the_command_that_moves_it(checkout):
    dev = checkout / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text() + "  guruai-cache:ttls:\n    tierConfig: 600\n")
    result = CliRunner().invoke(cli.app, ["settings", "check", "--stack", "dev"])
    assert result.exit_code == 0 and "dev: settings valid" in result.output
    warning = " ".join(result.output.split())
    assert "warning: deprecated setting ttls.tierConfig: renamed tiersMaxAge" in warning
    assert "`pulumi config set tiersMaxAge 600` then `pulumi config rm --path ttls.tierConfig`" in warning


def test_preview_refuses_a_limiter_namespace_another_committed_stack_uses(checkout):
    _set_prod_namespace(checkout, "777")
    with pytest.raises(pulumi.RunError) as caught:
        run_program("dev", {"burstRateLimit": {"namespaceId": "777"}})
    assert "burstRateLimit.namespaceId: stack 'prod' (Pulumi.prod.yaml) uses the same" in str(caught.value)
    assert "(got '777')" in str(caught.value)


# --- where the Worker answers ---------------------------------------------------------------

ZONE = "a" * 32


@pytest.mark.parametrize(
    ("raw", "key", "problem"),
    [
        ({"customDomain": {"hostname": "https://cache.example.com", "zoneId": ZONE}}, "customDomain.hostname", "without scheme"),
        ({"customDomain": {"hostname": "*.example.com", "zoneId": ZONE}}, "customDomain.hostname", "no wildcards"),
        ({"customDomain": {"hostname": "localhost", "zoneId": ZONE}}, "customDomain.hostname", "DNS hostname"),
        ({"customDomain": {"hostname": "cache.example.com", "zoneId": "example.com"}}, "customDomain.zoneId", "zone id"),
        ({"customDomain": {"hostname": "cache.example.com"}}, "customDomain.zoneId", "missing"),
        ({"route": {"pattern": "api.example.com/cache/*", "zoneId": ZONE}}, "route.pattern", "whole host"),
        ({"route": {"pattern": "https://api.example.com/*", "zoneId": ZONE}}, "route.pattern", "no scheme"),
        (
            {
                "route": {"pattern": "api.example.com/*", "zoneId": ZONE},
                "customDomain": {"hostname": "cache.example.com", "zoneId": ZONE},
            },
            "route",
            "set together with customDomain",
        ),
        ({"workersDev": False}, "workersDev", "no address"),
    ],
)  # fmt: skip
def test_bad_routing_settings_name_key_and_fix(raw, key, problem):
    issue = the_issue(raw, key)
    assert problem in issue.problem and issue.fix


def test_observability_sampling_rates_lie_between_0_and_1():
    issue = the_issue({"observability": {"logs": {"headSamplingRate": 5}}}, "observability.logs.headSamplingRate")
    assert "above the maximum, 1" in issue.problem


@pytest.mark.parametrize(
    ("raw", "key", "problem"),
    [
        ({"requestLog": {"routineSampleRate": 2}}, "requestLog.routineSampleRate", "above the maximum, 1"),
        ({"requestLog": {"routineSampleRate": -0.1}}, "requestLog.routineSampleRate", "below the minimum, 0"),
        ({"entitlementsCountMaxAge": -1}, "entitlementsCountMaxAge", "below the minimum, 0"),
        ({"entitlementsCountMaxAge": 301}, "entitlementsCountMaxAge", "above the maximum, 300"),
        ({"metrics": {"enabeld": False}}, "metrics.enabeld", "unknown setting"),
    ],
)
def test_the_request_log_rate_count_age_and_metrics_settings_are_checked(raw, key, problem):
    assert problem in the_issue(raw, key).problem


def test_the_request_log_and_metrics_defaults():
    settings = load_settings({}, stack="dev", require_account=False, env={})
    assert settings.request_log.routine_sample_rate == 0.01
    assert settings.metrics.enabled and settings.entitlements_count_max_age == 10


def test_an_adopted_database_keeps_its_name_and_jurisdiction_once_its_id_is_settled():
    """After `adopt --settle` removes the id, the name and jurisdiction stay: D1 cannot rename, and
    a jurisdiction dropped would replace the database."""
    settings = load_settings(
        {"accountId": ACCOUNT_ID, "adopt": {"databaseName": "guruai-db", "jurisdiction": "eu"}}, stack="prod", env={}
    )
    assert settings.names("prod").database == "guruai-db" and settings.adopt.jurisdiction == "eu"


def test_an_adopted_database_keeps_its_name_in_every_name_the_program_uses():
    uuid = "6c1f0b4e-2a3d-4e5f-8a9b-0c1d2e3f4a5b"
    settings = load_settings(
        {"accountId": ACCOUNT_ID, "adopt": {"databaseId": uuid, "databaseName": "guruai-db"}}, stack="prod", env={}
    )
    assert settings.names("prod").database == "guruai-db"
    assert settings.names("prod").preview_database == "guruai-db-prod-preview"
    assert settings.names("local").database == "guruai-db-local"  # local placeholders stay


# --- secrets never shown in a settings error ---------------------------------------------------

TOKEN_LIKE = "cfTOKEN9aZ3kQ7mW2xR5tY8uI1oP4sD6fG0hJ"


def _shows_no_part_of(text, secret, shortest=6):
    return not any(secret[i : i + shortest] in text for i in range(len(secret) - shortest + 1))


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"apiToken": TOKEN_LIKE}, "apiToken"),  # unknown key, secret value
        ({"apiToken": "hunter2"}, "apiToken"),  # short, but named for a secret
        ({"slackHook": TOKEN_LIKE}, "slackHook"),  # a harmless name, a credential-like value
        ({"pulumiToken": "pul-" + "0123456789abcdef" * 2}, "pulumiToken"),
        ({"extras": {"nested": {"password": "x1"}}}, "extras"),  # a secret-named field inside
        ({"tiers": [{"name": TOKEN_LIKE, "monthlyPrice": 0, "dailyRequestLimit": 1}]}, "tiers[0].name"),
    ],
)
def test_a_value_that_may_be_secret_is_never_printed(raw, key):
    error = errors_for(raw)
    text = str(error)
    [issue] = [i for i in error.issues if i.key == key]
    assert "not shown" in str(issue)
    for value in _leaves(raw):
        assert _shows_no_part_of(text, value), text


def _leaves(value):
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value] if isinstance(value, str) and len(value) >= 6 and value not in ("monthlyPrice",) else []


def test_a_key_pulumi_holds_as_secret_is_never_printed_even_when_it_looks_harmless():
    with pytest.raises(SettingsError) as caught:
        load_settings({"accountId": ACCOUNT_ID, "cron": "every-hour-please"}, stack="dev", env={}, secret_keys={"cron"})
    [issue] = caught.value.issues
    assert issue.got is None and issue.secret
    assert "(got a secret, not shown)" in str(caught.value) and "every-hour" not in str(caught.value)


def test_the_program_hides_values_of_keys_pulumi_holds_as_secret():
    with pytest.raises(pulumi.RunError) as caught:
        run_program("dev", secrets={"guruai-cache:cron": "daily at three please"})
    message = str(caught.value)
    assert "cron: " in message and "(got a secret, not shown)" in message and "three please" not in message


def test_a_long_value_is_left_out_whole_never_cut():
    """Pulumi masks secrets by exact match: a cut value would not be masked, so none is cut."""
    long_name = "x" * 300
    error = errors_for({"tiers": [{"name": long_name.upper(), "monthlyPrice": 0, "dailyRequestLimit": 1}]})
    text = str(error)
    assert "(got a value of 300 bytes, not shown)" in text and "XXXXXX" not in text


def test_ids_stay_visible_in_errors():
    """Account, zone and namespace ids are lowercase hex and not secrets: users need to see them."""
    issue = the_issue({"adopt": {"databaseId": "0123456789abcdef0123456789abcdef"}}, "adopt.databaseId")
    assert "(got '0123456789abcdef0123456789abcdef')" in str(issue)
