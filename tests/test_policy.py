"""The CrossGuard guardrails: the pure rules, fed the real program's resources, and the pack's wiring."""

import ast
import datetime as dt
import re
import runpy
import sys
import tomllib
from dataclasses import replace

import pulumi_policy
import pytest
from lock_files import requirement_blocks
from pulumi_mocks import D1, KV_NAMESPACE, ROOT, SCRIPT, run_program, unwrap
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from infra import platform as limits

POLICY = ROOT / "policy"
sys.path.insert(0, str(POLICY))
import guardrails  # noqa: E402  (the pack imports it as a sibling module, as Pulumi runs it)

TODAY = dt.date(2026, 5, 1)  # fixed, so the compatibility-date rule never turns these tests red by itself


def resources_of(run):
    """The program's resources as the pack sees them at `pulumi up`: inputs plus the ids."""
    return [
        guardrails.Resource(
            type=r.type,
            name=r.name,
            props={**unwrap(r.inputs)[0], "id": r.id},
            protect=r.protect,
            retain_on_delete=r.retain_on_delete,
        )
        for r in run.resources
    ]


def violations(resources, stack):
    found = guardrails.preview_storage_bound(resources)
    for resource in resources:
        found += guardrails.unguarded_stateful(resource, stack, guardrails.DEFAULT_PRODUCTION_STACKS)
        found += guardrails.secret_in_plain_text(resource)
        found += guardrails.kv_entry_problems(resource)
        found += guardrails.stale_compatibility_date(resource, 365, TODAY)
    return found


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_committed_stacks_pass_every_rule(stack, dev_run, prod_run):
    assert violations(resources_of({"dev": dev_run, "prod": prod_run}[stack]), stack) == []


def test_an_unprotected_production_store_is_refused_but_dev_may_opt_out():
    unprotected = resources_of(run_program("prod", {"protectStatefulResources": False}))
    found = violations(unprotected, "prod")
    assert len(found) == 4 and all("is not protected" in message for message in found)
    assert "'guruai-db-prod'" in " ".join(found)
    assert violations(unprotected, "dev") == []


def test_a_production_store_must_also_be_retained_on_delete(prod_run):
    """protect alone leaves the data to `pulumi destroy --exclude-protected` or an unprotect; retain keeps it."""
    stores = [r for r in resources_of(prod_run) if r.type in guardrails.STATEFUL]
    assert len(stores) == 4 and all(r.protect and r.retain_on_delete for r in stores)  # what the program declares
    for store in stores:
        found = guardrails.unguarded_stateful(replace(store, retain_on_delete=False), "prod", ["prod"])
        assert len(found) == 1 and "is not retained on delete" in found[0] and "is not protected" not in found[0]
        assert "retain_on_delete=True" in found[0]
        both = guardrails.unguarded_stateful(replace(store, protect=False, retain_on_delete=False), "prod", ["prod"])
        assert "is not protected and not retained on delete" in both[0]
        # The engine does not send retainOnDelete to a live pack yet: unknown is not a violation.
        assert guardrails.unguarded_stateful(replace(store, retain_on_delete=None), "prod", ["prod"]) == []
        assert guardrails.unguarded_stateful(replace(store, retain_on_delete=False), "dev", ["prod"]) == []


def test_production_seed_keys_must_be_protected_and_retained_too(prod_run, dev_run):
    """Dropping `config:tiers` in prod would leave other readers without the tier config."""
    seeds = [r for r in resources_of(prod_run) if r.type == guardrails.KV_ENTRY]
    assert seeds and all(r.protect and r.retain_on_delete for r in seeds)  # what the program declares
    tiers = next(r for r in seeds if r.props.get("keyName") == "config:tiers")
    found = guardrails.unguarded_stateful(replace(tiers, protect=False), "prod", ["prod"])
    assert len(found) == 1 and "seeded KV key 'config:tiers'" in found[0] and "`production: true`" in found[0]
    assert violations(resources_of(run_program("prod", {"production": False})), "prod")  # the pack catches it
    assert not any(r.protect for r in resources_of(dev_run) if r.type == guardrails.KV_ENTRY)  # dev may drop them


