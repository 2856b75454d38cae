"""The whole Pulumi program under strict mocks: graph, wiring, seeds, protection, secrets."""

import hashlib
import json

import pulumi
import pytest
from pulumi_mocks import (
    ACCOUNT_ID,
    COMMAND,
    COMPONENT,
    CRON,
    D1,
    KV_ENTRY,
    KV_NAMESPACE,
    RANDOM_PASSWORD,
    SCRIPT,
    ProviderRejected,
    StrictCloudflareMocks,
    run_program,
    stack_config,
    unwrap,
)

from infra.plan.seeds import seed_entries
from infra.settings import load_settings, parse_config_values
from infra.worker_contract import SCOPES

STATEFUL = (KV_NAMESPACE, D1)


def settings_of(stack):
    raw = parse_config_values({k: v for k, v in stack_config(stack).items()}, "guruai-cache")
    return load_settings({**raw, "accountId": ACCOUNT_ID}, stack=stack, env={})


def bindings(run):
    value, is_secret = unwrap(run.one(SCRIPT).inputs["bindings"])
    return value, is_secret


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_build_the_whole_graph(stack):
    run = run_program(stack)
    settings = settings_of(stack)
    counts = {}
    for resource in run.resources:
        counts[resource.type] = counts.get(resource.type, 0) + 1
    seeds_per_namespace = 1 + len(settings.feature_flags)
    assert counts == {
        COMPONENT: 1,
        KV_NAMESPACE: 2,
        D1: 2,
        SCRIPT: 1,
        CRON: 1,
        KV_ENTRY: 2 * seeds_per_namespace,
        RANDOM_PASSWORD: 1,
        COMMAND: 2,  # the D1 migrations, database and preview database
    }
    component = run.one(COMPONENT)
    assert component.name == f"guruai-{stack}-cache"
    assert all(r.parent == component.urn for r in run.resources if r is not component)
    names = {r.name: (r.plain("title") or r.plain("name") or r.plain("scriptName")) for r in run.resources}
    assert names["kv"] == f"guruai-cache-{stack}"
    assert names["kv-preview"] == f"guruai-cache-{stack}-preview"
    assert names["db"] == f"guruai-db-{stack}"
    assert names["db-preview"] == f"guruai-db-{stack}-preview"
    assert names["worker"] == f"guruai-worker-{stack}"


def test_dev_and_prod_names_never_collide(dev_run, prod_run):
    def cloudflare_names(run):
        return {
            r.plain("title") or r.plain("name") or r.plain("scriptName")
            for r in run.resources
            if r.type in (*STATEFUL, SCRIPT)
        }

    assert not cloudflare_names(dev_run) & cloudflare_names(prod_run)


def test_app_name_is_a_setting():
    run = run_program("dev", {"appName": "acme"})
    assert run.one(KV_NAMESPACE, "kv").plain("title") == "acme-cache-dev"
    assert run.one(SCRIPT).plain("scriptName") == "acme-worker-dev"


def test_bindings_point_at_the_production_resources_in_a_stable_order(dev_run):
    kv = dev_run.one(KV_NAMESPACE, "kv")
    db = dev_run.one(D1, "db")
    items, _ = bindings(dev_run)
    assert [(b["type"], b["name"]) for b in items] == [
        ("kv_namespace", "KV"),
        ("d1", "DB"),
        ("ratelimit", "RATE_LIMITER"),
        ("plain_text", "ENVIRONMENT"),
        ("plain_text", "SUBSCRIPTION_TTL"),
        ("plain_text", "TIER_CONFIG_TTL"),
        ("plain_text", "RATE_LIMIT_TTL"),
        ("plain_text", "USAGE_RETENTION_DAYS"),
        ("json", "CATALOG"),
        ("secret_text", "CLIENTS"),
    ]
    by_name = {b["name"]: b for b in items}
    assert by_name["KV"]["namespaceId"] == kv.id != dev_run.one(KV_NAMESPACE, "kv-preview").id
    assert by_name["DB"]["id"] == db.id != dev_run.one(D1, "db-preview").id
    assert by_name["RATE_LIMITER"]["simple"] == {"limit": 100, "period": 60}
    assert by_name["ENVIRONMENT"]["text"] == "dev"
    assert by_name["SUBSCRIPTION_TTL"]["text"] == "300"


