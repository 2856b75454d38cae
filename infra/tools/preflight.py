"""`guruai-cache preflight`: what a stack's first `pulumi up` needs from the account and the token,
checked before it is run, with the official `cloudflare` SDK and reads only.

- the token is valid and active (`GET /user/tokens/verify`; an account-owned token verifies at
  `GET /accounts/<id>/tokens/verify` instead);
- it may read each resource family `pulumi up` manages: the account (Account Settings), KV
  namespaces, D1 databases, Workers scripts, and the routes of the zone of a custom domain or route;
- the account has a workers.dev subdomain (`GET /accounts/<id>/workers/subdomain`; code 10007 when
  it has none, as wrangler reads it), else a `WorkersScriptSubdomain` create fails with 10063
  `subdomain_required`; skipped when `workersDev` is off;
- Analytics Engine answers a query on the account (`POST /accounts/<id>/analytics_engine/sql`), else
  uploading the Worker with its `analytics_engine` binding fails with 10089
  `no_access_to_analytics_engine`; skipped when `metrics.enabled` is false.

A read proves a permission's Read level only: that the token may also Edit is known at `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cloudflare
import httpx
from cloudflare.types.accounts.token_verify_response import TokenVerifyResponse as AccountTokenStatus
from cloudflare.types.user.token_verify_response import TokenVerifyResponse as UserTokenStatus

from infra.settings import Settings
from infra.tools.verify import BAD_TOKEN_CODES, Check, error_codes, explain

# The documented permissions (docs/deploying.md, "what each command needs") each probe stands for.
ACCOUNT_SETTINGS = "Account Settings: Read"
KV = "Workers KV Storage: Edit"
D1 = "D1: Edit"
SCRIPTS = "Workers Scripts: Edit"
ROUTES = "Workers Routes: Edit"
ANALYTICS = "Account Analytics: Read"
# Its row of docs/deploying.md's per-command list (tests/test_docs.py keeps them equal).
PERMISSIONS = (
    "Account Settings: Read, Workers KV Storage: Read, D1: Read, Workers Scripts: Read; Account Analytics: Read "
    "with `metrics.enabled` (before the first deploy); with `customDomain` or `route`, Workers Routes: Read on that zone"
)
NO_SUBDOMAIN = 10007  # wrangler's getWorkersDevSubdomain: "10007 error code: not found"
# The query Cloudflare's SQL API page gives to try the API: it reads no dataset, so it runs on an
# account whose Worker has not written one yet.
AE_PROBE = "SELECT 'preflight' AS probe"


class Abort(Exception):
    """The token itself is refused, or the API is out of reach: every later check would fail the same way."""


@dataclass(frozen=True)
class Plan:
    """What the stack's `pulumi up` will ask of the account (from its settings)."""

    stack: str
    account_id: str
    worker_script: str
    workers_dev: bool
    metrics: bool
    zones: tuple[tuple[str, str], ...]  # (setting, zone id) of customDomain or route

    @classmethod
    def from_settings(cls, stack: str, settings: Settings, account_id: str) -> Plan:
        zones = []
        if settings.custom_domain is not None:
            zones.append(("customDomain", settings.custom_domain.zone_id))
        if settings.route is not None:
            zones.append(("route", settings.route.zone_id))
        return cls(
            stack,
            account_id,
            settings.names(stack).worker_script,
            settings.workers_dev,
            settings.metrics.enabled,
            tuple(zones),
        )


def _fatal(error: Exception) -> bool:
    if isinstance(error, cloudflare.APIConnectionError):
        return True
    return isinstance(error, cloudflare.APIStatusError) and (
        error.status_code == 401 or bool(BAD_TOKEN_CODES & set(error_codes(error)))
    )


def _checked(name: str, step: Callable[[], str], permission: str, account_id: str) -> Check:
    """One check; an API error becomes a failure naming the permission (a refused token stops the rest)."""
    try:
        return Check(name, True, step())
    except cloudflare.APIError as error:
        detail = explain(error, permissions=f"{permission} on account {account_id}")
        if _fatal(error):
            raise Abort(detail) from error
        return Check(name, False, detail)


def token_check(client: cloudflare.Cloudflare, plan: Plan) -> Check:
    """The token is valid and active: a user token verifies at /user/tokens/verify, an account-owned
    one only at /accounts/<id>/tokens/verify."""
    name = "API token"
    verified: UserTokenStatus | AccountTokenStatus | None
    try:
        verified = client.user.tokens.verify()
        kind = "user token"
    except cloudflare.APIStatusError as error:
        if not _fatal(error):
            return Check(name, False, explain(error))
        try:
            verified = client.accounts.tokens.verify(account_id=plan.account_id)
            kind = "account-owned token"
        except cloudflare.APIStatusError:
            raise Abort(explain(error)) from error  # the first answer: the user token's
    except cloudflare.APIConnectionError as error:
        raise Abort(explain(error)) from error
    if verified is None or verified.status != "active":
        status = verified.status if verified else "unknown"
        raise Abort(f"the API token is {status}: create a new one with the permissions docs/deploying.md lists")
    expiry = f", expires {verified.expires_on:%Y-%m-%d}" if verified.expires_on else ""
    return Check(name, True, f"valid and active ({kind}{expiry})")