def test_binding_a_preview_namespace_or_database_is_refused(dev_run):
    resources = resources_of(dev_run)
    preview_kv = next(r for r in resources if r.type == KV_NAMESPACE and r.name == "kv-preview").props["id"]
    preview_db = next(r for r in resources if r.type == D1 and r.name == "db-preview").props["id"]
    script = next(r for r in resources if r.type == SCRIPT)
    swapped = [dict(b) for b in script.props["bindings"]]
    for binding in swapped:
        if binding["type"] == "kv_namespace":
            binding["namespaceId"] = preview_kv
        if binding["type"] == "d1":
            binding["id"] = preview_db
    bad_script = guardrails.Resource(SCRIPT, script.name, {**script.props, "bindings": swapped})
    found = guardrails.preview_storage_bound([r for r in resources if r is not script] + [bad_script])
    assert len(found) == 2
    assert "binds 'KV' to the preview resource 'guruai-cache-dev-preview'" in found[0]
    assert "binds 'DB' to the preview resource 'guruai-db-dev-preview'" in found[1]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("SERVICE_TOKEN", True), ("API_KEY", True), ("dbPassword", True), ("STRIPE_SECRET", True),
        ("privateKey", True), ("APIKey", True), ("SUBSCRIPTION_TTL", False), ("MONKEY", False),
        ("KEYSPACE", False), ("ENVIRONMENT", False),
    ],
)  # fmt: skip
def test_plain_text_bindings_named_like_secrets_are_refused(name, secret):
    script = guardrails.Resource(SCRIPT, "worker", {"bindings": [{"type": "plain_text", "name": name, "text": "x"}]})
    assert bool(guardrails.secret_in_plain_text(script)) is secret
    as_secret = guardrails.Resource(
        SCRIPT, "worker", {"bindings": [{"type": "secret_text", "name": name, "text": "x"}]}
    )
    assert guardrails.secret_in_plain_text(as_secret) == []


def entry(**props):
    return guardrails.Resource(guardrails.KV_ENTRY, "seed", {"keyName": "k", "value": "v", **props})


def test_kv_entries_are_held_to_kvs_limits_exactly():
    assert guardrails.kv_entry_problems(entry(keyName="k" * 512, value="v" * limits.KV_MAX_VALUE_BYTES)) == []
    assert guardrails.kv_entry_problems(entry(metadata="m" * 1024, expirationTtl=60)) == []
    assert "513 bytes" in guardrails.kv_entry_problems(entry(keyName="k" * 511 + "é"))[0]  # bytes, not characters
    assert "over KV's 26214400" in guardrails.kv_entry_problems(entry(value="v" * (limits.KV_MAX_VALUE_BYTES + 1)))[0]
    assert "metadata" in guardrails.kv_entry_problems(entry(metadata="m" * 1025))[0]
    assert "under KV's minimum of 60 s" in guardrails.kv_entry_problems(entry(expirationTtl=59))[0]
    assert guardrails.kv_entry_problems(entry(keyName=""))


def test_compatibility_date_age_is_bounded_by_the_configured_days():
    def script(date):
        return guardrails.Resource(SCRIPT, "worker", {"compatibilityDate": date})

    assert guardrails.stale_compatibility_date(script("2025-05-01"), 365, TODAY) == []
    found = guardrails.stale_compatibility_date(script("2025-04-30"), 365, TODAY)
    assert found and "366 days old, over the 365 allowed" in found[0]
    assert guardrails.stale_compatibility_date(script("2025-04-30"), 400, TODAY) == []
    assert "not a YYYY-MM-DD date" in guardrails.stale_compatibility_date(script("soon"), 365, TODAY)[0]


def test_stack_comes_from_the_urn():
    assert guardrails.stack_of("urn:pulumi:prod::guruai-cache::guruai:cache:CacheStack::guruai-prod-cache") == "prod"


def test_the_packs_copy_of_kv_limits_matches_infra():
    assert (guardrails.KV_MAX_KEY_BYTES, guardrails.KV_MAX_VALUE_BYTES, guardrails.KV_MAX_METADATA_BYTES) == (
        limits.KV_MAX_KEY_BYTES,
        limits.KV_MAX_VALUE_BYTES,
        limits.KV_MAX_METADATA_BYTES,
    )
    assert guardrails.KV_MIN_EXPIRATION_TTL_S == limits.KV_MIN_EXPIRATION_TTL_S


LOCK = tomllib.loads((ROOT / "uv.lock").read_text())["package"]


def locked_closure(*roots):
    """The packages uv.lock installs for `roots`, with each one's locked version and file hashes."""
    packages = {p["name"]: p for p in LOCK}
    found, todo = {}, list(roots)
    while todo:
        package = packages[todo.pop()]
        if package["name"] not in found:
            files = ([package["sdist"]] if "sdist" in package else []) + package.get("wheels", [])
            found[package["name"]] = (package["version"], {f["hash"].removeprefix("sha256:") for f in files})
            todo += [dependency["name"] for dependency in package.get("dependencies", [])]
    return found


def test_the_packs_direct_requirements_are_the_locked_versions():
    pins = dict(
        line.split("==") for line in (POLICY / "requirements.in").read_text().splitlines() if line and line[0] != "#"
    )
    locked = locked_closure("pulumi", "pulumi-policy")
    assert pins == {"pulumi": locked["pulumi"][0], "pulumi-policy": locked["pulumi-policy"][0]}


