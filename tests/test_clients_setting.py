"""The `clients` setting and what the program makes of it: the CLIENTS secret binding (digests and
scopes), the `clients` output (names and scopes only), the deprecated service token."""

import hashlib
import json
import re

import pulumi
import pytest
from pulumi_mocks import (
    ACCOUNT_ID,
    PROJECT,
    RANDOM_PASSWORD,
    SCRIPT,
    StrictCloudflareMocks,
    run_program,
    unwrap,
)

from infra.settings import SettingsError, load_settings
from infra.settings.secrets import SERVICE_TOKEN_REMOVAL
from infra.stack.component import CacheStack, CacheStackArgs
from infra.stack.mocks import RecordingMonitor
from infra.worker_contract import SCOPES

APP = hashlib.sha256(b"app-token").hexdigest()
BILLING = hashlib.sha256(b"billing-token").hexdigest()
CLIENTS = {
    "app": {"scopes": ["usage", "read"], "tokenSha256": APP},
    "billing": {"scopes": ["write"], "tokenSha256": BILLING},
}


def clients_binding(run):
    items, is_secret = unwrap(run.one(SCRIPT).inputs["bindings"])
    return json.loads(next(b["text"] for b in items if b["name"] == "CLIENTS")), is_secret


def errors_for(clients):
    with pytest.raises(SettingsError) as caught:
        load_settings({"clients": clients}, stack="dev", require_account=False)
    return str(caught.value)


def test_scopes_are_kept_in_one_order_and_the_shorthand_means_every_scope():
    settings = load_settings(
        {"clients": {**CLIENTS, "solo": APP.replace("a", "b")}}, stack="dev", require_account=False
    )
    assert settings.clients["app"].scopes == ("read", "usage")  # the config's order does not matter
    assert settings.clients["solo"].scopes == SCOPES


@pytest.mark.parametrize(
    "clients,expected",
    [
        ({"app": {"scopes": [], "tokenSha256": APP}}, "clients.app.scopes: a client without scopes can call nothing"),
        ({"app": {"scopes": ["admin"], "tokenSha256": APP}}, "clients.app.scopes[0]"),
        ({"App!": APP}, "clients.App!: not a client name"),
        ({"local-read": APP}, "clients.local-read: names starting with 'local-' are reserved"),
        ({"a": APP, "b": APP}, "clients.b.tokenSha256: the same token as client 'a'"),
    ],
)
def test_bad_clients_are_named_with_the_fix(clients, expected):
    assert expected in errors_for(clients)


def test_a_plaintext_token_in_place_of_its_digest_is_never_echoed():
    token = "my-very-secret-token-" + "s" * 30
    message = errors_for({"app": token})
    assert "clients.app.tokenSha256: not a SHA-256 hex digest" in message and "python -m guruai_cache_client" in message
    assert "secret, not shown" in message  # it looks like a credential: not even a part of it
    assert token not in message and token[:20] not in message


def test_the_worker_gets_digests_and_scopes_in_one_secret_binding():
    run = run_program("dev", {"clients": CLIENTS})
    bound, is_secret = clients_binding(run)
    assert is_secret
    assert bound == {
        "app": {"sha256": APP, "scopes": ["read", "usage"]},
        "billing": {"sha256": BILLING, "scopes": ["write"]},
    }
    assert not run.of_type(RANDOM_PASSWORD)  # clients only: no token with every scope exists


def test_the_clients_output_names_clients_and_scopes_never_digests():
    """What `pulumi preview` shows (a changed output), since the bindings list itself is secret."""
    run = run_program("dev", {"clients": CLIENTS})
    assert run.outputs["clients"] == {"app": ["read", "usage"], "billing": ["write"]}
    assert "clients" not in run.secret_outputs
    assert APP not in json.dumps(run.outputs) and BILLING not in json.dumps(run.outputs)


def test_a_removed_client_is_gone_from_the_next_deploys_binding():
    bound, _ = clients_binding(run_program("dev", {"clients": {"app": CLIENTS["app"]}}))
    assert set(bound) == {"app"}
    assert run_program("dev", {"clients": {"app": CLIENTS["app"]}}).outputs["clients"] == {"app": ["read", "usage"]}