def test_ttl_settings_reach_the_worker_vars():
    run = run_program("dev", {"ttls": {"subscription": 120, "tierConfig": 600}})
    items, _ = bindings(run)
    texts = {b["name"]: b.get("text") for b in items}
    assert (texts["SUBSCRIPTION_TTL"], texts["TIER_CONFIG_TTL"]) == ("120", "600")
    assert "USAGE_TTL" not in texts  # ttls.usage is deprecated: nothing reads it


def test_worker_script_module_compat_date_observability_and_cron(dev_run):
    script = dev_run.one(SCRIPT)
    assert script.plain("mainModule") == "worker.js"
    assert "export default" in script.plain("content")
    assert script.plain("compatibilityDate") == "2026-04-01"
    assert script.plain("observability") == {"enabled": True}
    cron = dev_run.one(CRON)
    assert cron.plain("schedules") == [{"cron": "0 3 * * *"}]
    assert cron.plain("scriptName") == "guruai-worker-dev"
    assert script.urn in cron.dependencies


def test_seeds_equal_the_settings_in_both_namespaces(dev_run):
    expected = seed_entries(settings_of("dev"))
    for namespace_name, prefix in (("kv", "seed-"), ("kv-preview", "preview-seed-")):
        namespace = dev_run.one(KV_NAMESPACE, namespace_name)
        seeded = {
            r.plain("keyName"): r.plain("value")
            for r in dev_run.of_type(KV_ENTRY)
            if r.plain("namespaceId") == namespace.id
        }
        assert seeded == expected
        assert all(
            r.name.startswith(prefix) for r in dev_run.of_type(KV_ENTRY) if r.plain("namespaceId") == namespace.id
        )
    tiers = json.loads(expected["config:tiers"])
    assert tiers["pro"]["dailyRequestLimit"] == 1000
    assert json.loads(expected["flags:ai-answers-v2"]) == {"enabled": True, "tiers": ["pro", "premium"]}
    assert all("expirationTtl" not in r.inputs for r in dev_run.of_type(KV_ENTRY))


def test_prod_stateful_resources_are_protected_and_retained(prod_run):
    stateful = [r for r in prod_run.resources if r.type in STATEFUL]
    assert len(stateful) == 4
    assert all(r.protect and r.retain_on_delete for r in stateful)
    assert not any(r.protect for r in prod_run.resources if r.type not in STATEFUL)


def test_dev_opts_out_of_protection(dev_run):
    assert not any(r.protect or r.retain_on_delete for r in dev_run.resources)


def test_protection_is_on_unless_a_stack_opts_out():
    run = run_program("dev", {"protectStatefulResources": True})
    assert all(r.protect and r.retain_on_delete for r in run.resources if r.type in STATEFUL)


def test_generated_service_token_is_secret_and_never_an_output(dev_run):
    """A stack without clients keeps the generated all-scope token, as the client `service` (its digest)."""
    items, is_secret = bindings(dev_run)
    assert is_secret
    clients = json.loads(next(b["text"] for b in items if b["name"] == "CLIENTS"))
    token = dev_run.one(RANDOM_PASSWORD).state["result"]
    assert token.startswith("generated-")  # the RandomPassword's result, not a literal
    assert clients == {"service": {"sha256": hashlib.sha256(token.encode()).hexdigest(), "scopes": list(SCOPES)}}
    assert token not in json.dumps(items) and token not in json.dumps(dev_run.outputs)
    assert dev_run.one(RANDOM_PASSWORD).plain("special") is False


