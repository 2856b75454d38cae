"""The client's models held to worker/openapi.yaml (issue 17, "Model checks"), and its package's
metadata ("Packaging"): the client ships without infra/ and the spec, so these tests keep the two
in step."""

import dataclasses
import re
import tomllib

import httpx
import pytest
import yaml
from test_python_client import ENTITLEMENTS, Script

from guruai_cache_client import Entitlements, Health, Subscription, Tier, Usage, WorkerError
from infra import paths

SPEC = yaml.safe_load((paths.WORKER_DIR / "openapi.yaml").read_text())["components"]["schemas"]
CLIENT = paths.ROOT / "client"
# Each success schema, its model, and the properties checked but not kept (Usage's `allowed` is always true).
MODELS = {"Health": (Health, set()), "Tier": (Tier, set()), "Subscription": (Subscription, set()),
          "Entitlements": (Entitlements, set()), "Usage": (Usage, {"allowed"})}  # fmt: skip
SUBSCRIPTION = {
    "userId": "u1", "tier": "pro", "status": "active", "createdAt": "2026-01-01T00:00:00.000Z",
    "updatedAt": "2026-01-01T00:00:00.000Z",
}  # fmt: skip


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_every_schema_property_is_a_field_of_its_model_and_no_more():
    success_schemas = {
        name for name, schema in SPEC.items() if schema.get("type") == "object" and "properties" in schema
    } - {"SubscriptionChange", "Error"}  # a request body, and the errors' envelope (errors.py)
    assert success_schemas == set(MODELS), "a schema without a model, or a model without a schema"
    for name, (model, not_kept) in MODELS.items():
        properties = {snake(p) for p in SPEC[name]["properties"]} - not_kept
        fields = {field.name for field in dataclasses.fields(model)} - {"meta"}  # meta: the headers'
        assert properties == fields, name


@pytest.mark.parametrize(
    ("route", "body", "says"),
    [
        ("tiers", {"free": {"name": "free", "monthlyPrice": 0, "dailyRequestLimit": 1, "features": "abc"}},
         "'features' of type <class 'list'>"),
        ("tiers", {"free": {"name": "free", "monthlyPrice": 0, "dailyRequestLimit": 1, "features": ["a", 1]}},
         "'features' to be a list of strings"),
        ("entitlements", {**ENTITLEMENTS, "features": "ai-answers"}, "'features' of type <class 'list'>"),
        ("entitlements", {**ENTITLEMENTS, "features": [None]}, "'features' to be a list of strings"),
        ("subscription", {**SUBSCRIPTION, "status": "paused"},
         "'status' is 'paused', not one of active, trialing, past_due, canceled"),
    ],
)  # fmt: skip
def test_a_body_off_the_contract_is_an_error_not_a_wrong_value(route, body, says):
    worker = Script(httpx.Response(200, json=body)).client()
    with pytest.raises(WorkerError, match=re.escape(says)):
        getattr(worker, route)(*(["u1"] if route != "tiers" else []))


def test_a_tier_without_features_has_none():
    tiers = Script(httpx.Response(200, json={"free": {"name": "free", "monthlyPrice": 0, "dailyRequestLimit": 1}}))
    assert tiers.client().tiers()["free"].features == ()


def test_the_package_metadata_says_license_authors_classifiers_and_urls():
    project = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]
    assert (
        project["license"]
        and project["authors"]
        and {"Repository", "Documentation", "Changelog"} <= set(project["urls"])
    )
    assert "Typing :: Typed" in project["classifiers"] and "Framework :: Trio" in project["classifiers"]
    assert "Private :: Do Not Upload" in project["classifiers"]  # no licence to publish it under yet


def test_the_changelog_has_the_current_version():
    version = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]["version"]
    assert re.search(rf"^## {re.escape(version)} ", (CLIENT / "CHANGELOG.md").read_text(), re.MULTILINE)


@pytest.mark.parametrize(
    ("route", "body"),
    [("subscription", SUBSCRIPTION), ("entitlements", ENTITLEMENTS), ("health", {"status": "ok", "environment": None,
      "catalogVersion": None, "apiVersion": "3.0.0"})],
)  # fmt: skip
def test_a_field_a_later_version_adds_is_ignored(route, body):
    """The contract: clients ignore response fields they do not know (a minor version may add them)."""
    plain = getattr(Script(httpx.Response(200, json=body)).client(), route)(*(["u1"] if route != "health" else []))
    added = {**body, "addedLater": {"any": ["shape"]}}
    later = getattr(Script(httpx.Response(200, json=added)).client(), route)(*(["u1"] if route != "health" else []))
    assert later == plain