def test_the_service_token_still_works_beside_clients_with_a_deprecation(monkeypatch):
    warnings = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    token = "legacy-" + "x" * 40
    run = run_program("dev", {"clients": CLIENTS}, secrets={"serviceToken": token})
    bound, _ = clients_binding(run)
    assert bound["service"] == {"sha256": hashlib.sha256(token.encode()).hexdigest(), "scopes": list(SCOPES)}
    assert run.outputs["clients"]["service"] == list(SCOPES)
    assert [w for w in warnings if "serviceToken" in w] == [
        "deprecated setting serviceToken: one token with every scope, shared by every caller; it still works, as "
        f"the client `service`, until {SERVICE_TOKEN_REMOVAL} (then the setting is removed). Give each caller its own client with only the scopes it needs (`clients`, see "
        "docs/configuration.md), move the callers to their tokens, then `pulumi config rm serviceToken`"
    ]


def test_a_stack_without_clients_keeps_its_generated_token_and_is_told_to_define_clients(monkeypatch):
    warnings = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    run = run_program("dev")
    assert run.outputs["clients"] == {"service": list(SCOPES)}
    assert any("no `clients` set" in w for w in warnings)


def test_a_production_stack_without_clients_stops_before_any_resource_with_the_command_that_makes_one(
    monkeypatch,
):
    registered = []
    original = StrictCloudflareMocks.new_resource
    monkeypatch.setattr(
        StrictCloudflareMocks, "new_resource", lambda self, args: registered.append(args.typ) or original(self, args)
    )
    with pytest.raises(pulumi.RunError) as caught:
        run_program("prod", {"clients": {}})
    message = str(caught.value)
    assert "clients: none in a production stack" in message
    assert "python -m guruai_cache_client new-token --name <app> --scope read" in message
    assert "`pulumi config set` lines it prints, with --stack prod" in message
    assert registered == []


@pytest.mark.parametrize(
    ("overrides", "secrets", "expected"),
    [
        ({"clients": {"app": APP}}, {}, "clients.app: the every-scope shorthand `<name>: <digest>` is refused"),
        ({}, {"serviceToken": "s" * 40}, "serviceToken: a token with every scope is refused in a production stack"),
    ],
)
def test_a_production_stack_refuses_every_scope_tokens(overrides, secrets, expected):
    with pytest.raises(pulumi.RunError, match=re.escape(expected)) as caught:
        run_program("prod", overrides, secrets)
    assert "s" * 40 not in str(caught.value)


def test_every_scope_tokens_stay_allowed_outside_production():
    """The shorthand and serviceToken: a dev stack's callers are the developers' own (deprecated:
    serviceToken, with its removal date)."""
    run = run_program("dev", {"clients": {"app": APP}}, secrets={"serviceToken": "s" * 40})
    assert run.outputs["clients"] == {"app": list(SCOPES), "service": list(SCOPES)}


def test_a_production_component_never_generates_a_token():
    """Even given no clients (the program refuses that first), CacheStack makes no every-scope token."""
    mocks = StrictCloudflareMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="prod", preview=False, monitor=monitor)
    settings = load_settings({"accountId": ACCOUNT_ID}, stack="prod", env={})
    assert settings.is_production and not settings.clients

    @pulumi.runtime.test
    def build():
        return CacheStack("cache", CacheStackArgs.from_settings(settings, "prod", api_token="t")).outputs.clients

    build()
    assert not [urn for urn in monitor.resources if RANDOM_PASSWORD in urn]
    assert any(SCRIPT in urn for urn in monitor.resources)


def test_a_client_named_service_beside_the_service_token_is_refused():
    with pytest.raises(pulumi.RunError, match=r"clients\.service: the name of the client `serviceToken` stands for"):
        run_program("dev", {"clients": {"service": APP}}, secrets={"serviceToken": "legacy-" + "x" * 40})