def permission_checks(client: cloudflare.Cloudflare, plan: Plan) -> Iterator[Check]:
    """A read of each resource family `pulumi up` manages."""
    account = plan.account_id

    def account_settings() -> str:
        found = client.accounts.get(account_id=account)
        return f"read {getattr(found, 'name', None) or account!r} ({ACCOUNT_SETTINGS})"

    def kv() -> str:
        client.kv.namespaces.list(account_id=account, per_page=1)
        return f"listed (a read; `pulumi up` needs {KV})"

    def d1() -> str:
        client.d1.database.list(account_id=account, per_page=1)
        return f"listed (a read; `pulumi up` needs {D1})"

    def scripts() -> str:
        client.workers.scripts.list(account_id=account)
        return f"listed (a read; `pulumi up` needs {SCRIPTS})"

    yield _checked("account", account_settings, ACCOUNT_SETTINGS, account)
    yield _checked("KV namespaces", kv, KV, account)
    yield _checked("D1 databases", d1, D1, account)
    yield _checked("Workers scripts", scripts, SCRIPTS, account)
    for setting, zone_id in plan.zones:

        def routes(zone_id: str = zone_id) -> str:
            client.workers.routes.list(zone_id=zone_id)
            return f"listed its Worker routes (a read; `pulumi up` needs {ROUTES} there)"

        permission = f"{ROUTES} on zone {zone_id}"
        yield _checked(f"{setting} zone {zone_id}", routes, permission, account)


def subdomain_check(client: cloudflare.Cloudflare, plan: Plan) -> Check:
    name = "workers.dev subdomain"
    try:
        found = client.workers.subdomains.get(account_id=plan.account_id).subdomain
    except cloudflare.APIStatusError as error:
        if NO_SUBDOMAIN in error_codes(error) or error.status_code == 404:
            return Check(
                name,
                False,
                f"account {plan.account_id} has none, so `pulumi up` fails with code 10063 subdomain_required: "
                f"open https://dash.cloudflare.com/{plan.account_id}/workers/onboarding once (it makes one), "
                f"or serve on your own domain (customDomain) with `pulumi config set workersDev false "
                f"--stack {plan.stack}`",
            )
        if _fatal(error):
            raise Abort(explain(error)) from error
        return Check(name, False, explain(error, permissions=f"Workers Scripts: Read on account {plan.account_id}"))
    except cloudflare.APIConnectionError as error:
        raise Abort(explain(error)) from error
    return Check(name, True, f"{found}.workers.dev")


def _deployed_with_analytics_engine(client: cloudflare.Cloudflare, plan: Plan) -> bool:
    """Whether the stack's Worker is already deployed with an analytics_engine binding: an upload
    that only succeeds where Analytics Engine is enabled (a later deploy's token may lack the
    Account Analytics permission the SQL API asks for)."""
    try:
        found = client.workers.scripts.script_and_version_settings.get(plan.worker_script, account_id=plan.account_id)
    except cloudflare.APIStatusError:
        return False  # not deployed yet, or not readable: the SQL API's answer stands
    return any(binding.type == "analytics_engine" for binding in (found.bindings if found else None) or [])


def analytics_engine_check(client: cloudflare.Cloudflare, plan: Plan) -> Check:
    """A query Analytics Engine's SQL API answers only on an account where it is enabled (or the
    stack's Worker, deployed with its analytics_engine binding, proves it)."""
    name = "Analytics Engine"
    try:
        client.post(
            f"/accounts/{plan.account_id}/analytics_engine/sql",
            cast_to=httpx.Response,
            content=AE_PROBE.encode(),
            options={"headers": {"Content-Type": "text/plain"}},
        )
    except cloudflare.APIStatusError as error:
        if _fatal(error):
            raise Abort(explain(error)) from error
        if error.status_code != 403:
            return Check(name, False, explain(error))
        if _deployed_with_analytics_engine(client, plan):
            return Check(
                name,
                True,
                f"enabled: {plan.worker_script} is deployed with its analytics_engine binding (the SQL API "
                f"refused this token, which lacks {ANALYTICS}: only `guruai-cache metrics` needs it)",
            )
        # The SQL API answers 403 both when Analytics Engine is not enabled on the account and when
        # the token lacks Account Analytics: Read; both fixes are named.
        return Check(
            name,
            False,
            f"the SQL API refused the query (HTTP 403): Analytics Engine is not enabled on account "
            f"{plan.account_id}, or the token lacks {ANALYTICS}. Without it `pulumi up` fails with code 10089 "
            f"no_access_to_analytics_engine: enable it in the dashboard (Storage & databases > Analytics Engine, "
            f"https://dash.cloudflare.com/{plan.account_id}/workers/analytics-engine) and give the token "
            f"{ANALYTICS}; or turn the Worker's data points off: "
            f"`pulumi config set --path metrics.enabled false --stack {plan.stack}`",
        )
    except cloudflare.APIConnectionError as error:
        raise Abort(explain(error)) from error
    return Check(name, True, "enabled (the SQL API answered)")


def skipped(name: str, why: str) -> Check:
    return Check(name, True, f"not needed: {why}", skipped=True)


def run(
    plan: Plan, client: cloudflare.Cloudflare, progress: Callable[[Check], None] = lambda check: None
) -> list[Check]:
    """Every check in order; a refused token or an unreachable API ends them with one failure."""
    checks: list[Check] = []

    def record(check: Check) -> None:
        checks.append(check)
        progress(check)

    try:
        record(token_check(client, plan))
        for check in permission_checks(client, plan):
            record(check)
        if plan.workers_dev:
            record(subdomain_check(client, plan))
        else:
            record(skipped("workers.dev subdomain", "workersDev is off"))
        if plan.metrics:
            record(analytics_engine_check(client, plan))
        else:
            record(skipped("Analytics Engine", "metrics.enabled is false (the Worker has no analytics_engine binding)"))
    except Abort as stopped:
        record(Check("cloudflare API", False, f"{stopped}; the remaining checks were not run"))
    return checks


def line(check: Check) -> str:
    mark = "skip" if check.skipped else "ok  " if check.ok else "FAIL"
    return f"  {mark} {check.name}: {check.detail}"
