"""The tier config and flags as the CATALOG json binding: what the program binds, what wrangler.toml
carries, the fallback tier, and the preview's refusal to strand subscriptions."""

import json
import tomllib

import pulumi
import pytest
from pulumi_mocks import SCRIPT, StrictCloudflareMocks, run_program, unwrap

from infra.plan import wrangler_toml
from infra.plan.catalog import catalog_document
from infra.settings import SettingsError, load_settings, stack_file_settings
from infra.worker_contract import canonical_json


def settings_with(**config):
    return load_settings(config, stack="dev", require_account=False)


def catalog_binding(run):
    items, _ = unwrap(run.one(SCRIPT).inputs["bindings"])
    return json.loads(next(b["json"] for b in items if b["name"] == "CATALOG"))


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