def test_configured_service_token_is_used_secret_and_not_exported():
    token = "s3cr3t-" + "x" * 40
    run = run_program("dev", secrets={"serviceToken": token})
    items, is_secret = bindings(run)
    assert is_secret
    clients = json.loads(next(b["text"] for b in items if b["name"] == "CLIENTS"))
    assert clients["service"]["sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert not run.of_type(RANDOM_PASSWORD)
    assert token not in json.dumps(items) and token not in json.dumps(run.outputs)


def test_outputs_name_every_resource_and_carry_the_wrangler_section(dev_run):
    out = dev_run.outputs
    assert out["kvNamespaceId"] == dev_run.one(KV_NAMESPACE, "kv").id
    assert out["kvPreviewNamespaceId"] == dev_run.one(KV_NAMESPACE, "kv-preview").id
    assert out["d1DatabaseId"] == dev_run.one(D1, "db").id
    assert out["d1PreviewDatabaseId"] == dev_run.one(D1, "db-preview").id
    assert out["workerScriptName"] == "guruai-worker-dev"
    assert out["seededKeys"] == list(seed_entries(settings_of("dev")))
    section = out["wrangler"]
    assert section["name"] == out["workerScriptName"]
    assert section["kv_namespaces"] == [
        {"binding": "KV", "id": out["kvNamespaceId"], "preview_id": out["kvPreviewNamespaceId"]}
    ]
    d1 = section["d1_databases"][0]
    assert (d1["database_id"], d1["preview_database_id"]) == (out["d1DatabaseId"], out["d1PreviewDatabaseId"])
    assert not dev_run.secret_outputs


def test_bad_settings_stop_the_run_before_any_resource(monkeypatch):
    registered = []
    original = StrictCloudflareMocks.new_resource
    monkeypatch.setattr(
        StrictCloudflareMocks, "new_resource", lambda self, args: registered.append(args.typ) or original(self, args)
    )
    with pytest.raises(pulumi.RunError) as caught:
        run_program("prod", {"ttls": {"usage": 10}, "cron": "bad"}, secrets={"serviceToken": "short"})
    message = str(caught.value)
    assert "stack 'prod': 3 invalid settings" in message
    assert "ttls.usage: below KV's minimum" in message and "cron:" in message
    assert "serviceToken: too short" in message and "short'" not in message  # the secret's value is never echoed
    assert registered == []


def test_missing_account_id_stops_the_run(monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    with pytest.raises(pulumi.RunError, match="accountId: missing"):
        run_program("dev", account_id=None)


@pytest.mark.parametrize(
    ("typ", "inputs", "reason"),
    [
        (SCRIPT, {"bindings": [{"type": "kv", "name": "KV", "namespaceId": "x"}]}, "unknown binding type"),
        (SCRIPT, {"bindings": [{"type": "d1", "name": "DB"}]}, "lacks ['id']"),
        (
            SCRIPT,
            {
                "bindings": [
                    {"type": "ratelimit", "name": "R", "namespaceId": "1", "simple": {"limit": 1, "period": 30}}
                ]
            },
            "10 or 60",
        ),
        (KV_ENTRY, {"namespaceId": "n", "keyName": "k" * 513, "value": "v"}, "1..512 bytes"),
        (KV_NAMESPACE, {"title": "same"}, "10014"),
        (CRON, {"scriptName": "w", "schedules": [{"cron": "* * *"}]}, "bad cron"),
    ],
)
def test_mocks_reject_what_the_provider_would(typ, inputs, reason):
    mocks = StrictCloudflareMocks()
    base = {
        "accountId": ACCOUNT_ID,
        "scriptName": "w",
        "content": "x",
        "mainModule": "w.js",
        "compatibilityDate": "2026-01-01",
    }
    args = pulumi.runtime.MockResourceArgs(typ=typ, name="r", inputs={**base, **inputs}, custom=True)
    if typ == KV_NAMESPACE:
        mocks.new_resource(args)
    with pytest.raises(ProviderRejected, match=reason.replace("[", r"\[").replace("]", r"\]")):
        mocks.new_resource(args)


def test_a_deprecated_setting_is_warned_about_and_changes_nothing(monkeypatch):
    warnings = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    run = run_program("dev", {"ttls": {"usage": 120}, "clients": {"app": "a" * 64}})  # clients: no token warning
    assert [w for w in warnings if "deprecated" in w] == [
        "deprecated setting ttls.usage: no route caches usage data (usage is counted in D1), so the Worker no "
        "longer gets USAGE_TTL; remove it: `pulumi config rm --path ttls.usage`"
    ]
    items, _ = bindings(run)
    assert "USAGE_TTL" not in {b["name"] for b in items}
