"""The tier config and flags as the CATALOG json binding: what the program binds, what wrangler.toml
carries, the fallback tier, and the preview's refusal to strand subscriptions; and the same catalog
seeded into KV as one document, whatever the number of flags and tiers."""

import json
import re
import tomllib
from collections import Counter

import pulumi
import pytest
from pulumi_mocks import KV_ENTRY, KV_NAMESPACE, SCRIPT, StrictCloudflareMocks, run_program, unwrap

from infra import paths
from infra.plan import wrangler_toml
from infra.plan.catalog import catalog_document
from infra.settings import SettingsError, load_settings, stack_file_settings
from infra.worker_contract import CATALOG_BINDING, CATALOG_KEY, canonical_json


def settings_with(**config):
    return load_settings(config, stack="dev", require_account=False)


def catalog_binding_text(run):
    items, _ = unwrap(run.one(SCRIPT).inputs["bindings"])
    text: str = next(b["json"] for b in items if b["name"] == CATALOG_BINDING)
    return text


def catalog_binding(run):
    return json.loads(catalog_binding_text(run))


def seeded(run, namespace_name):
    """key -> value of the keys seeded into one namespace ("kv" or "kv-preview")."""
    namespace = run.one(KV_NAMESPACE, namespace_name)
    entries = [r for r in run.of_type(KV_ENTRY) if r.plain("namespaceId") == namespace.id]
    return {r.plain("keyName"): r.plain("value") for r in entries}


def many_flags(count):
    return {f"flag-{i:04d}": {"enabled": i % 2 == 0, "tiers": ["pro"] if i % 3 == 0 else None} for i in range(count)}


def many_tiers(count):
    """`count` tiers, the defaults' names among them (the dev subscriptions use them)."""
    names = ["free", "pro", "premium", *(f"tier-{i:02d}" for i in range(count - 3))]
    return [{"name": name, "monthlyPrice": i, "dailyRequestLimit": 100 * (i + 1)} for i, name in enumerate(names)]


def test_the_program_binds_the_settings_catalog(dev_run):
    bound = catalog_binding(dev_run)
    assert bound == json.loads(canonical_json(catalog_document(stack_file_settings("dev"))))
    assert set(bound["tiers"]) == {"free", "pro", "premium"} and bound["fallbackTier"] == "free"
    assert bound["flags"]["ai-answers-v2"] == {"enabled": True, "tiers": ["pro", "premium"]}


def test_a_tier_change_changes_the_binding_and_its_version():
    before = catalog_binding(run_program("dev"))
    tiers = [
        {"name": "free", "monthlyPrice": 0, "dailyRequestLimit": 150, "features": ["basic-search"]},
        {"name": "pro", "monthlyPrice": 9.99, "dailyRequestLimit": 1000},
        {"name": "premium", "monthlyPrice": 29.99, "dailyRequestLimit": 10000},
    ]
    after = catalog_binding(run_program("dev", {"tiers": tiers}))
    assert after["tiers"]["free"]["dailyRequestLimit"] == 150
    assert after["version"] != before["version"]
    assert catalog_binding(run_program("dev"))["version"] == before["version"]  # a pure function of the settings


def test_wrangler_toml_carries_the_same_catalog_as_a_json_var():
    settings = settings_with(featureFlags={"beta": True})
    section = wrangler_toml.local_section(settings)
    assert section["vars"]["CATALOG"] == catalog_document(settings)
    rendered = wrangler_toml.render(settings, {})
    assert tomllib.loads(rendered)["vars"]["CATALOG"]["flags"] == {"beta": {"enabled": True}}


def test_the_fallback_tier_is_the_first_tier_unless_set():
    assert catalog_document(settings_with())["fallbackTier"] == "free"
    assert catalog_document(settings_with(fallbackTier="pro"))["fallbackTier"] == "pro"
    with pytest.raises(SettingsError) as caught:
        settings_with(fallbackTier="gold")
    assert "fallbackTier: names an unknown tier (got 'gold'); fix: use one of: free, premium, pro" in str(caught.value)


def test_dropping_a_tier_the_dev_subscriptions_use_is_refused_at_preview_before_any_resource(monkeypatch):
    registered = []
    original = StrictCloudflareMocks.new_resource
    monkeypatch.setattr(
        StrictCloudflareMocks, "new_resource", lambda self, args: registered.append(args.typ) or original(self, args)
    )
    renamed = [
        {"name": "free", "monthlyPrice": 0, "dailyRequestLimit": 100},
        {"name": "plus", "monthlyPrice": 9.99, "dailyRequestLimit": 1000},  # was "pro"
        {"name": "premium", "monthlyPrice": 29.99, "dailyRequestLimit": 10000},
    ]
    with pytest.raises(pulumi.RunError) as caught:
        run_program("dev", {"tiers": renamed, "featureFlags": {}}, dry_run=True)
    message = str(caught.value)
    assert "devSubscriptions[1].tier: names an unknown tier" in message and "strand" in message
    assert "(got 'pro')" in message and "use one of: free, plus, premium" in message
    assert registered == []


