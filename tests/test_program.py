"""The whole Pulumi program under strict mocks: graph, wiring, seeds, protection, secrets."""

import dataclasses
import hashlib
import json
import typing

import pulumi
import pulumi_cloudflare as cloudflare
import pytest
from pulumi_cloudflare import outputs as cloudflare_outputs
from pulumi_mocks import (
    ACCOUNT_ID,
    ACCOUNT_SUBDOMAIN,
    COMMAND,
    COMPONENT,
    CRON,
    CUSTOM_DOMAIN,
    D1,
    GET_WORKER,
    KV_ENTRY,
    KV_NAMESPACE,
    RANDOM_PASSWORD,
    ROUTE,
    SCRIPT,
    SUBDOMAIN,
    ProviderRejected,
    StrictCloudflareMocks,
    run_program,
    stack_config,
    unwrap,
)
from pydantic.alias_generators import to_camel

from infra import paths
from infra.plan import observability
from infra.plan.outputs import StackOutputs, output_name
from infra.plan.seeds import seed_entries
from infra.plan.worker import SETTING_VARS, var_defaults
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
    # config:tiers and config:catalog, and a key per flag only with the deprecated legacyFlagKeys
    seeds_per_namespace = 2 + (len(settings.feature_flags) if settings.legacy_flag_keys else 0)
    assert counts == {
        COMPONENT: 1,
        KV_NAMESPACE: 2,
        D1: 2,
        SCRIPT: 1,
        CRON: 1,
        KV_ENTRY: 2 * seeds_per_namespace,
        COMMAND: 2,  # the D1 migrations, database and preview database
        SUBDOMAIN: 1,  # the workers.dev address, managed
        # the generated every-scope token: only a stack without clients, never a production one
        **({RANDOM_PASSWORD: 1} if not settings.clients else {}),
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
    # The order the provider compares the list in: storage, the limiters, ENVIRONMENT and the
    # setting-backed variables in their declared order, the catalog, the clients, the metrics.
    assert [(b["type"], b["name"]) for b in items] == [
        ("kv_namespace", "KV"),
        ("d1", "DB"),
        ("ratelimit", "RATE_LIMITER"),
        ("ratelimit", "CLIENT_LIMITER"),
        ("plain_text", "ENVIRONMENT"),
        *(("plain_text", name) for name in SETTING_VARS),
        ("json", "CATALOG"),
        ("secret_text", "CLIENTS"),
        ("analytics_engine", "METRICS"),
    ]
    assert bindings(run_program("dev"))[0] == items  # the same order on every run
    by_name = {b["name"]: b for b in items}
    assert by_name["KV"]["namespaceId"] == kv.id != dev_run.one(KV_NAMESPACE, "kv-preview").id
    assert by_name["DB"]["id"] == db.id != dev_run.one(D1, "db-preview").id
    assert by_name["RATE_LIMITER"]["simple"] == {"limit": 100, "period": 60}
    assert by_name["ENVIRONMENT"]["text"] == "dev"
    # Each setting-backed variable carries its setting, here its default (the fixture sets none).
    for name, value in var_defaults().items():
        assert by_name[name]["text"] == str(value)
    # The burst 429's Retry-After: the limiter's own period, which the binding does not tell the script.
    assert by_name["BURST_RATE_LIMIT_PERIOD"]["text"] == str(int(by_name["RATE_LIMITER"]["simple"]["period"]))
    # The burst policy of the RateLimit-Policy field: the limiter's own limit, as the binding tells it not either.
    assert by_name["BURST_RATE_LIMIT_LIMIT"]["text"] == str(int(by_name["RATE_LIMITER"]["simple"]["limit"]))
    # The client limiter: its own namespace, its limit sized from the stack's traffic (none set here).
    assert by_name["CLIENT_LIMITER"]["namespaceId"] != by_name["RATE_LIMITER"]["namespaceId"]
    assert by_name["CLIENT_LIMITER"]["simple"]["limit"] >= 5 * 60
    assert by_name["CLIENT_RATE_LIMIT_PERIOD"]["text"] == str(int(by_name["CLIENT_LIMITER"]["simple"]["period"]))
    assert by_name["METRICS"]["dataset"] == "guruai_requests_dev"  # one dataset per stack


def test_the_request_log_rate_count_age_and_metrics_are_settings():
    run = run_program(
        "dev", {"requestLog": {"routineSampleRate": 0.5}, "entitlementsCountMaxAge": 0, "metrics": {"enabled": False}}
    )
    items, _ = bindings(run)
    by_name = {b["name"]: b for b in items}
    assert (by_name["ROUTINE_LOG_SAMPLE_RATE"]["text"], by_name["ENTITLEMENTS_COUNT_MAX_AGE"]["text"]) == ("0.5", "0")
    assert "METRICS" not in by_name  # metrics off: no binding, and the Worker writes no data point


def test_ttl_settings_reach_the_worker_vars():
    run = run_program("dev", {"ttls": {"subscription": 120}, "tiersMaxAge": 0, "usageWindowSeconds": 3600})
    items, _ = bindings(run)
    texts = {b["name"]: b.get("text") for b in items}
    assert (texts["SUBSCRIPTION_TTL"], texts["TIERS_MAX_AGE"], texts["USAGE_WINDOW_SECONDS"]) == ("120", "0", "3600")
    assert "USAGE_TTL" not in texts  # ttls.usage is deprecated: nothing reads it


def test_the_renamed_settings_old_names_still_reach_the_worker_vars():
    run = run_program("dev", {"ttls": {"tierConfig": 600, "rateLimit": 7200}})
    texts = {b["name"]: b.get("text") for b in bindings(run)[0]}
    assert (texts["TIERS_MAX_AGE"], texts["USAGE_WINDOW_SECONDS"]) == ("600", "7200")
    assert not {"TIER_CONFIG_TTL", "RATE_LIMIT_TTL"} & set(texts)


def test_worker_script_module_compat_date_observability_and_cron(dev_run):
    script = dev_run.one(SCRIPT)
    assert script.plain("mainModule") == "worker.js"
    assert script.plain("content") == paths.WORKER_BUNDLE.read_text()  # the bundle wrangler dev runs too
    assert script.plain("compatibilityDate") == "2026-04-01"
    assert script.plain("observability") == {
        "enabled": True,
        "headSamplingRate": 1.0,
        "logs": {"enabled": True, "invocationLogs": True, "headSamplingRate": 1.0, "persist": True, "destinations": []},
        "traces": {
            "enabled": False,
            "headSamplingRate": 1.0,
            "persist": True,
            "destinations": [],
        },  # no propagationPolicy: it needs a feature most accounts lack (below)
        "issues": {"enabled": False},
    }
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
    catalog = json.loads(expected["config:catalog"])
    assert catalog["flags"]["ai-answers-v2"] == {"enabled": True, "tiers": ["pro", "premium"]}
    assert all("expirationTtl" not in r.inputs for r in dev_run.of_type(KV_ENTRY))


def test_prod_stateful_resources_are_protected_and_retained(prod_run):
    stateful = [r for r in prod_run.resources if r.type in STATEFUL]
    assert len(stateful) == 4
    assert all(r.protect and r.retain_on_delete for r in stateful)
    assert not any(r.protect for r in prod_run.resources if r.type not in (*STATEFUL, KV_ENTRY))


def test_prod_seed_keys_are_protected_and_retained(prod_run):
    """Without config:tiers every usage call, PUT and /tiers answers 503: in production neither
    `pulumi destroy --exclude-protected` nor a dropped setting may delete a seeded key."""
    seeds = prod_run.of_type(KV_ENTRY)
    assert {r.plain("keyName") for r in seeds} >= {"config:tiers", "config:catalog"}
    assert all(r.protect and r.retain_on_delete for r in seeds)


def test_dev_seed_keys_stay_disposable(dev_run):
    assert not any(r.protect or r.retain_on_delete for r in dev_run.of_type(KV_ENTRY))


def test_prod_retains_its_storage_even_when_protection_is_turned_off():
    """Opting out of protection (to let a replacement through) never lets data go with the stack."""
    run = run_program("prod", {"protectStatefulResources": False})
    stateful = [r for r in run.resources if r.type in STATEFUL]
    assert stateful and not any(r.protect for r in stateful)
    assert all(r.retain_on_delete for r in stateful)
    assert all(r.protect and r.retain_on_delete for r in run.of_type(KV_ENTRY))


@pytest.mark.parametrize(
    ("stack", "overrides", "production"),
    [
        ("prod", {}, True),  # Pulumi.prod.yaml says `production: true`
        ("prod", {"production": False}, False),  # an explicit opt-out
        ("dev", {}, False),
        # a production stack names its clients
        ("dev", {"production": True, "clients": {"app": {"scopes": ["read"], "tokenSha256": "ab" * 32}}}, True),
    ],
)
def test_the_production_setting_decides_seed_protection(stack, overrides, production):
    run = run_program(stack, overrides)
    assert {r.protect and r.retain_on_delete for r in run.of_type(KV_ENTRY)} == {production}


def test_a_stack_named_prod_is_production_without_the_setting():
    settings = load_settings({"accountId": ACCOUNT_ID}, stack="prod", env={})
    assert settings.is_production
    assert not load_settings({"accountId": ACCOUNT_ID}, stack="staging", env={}).is_production


def test_dev_opts_out_of_protection(dev_run):
    assert not any(r.protect or r.retain_on_delete for r in dev_run.resources)


def test_protection_is_on_unless_a_stack_opts_out():
    run = run_program("dev", {"protectStatefulResources": True})
    assert all(r.protect and r.retain_on_delete for r in run.resources if r.type in STATEFUL)


def _fields(output_type: type) -> dict[str, type | None]:
    """The wire (camelCase) fields of a provider output type, each with its nested output type if any."""
    hints_namespace = {**vars(cloudflare_outputs), "outputs": cloudflare_outputs}
    found = {}
    for prop in vars(output_type).values():
        if isinstance(prop, property) and hasattr(prop.fget, "_pulumi_name"):
            returned = typing.get_type_hints(prop.fget, hints_namespace)["return"]
            nested = [
                a for a in typing.get_args(returned) or (returned,) if isinstance(a, type) and issubclass(a, dict)
            ]
            found[prop.fget._pulumi_name] = nested[0] if nested else None
    return found


# Computed fields sent only when a setting asks (infra/plan/observability.py): as camelCase paths.
SENT_ONLY_WHEN_SET = {
    "observability." + ".".join(to_camel(part) for part in path.split(".")) for path in observability.SENT_ONLY_WHEN_SET
}


def _undeclared(output_type: type, declared: dict, where: str = "observability") -> list[str]:
    missing = []
    for name, nested in _fields(output_type).items():
        if f"{where}.{name}" in SENT_ONLY_WHEN_SET:
            continue
        if declared.get(name) is None:
            missing.append(f"{where}.{name}")
        elif nested is not None:
            missing += _undeclared(nested, declared[name], f"{where}.{name}")
    return missing


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_observability_field_the_api_returns_is_declared(stack, dev_run, prod_run):
    """A read copies the API's whole observability block into the state (upstream: optional,
    not computed): any field the program leaves out is a diff on every refresh."""
    run = {"dev": dev_run, "prod": prod_run}[stack]
    script_output_hints = typing.get_type_hints(
        cloudflare.WorkersScript.observability.fget, {**vars(cloudflare), "outputs": cloudflare_outputs}
    )
    optional = typing.get_args(script_output_hints["return"])[0]  # Output[Optional[X]]
    observability_type = next(a for a in typing.get_args(optional) if a is not type(None))
    assert observability_type is cloudflare_outputs.WorkersScriptObservability
    assert {"headSamplingRate", "logs"} <= set(_fields(observability_type))  # the walk sees the nested parts
    assert "invocationLogs" in _fields(_fields(observability_type)["logs"])
    assert _undeclared(observability_type, run.one(SCRIPT).plain("observability")) == []


def test_trace_propagation_is_sent_only_when_a_setting_asks(dev_run):
    assert {"observability.traces.propagationPolicy"} == SENT_ONLY_WHEN_SET
    assert "propagationPolicy" not in dev_run.one(SCRIPT).plain("observability")["traces"]
    asked = run_program("dev", {"observability": {"traces": {"propagationPolicy": "accept"}}})
    assert asked.one(SCRIPT).plain("observability")["traces"]["propagationPolicy"] == "accept"


def test_observability_settings_reach_the_script():
    run = run_program(
        "prod",
        {"observability": {"headSamplingRate": 0.5, "logs": {"headSamplingRate": 0.1, "invocationLogs": False}}},
    )
    block = run.one(SCRIPT).plain("observability")
    assert (block["headSamplingRate"], block["logs"]["headSamplingRate"], block["logs"]["invocationLogs"]) == (
        0.5,
        0.1,
        False,
    )


def test_the_workers_dev_address_is_managed_with_previews_off(dev_run):
    subdomain = dev_run.one(SUBDOMAIN)
    assert subdomain.plain("scriptName") == "guruai-worker-dev"
    assert subdomain.plain("enabled") is True and subdomain.plain("previewsEnabled") is False
    assert dev_run.one(SCRIPT).urn in subdomain.dependencies  # enabled after the upload


def test_the_worker_url_is_its_workers_dev_address_from_the_api(dev_run):
    assert dev_run.outputs["workerUrl"] == f"https://guruai-worker-dev.{ACCOUNT_SUBDOMAIN}.workers.dev"
    assert dev_run.invokes == [(GET_WORKER, {"accountId": ACCOUNT_ID, "workerId": "guruai-worker-dev"})]


ZONE_ID = "f" * 32


def test_a_custom_domain_serves_the_worker_and_becomes_its_url():
    run = run_program("prod", {"customDomain": {"hostname": "cache.example.com", "zoneId": ZONE_ID}})
    domain = run.one(CUSTOM_DOMAIN)
    assert (domain.plain("hostname"), domain.plain("zoneId"), domain.plain("service")) == (
        "cache.example.com",
        ZONE_ID,
        "guruai-worker-prod",
    )
    assert run.outputs["workerUrl"] == "https://cache.example.com"
    assert not run.invokes  # the app's own domain needs no lookup
    # workers.dev off unless asked: it would bypass the zone's WAF and rate-limiting rules
    assert run.one(SUBDOMAIN).plain("enabled") is False


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_custom_domain_is_replaced_delete_first(stack):
    """Its create is an upsert by hostname: created first, the old one's DELETE would detach the new."""
    run = run_program(stack, {"customDomain": {"hostname": "cache.example.com", "zoneId": ZONE_ID}})
    assert run.one(CUSTOM_DOMAIN).delete_before_replace


@pytest.mark.parametrize(
    "own",
    [
        {"customDomain": {"hostname": "cache.example.com", "zoneId": ZONE_ID}},
        {"route": {"pattern": "api.example.com/*", "zoneId": ZONE_ID}},
    ],
)
def test_workers_dev_stays_beside_an_own_domain_only_when_asked(own):
    run = run_program("dev", {**own, "workersDev": True})
    assert run.one(SUBDOMAIN).plain("enabled") is True
    assert run.outputs["workerUrl"].endswith(".example.com")  # verify calls the own domain still


def test_a_route_serves_the_worker_and_turns_workers_dev_off():
    run = run_program("prod", {"route": {"pattern": "api.example.com/*", "zoneId": ZONE_ID}})
    route = run.one(ROUTE)
    assert (route.plain("pattern"), route.plain("zoneId"), route.plain("script")) == (
        "api.example.com/*",
        ZONE_ID,
        "guruai-worker-prod",
    )
    assert run.outputs["workerUrl"] == "https://api.example.com"
    assert run.one(SUBDOMAIN).plain("enabled") is False


def test_the_mocks_refuse_an_unmocked_invoke_and_a_worker_that_is_not_there():
    mocks = StrictCloudflareMocks()
    with pytest.raises(ProviderRejected, match="unexpected invoke"):
        mocks.call(pulumi.runtime.MockCallArgs(token="cloudflare:index/getZone:getZone", args={}, provider=""))
    with pytest.raises(ProviderRejected, match="HTTP 404"):
        mocks.call(
            pulumi.runtime.MockCallArgs(token=GET_WORKER, args={"accountId": ACCOUNT_ID, "workerId": "x"}, provider="")
        )


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


def test_the_exported_outputs_are_exactly_the_declared_ones_and_read_back_by_name(dev_run):
    """One declaration (infra/plan/outputs.py): the program exports each field under its camelCase
    name, and the tools read a saved `pulumi stack output --json` back through the same fields."""
    declared = [output_name(field.name) for field in dataclasses.fields(StackOutputs)]
    assert sorted(dev_run.outputs) == sorted(declared) and len(declared) == len(set(declared))
    read = StackOutputs.from_exported(dev_run.outputs)
    assert (read.worker_url, read.kv_namespace_id) == (dev_run.outputs["workerUrl"], dev_run.outputs["kvNamespaceId"])
    assert StackOutputs.from_exported({"workerURL": "x"}).worker_url is None  # another spelling is not read


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
        (SCRIPT, {"bindings": [{"type": "json", "name": "J", "json": '"' + "x" * 5200 + '"'}]}, "10054"),
        (
            SCRIPT,
            {"bindings": [{"type": "plain_text", "name": f"V{n}", "text": "v"} for n in range(65)]},
            "at most 64",
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


def test_a_catalog_of_a_thousand_flags_is_bound_in_parts_the_api_accepts():
    """1,000 flags and 50 tiers: over one variable's 5 KB, so CATALOG names its parts, each under
    the limit, within the Worker's 64 variables (the mocks refuse either excess), and the parts
    spell the catalog the settings give."""
    tiers = [{"name": f"tier-{n}", "monthlyPrice": n, "dailyRequestLimit": 100 + n} for n in range(50)]
    tiers += [{"name": "pro", "monthlyPrice": 9.99, "dailyRequestLimit": 1000}]
    flags = {f"flag-{n:04d}": {"enabled": n % 2 == 0, "tiers": ["pro"], "description": "d" * 30} for n in range(1000)}
    run = run_program("dev", {"tiers": tiers, "featureFlags": flags, "devSubscriptions": []})
    items, _ = bindings(run)
    header = json.loads(next(b["json"] for b in items if b["name"] == "CATALOG"))
    parts = [b["text"] for b in items if b["name"].startswith("CATALOG_PART_")]
    assert header["parts"] == len(parts) > 1 and all(len(p.encode()) <= 5000 for p in parts)
    document = json.loads("".join(parts))
    assert document["version"] == header["version"] and len(document["flags"]) == 1000
    assert len(document["tiers"]) == 51