def test_the_packs_requirements_are_hash_locked_like_uv_lock():
    """Every package pip installs for the pack, transitive ones too, at uv.lock's version, each with hashes.

    Every file uv.lock trusts for a package is accepted (the CI runner's wheel among them), and a
    requirements file with hashes puts pip in hash-checking mode: any other file is refused.
    """
    required = requirement_blocks(POLICY / "requirements.txt")
    locked = locked_closure("pulumi", "pulumi-policy")
    assert set(required) == set(locked), "regenerate policy/requirements.txt (its first lines say how)"
    for name, (version, hashes) in required.items():
        assert version == locked[name][0], f"{name}: {version} in requirements.txt, {locked[name][0]} in uv.lock"
        assert hashes >= locked[name][1], f"{name}: a file uv.lock trusts has no hash in requirements.txt"
    text = (POLICY / "requirements.txt").read_text()
    assert len(re.findall(r"^[A-Za-z0-9_.-]+==", text, re.M)) == len(required)  # nothing unpinned slipped in
    assert "uv pip compile policy/requirements.in" in text.splitlines()[1]


def test_the_pack_imports_nothing_its_virtualenv_lacks():
    allowed = set(sys.stdlib_module_names) | {"pulumi", "pulumi_policy", "guardrails"}
    for path in POLICY.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            )
            assert {n.split(".")[0] for n in names} <= allowed, f"{path.name} imports {names}"


@pytest.fixture
def pack(monkeypatch):
    """Run policy/__main__.py as `pulumi` does (runpy on the pack), with PolicyPack recording instead of serving."""
    built = {}
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: built.update(kwargs))
    monkeypatch.setitem(sys.modules, "infra", None)  # the pack's own venv has no `infra`
    runpy.run_path(str(POLICY), run_name="__main__")
    return built


def options(protect):
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def test_the_pack_wires_every_rule(pack):
    assert pack["name"] == "guruai-cache-guardrails" and pack["enforcement_level"] == EnforcementLevel.MANDATORY
    policies = {policy.name: policy for policy in pack["policies"]}
    assert set(policies) == {
        "production-storage-protected",
        "no-preview-storage-in-production-bindings",
        "no-secret-in-plain-text-binding",
        "kv-entries-within-limits",
        "compatibility-date-recent",
    }
    assert policies["compatibility-date-recent"].enforcement_level == EnforcementLevel.ADVISORY

    def resource_violations(
        name, typ, props, protect=False, urn="urn:pulumi:prod::guruai-cache::t::r", config=None, retain=None
    ):
        reported = []
        opts = options(protect)
        if retain is not None:
            opts.retain_on_delete = retain  # what pulumi-policy 1.21's options lack
        args = ResourceValidationArgs(typ, props, urn, "r", opts, None, config or {})
        policies[name].validate(args, lambda message, urn=None: reported.append(message))
        return reported

    assert resource_violations("production-storage-protected", D1, {"name": "guruai-db-prod"})
    assert not resource_violations("production-storage-protected", D1, {"name": "guruai-db-prod"}, protect=True)
    # When the engine reports retainOnDelete (a later SDK's options), the live check uses it.
    assert (
        "is not retained on delete"
        in resource_violations(
            "production-storage-protected", D1, {"name": "guruai-db-prod"}, protect=True, retain=False
        )[0]
    )
    assert not resource_violations(
        "production-storage-protected", D1, {"name": "guruai-db-prod"}, protect=True, retain=True
    )
    assert not resource_violations(
        "production-storage-protected", D1, {"name": "x"}, config={"productionStacks": ["live"]}
    )
    assert resource_violations(
        "no-secret-in-plain-text-binding", SCRIPT, {"bindings": [{"type": "plain_text", "name": "API_KEY"}]}
    )
    assert resource_violations("kv-entries-within-limits", guardrails.KV_ENTRY, {"keyName": "", "value": "v"})
    old = {"compatibilityDate": "2020-01-01"}
    assert resource_violations("compatibility-date-recent", SCRIPT, old)
    assert not resource_violations("compatibility-date-recent", SCRIPT, old, config={"maxAgeDays": 100_000})

    preview = PolicyResource(
        KV_NAMESPACE, {"title": "a-preview", "id": "p" * 32}, "urn:k", "kv", options(False), None, None, [], {}
    )
    script = PolicyResource(
        SCRIPT,
        {"bindings": [{"type": "kv_namespace", "name": "KV", "namespaceId": "p" * 32}]},
        "urn:s",
        "w",
        options(False),
        None,
        None,
        [],
        {},
    )
    reported = []
    policies["no-preview-storage-in-production-bindings"].validate(
        StackValidationArgs([preview, script], {}), lambda message, urn=None: reported.append(message)
    )
    assert len(reported) == 1 and "'a-preview'" in reported[0]


def test_policy_pack_project_file_names_a_python_runtime_with_its_own_virtualenv():
    text = (POLICY / "PulumiPolicy.yaml").read_text()
    assert re.search(r"runtime:\s+name: python\s+options:\s+toolchain: pip\s+virtualenv: venv", text)
    assert "policy/venv/" in (ROOT / ".gitignore").read_text()


def test_the_ci_docs_enforce_the_pack_by_its_published_name(pack):
    """docs/ci.md's policy-group commands name the pack as `pulumi policy publish` will publish it."""
    docs = (ROOT / "docs" / "ci.md").read_text()
    assert f"pulumi policy enable <org>/{pack['name']} latest --policy-group" in docs
    assert "pulumi policy publish <org> --cwd policy" in docs