# --- the catalog in KV ----------------------------------------------------------------------


def test_the_catalog_is_seeded_as_one_document_the_bindings_own_text():
    """Readers other than the Worker get exactly what it serves, `version` included."""
    run = run_program("dev", {"featureFlags": {"beta": True, "ai": {"tiers": ["pro"]}}})
    for namespace in ("kv", "kv-preview"):
        keys = seeded(run, namespace)
        assert set(keys) == {"config:tiers", CATALOG_KEY}  # no key per flag by default
        assert keys[CATALOG_KEY] == catalog_binding_text(run)
    flags = json.loads(seeded(run, "kv")[CATALOG_KEY])["flags"]
    assert flags == {"ai": {"enabled": True, "tiers": ["pro"]}, "beta": {"enabled": True}}


def test_a_thousand_flags_and_fifty_tiers_add_no_resource():
    """Before: two WorkersKv resources a flag (2,000 API calls for 1,000 flags, over Cloudflare's
    1,200 per 5 minutes). Now the catalog is one key per namespace, whatever it holds."""
    bare = run_program("dev", {"featureFlags": {}})
    big = run_program("dev", {"featureFlags": many_flags(1_000), "tiers": many_tiers(50)})
    assert Counter(r.type for r in big.resources) == Counter(r.type for r in bare.resources)
    catalog = json.loads(seeded(big, "kv-preview")[CATALOG_KEY])
    assert (len(catalog["flags"]), len(catalog["tiers"])) == (1_000, 50)


def test_legacy_flag_keys_keep_a_key_per_flag_protected_in_production():
    flags = {"beta": True, "ai": {"enabled": False, "tiers": ["pro"]}}
    run = run_program("prod", {"featureFlags": flags, "legacyFlagKeys": True})
    for namespace in ("kv", "kv-preview"):
        keys = seeded(run, namespace)
        assert set(keys) == {"config:tiers", CATALOG_KEY, "flags:ai", "flags:beta"}
        assert keys["flags:ai"] == '{"enabled":false,"tiers":["pro"]}'
    assert all(r.protect and r.retain_on_delete for r in run.of_type(KV_ENTRY))
    without = run_program("prod", {"featureFlags": flags, "legacyFlagKeys": False})
    assert not [r for r in without.of_type(KV_ENTRY) if r.plain("keyName").startswith("flags:")]


def test_legacy_flag_keys_are_warned_about_at_preview(monkeypatch):
    warnings = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    run_program("dev", {"legacyFlagKeys": True, "clients": {"app": "a" * 64}}, dry_run=True)
    assert [w for w in warnings if "deprecated" in w] == [
        "deprecated setting legacyFlagKeys: a flags:<name> KV key per flag is written beside config:catalog, two "
        "resources per flag; once their readers read config:catalog, `pulumi config rm legacyFlagKeys` "
        "(docs/deploying.md, 'Retiring the per-flag keys')"
    ]


def test_a_flag_name_over_kvs_key_limit_needs_no_key_of_its_own():
    long_name = "x" * 600
    assert long_name in settings_with(featureFlags={long_name: True}).feature_flags
    with pytest.raises(SettingsError) as caught:
        settings_with(featureFlags={long_name: True}, legacyFlagKeys=True)
    assert "its KV key is 606 bytes, over KV's 512" in str(caught.value)


def test_a_catalog_over_the_workers_variables_is_refused_before_anything_is_built():
    """At most 48 variables of 5 KB (64 a Worker, 16 kept for its own): 2,000 long flags are over."""
    flags = {f"flag-{n:04d}": {"description": "d" * 200} for n in range(2000)}
    with pytest.raises(SettingsError) as caught:
        settings_with(featureFlags=flags)
    (issue,) = caught.value.issues
    assert issue.key == "featureFlags"
    found = re.fullmatch(
        r"the catalog \(every tier and flag\) is (\d+) bytes: the Worker would need (\d+) (.*)", issue.problem
    )
    assert found and int(found[1]) > 2000 * 200 and int(found[2]) > 48
    assert "over the 48 a Worker's 64 leave it" in issue.problem
    assert "(got '2000 flags and 3 tiers')" in str(issue) and len(str(issue)) < 400
    settings_with(featureFlags={f"flag-{n:04d}": {"description": "d" * 30} for n in range(1000)})  # 1,000 fit


def test_the_unprotect_command_in_the_docs_names_the_programs_flag_keys():
    """docs/deploying.md's loop spells each per-flag key's URN: a rename of a resource must update it."""
    page = (paths.ROOT / "docs" / "deploying.md").read_text()
    (pattern,) = re.findall(r'"(urn:pulumi:prod::[^"]*)"', page)
    urns = {
        r.urn for r in run_program("prod", {"featureFlags": {"beta": True}, "legacyFlagKeys": True}).of_type(KV_ENTRY)
    }
    for seed in ("seed", "preview-seed"):
        assert pattern.replace("\\$", "$").replace("$seed", seed).replace("$name", "beta") in urns
