"""Post-deploy verification of a stack (the setup guide's Step 8, done against real resources).

With the official `cloudflare` SDK: the seeded keys hold the values the settings give,
in both namespaces; a put/get/list/delete round trip works on a throwaway key in the
PREVIEW namespace (production data is only read); and the Worker answers `/health` with the
catalog (tiers and flags) the settings give, so a deploy that has not reached the URL yet, or
settings changed since the last `pulumi up`, fail.
Every check becomes a row of a pass/fail table; API errors are explained (bad token,
missing permission, namespace not found) instead of dumped.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import cloudflare
import httpx

from infra.plan import routing
from infra.plan.outputs import StackOutputs, output_name

ROUND_TRIP_PREFIX = "verify:"
# KV's minimum: if the delete step fails, the test key still expires by itself.
ROUND_TRIP_TTL_S = 60
# KV's list is eventually consistent: a fresh key can take a moment to be listed.
LIST_ATTEMPTS = 5
# A new upload reaches every location within seconds, but the deploy workflow calls verify
# right after `pulumi up`: an older catalog is asked again, every CATALOG_WAIT_S, this often.
CATALOG_ATTEMPTS = 7
CATALOG_WAIT_S = 5.0
PERMISSIONS = "Workers KV Storage: Edit and Workers Scripts: Read"
# 1000 "Invalid API Token", 6003/6111 malformed Authorization header, 9109 "Invalid access token".
BAD_TOKEN_CODES = {1000, 6003, 6111, 9109}


@dataclass(frozen=True)
class Target:
    """What a deployed stack should look like: ids from its outputs, values from its settings."""

    stack: str
    account_id: str
    kv_namespace_id: str
    kv_preview_namespace_id: str
    worker_script_name: str
    expected_seeds: Mapping[str, str]
    # The stack's `workerUrl` output: where the Worker really answers (None: a stack deployed
    # before the output existed; the workers.dev address is then looked up).
    worker_url: str | None = None
    # The version of the catalog the settings give (plan.catalog): what /health should report.
    catalog_version: str | None = None


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    skipped: bool = False  # not needed for this stack (preflight): neither passed nor failed


class Abort(Exception):
    """An error no later API check can get past (the token itself is refused)."""


def target_from_outputs(
    stack: str, outputs: Mapping[str, Any], expected_seeds: Mapping[str, str], catalog_version: str | None = None
) -> Target:
    found = StackOutputs.from_exported(outputs)
    needed = ("account_id", "kv_namespace_id", "kv_preview_namespace_id", "worker_script_name")
    missing = [output_name(field) for field in needed if not getattr(found, field)]
    if missing:
        raise ValueError(f"stack {stack!r} outputs lack {', '.join(missing)}: run `pulumi up --stack {stack}` first")
    return Target(
        stack=stack,
        account_id=found.account_id,
        kv_namespace_id=found.kv_namespace_id,
        kv_preview_namespace_id=found.kv_preview_namespace_id,
        worker_script_name=found.worker_script_name,
        expected_seeds=dict(expected_seeds),
        worker_url=found.worker_url or None,
        catalog_version=catalog_version,
    )


def error_codes(error: cloudflare.APIStatusError) -> list[int]:
    body = error.body if isinstance(error.body, dict) else {}
    return [
        item["code"]
        for item in body.get("errors") or []
        if isinstance(item, dict) and isinstance(item.get("code"), int)
    ]


def explain(error: Exception, target: Target | None = None, permissions: str = PERMISSIONS) -> str:
    """One line a person can act on, for any error the SDK raises."""
    if isinstance(error, cloudflare.APIConnectionError):
        return f"could not reach the Cloudflare API ({error}): check the network, or CLOUDFLARE_BASE_URL if set"
    if not isinstance(error, cloudflare.APIStatusError):
        return f"{type(error).__name__}: {error}"
    codes = error_codes(error)
    shown = f"HTTP {error.status_code}" + (f", code {', '.join(map(str, codes))}" if codes else "")
    if error.status_code == 401 or BAD_TOKEN_CODES & set(codes):
        return (
            f"the API token was refused ({shown}): CLOUDFLARE_API_TOKEN is wrong, expired or revoked; create a new one"
        )
    if error.status_code == 403:
        account = f" on account {target.account_id}" if target else ""
        return (
            f"the API token may not do this ({shown}): give it {permissions}{account} "
            "(Cloudflare also answers this way to a token of another account)"
        )
    if 10013 in codes or (error.status_code == 404 and "namespace" in str(error.request.url)):
        return (
            f"KV namespace not found ({shown}): the stack's outputs name a namespace this account does not "
            f"have; check the account, or run `pulumi refresh` and `pulumi up`"
            + (f" --stack {target.stack}" if target else "")
        )
    if error.status_code == 429:
        return f"rate limited by the API ({shown}): wait a minute and run it again"
    return f"the API answered {shown}: {error.message}"


def _fatal(error: Exception) -> bool:
    """A refused token fails every later call the same way: one explained row is enough."""
    return isinstance(error, cloudflare.APIStatusError) and (
        error.status_code in (401, 403) or bool(BAD_TOKEN_CODES & set(error_codes(error)))
    )


def _checked(name: str, target: Target, step: Callable[[], str]) -> Check:
    """Run one check; its exceptions become an explained failure (auth failures stop the rest)."""
    try:
        return Check(name, True, step())
    except cloudflare.NotFoundError as error:
        if 10009 in error_codes(error):  # key not found (the namespace exists)
            return Check(name, False, "key not found: run `pulumi up` to seed it again")
        return Check(name, False, explain(error, target))
    except cloudflare.APIError as error:
        check = Check(name, False, explain(error, target))
        if _fatal(error):
            raise Abort(check.detail) from error
        return check
    except AssertionError as error:
        return Check(name, False, str(error))
    except Exception as error:  # noqa: BLE001 (a verification reports every failure as a row, never a traceback)
        return Check(name, False, f"unexpected {type(error).__name__}: {error}")


def seed_checks(client: cloudflare.Cloudflare, target: Target) -> Iterator[Check]:
    for label, namespace_id in (("production", target.kv_namespace_id), ("preview", target.kv_preview_namespace_id)):
        for key, expected in target.expected_seeds.items():

            def step(key: str = key, expected: str = expected, namespace_id: str = namespace_id) -> str:
                got = client.kv.namespaces.values.get(key, account_id=target.account_id, namespace_id=namespace_id)
                text = got.read().decode()
                assert text == expected, (
                    f"holds {_short(text)}, expected {_short(expected)}: run `pulumi up` to re-seed"
                )
                return f"{len(text.encode())} bytes as expected"

            yield _checked(f"seed {key} ({label})", target, step)


def round_trip_checks(
    client: cloudflare.Cloudflare, target: Target, sleep: Callable[[float], None] = time.sleep
) -> Iterator[Check]:
    """put, get, list, delete on a fresh key in the preview namespace."""
    key = f"{ROUND_TRIP_PREFIX}{secrets.token_hex(8)}"
    value = secrets.token_hex(16)
    account_id, namespace_id = target.account_id, target.kv_preview_namespace_id

    def put() -> str:
        client.kv.namespaces.values.update(
            key, value=value.encode(), expiration_ttl=ROUND_TRIP_TTL_S, account_id=account_id, namespace_id=namespace_id
        )
        return f"wrote {key} (expires in {ROUND_TRIP_TTL_S} s)"

    def get() -> str:
        text = client.kv.namespaces.values.get(key, account_id=account_id, namespace_id=namespace_id).read().decode()
        assert text == value, f"read back {_short(text)}, wrote {_short(value)}"
        return "read back what was written"

    def listed() -> str:
        for attempt in range(LIST_ATTEMPTS):
            names = [
                item.name
                for item in client.kv.namespaces.keys.list(
                    prefix=ROUND_TRIP_PREFIX, account_id=account_id, namespace_id=namespace_id
                )
            ]
            if key in names:
                return f"listed under prefix {ROUND_TRIP_PREFIX!r}"
            sleep(2**attempt)
        raise AssertionError(f"not listed after {LIST_ATTEMPTS} tries (KV lists are eventually consistent)")

    def delete() -> str:
        client.kv.namespaces.values.delete(key, account_id=account_id, namespace_id=namespace_id)
        return "deleted"

    put_check = _checked("preview round trip: put", target, put)
    yield put_check
    if not put_check.ok:
        return
    yield _checked("preview round trip: get", target, get)
    yield _checked("preview round trip: list", target, listed)
    yield _checked("preview round trip: delete", target, delete)


def workers_dev_url(client: cloudflare.Cloudflare, target: Target) -> str:
    subdomain = client.workers.subdomains.get(account_id=target.account_id).subdomain
    return routing.workers_dev_url(target.worker_script_name, subdomain)


def health_check(http: httpx.Client, url: str, target: Target, sleep: Callable[[float], None] = time.sleep) -> Check:
    """/health answers for this stack with the settings' catalog; an older catalog is asked again
    (CATALOG_ATTEMPTS times, CATALOG_WAIT_S apart) before it fails."""
    check, older_catalog = _health_once(http, url, target)
    for _ in range(CATALOG_ATTEMPTS - 1):
        if not older_catalog:
            break
        sleep(CATALOG_WAIT_S)
        check, older_catalog = _health_once(http, url, target)
    return check


def _health_once(http: httpx.Client, url: str, target: Target) -> tuple[Check, bool]:
    """The check, and whether it failed only on the catalog's version (worth asking again)."""
    name = f"worker {url.rstrip('/')}/health"
    try:
        response = http.get(f"{url.rstrip('/')}/health")
    except httpx.HTTPError as error:
        detail = f"no answer ({error}): is the Worker deployed and its workers.dev route on? or pass --url"
        return Check(name, False, detail), False
    if response.status_code != 200:
        return Check(name, False, f"HTTP {response.status_code}: {_short(response.text)}"), False
    try:
        body = response.json()
    except ValueError:
        return Check(name, False, f"not JSON: {_short(response.text)}"), False
    if not isinstance(body, dict) or body.get("status") != "ok":
        return Check(name, False, f"unexpected body {_short(response.text)}"), False
    if body.get("environment") not in (None, target.stack):
        detail = f"this is the {body['environment']!r} Worker, not {target.stack!r}: check --url"
        return Check(name, False, detail), False
    served = body.get("catalogVersion")
    if target.catalog_version is not None and served != target.catalog_version:
        detail = (
            f"serves catalog {served!r}, the settings give {target.catalog_version!r} (asked {CATALOG_ATTEMPTS} "
            f"times, {CATALOG_WAIT_S:g} s apart): the upload has not reached this URL, or the settings changed "
            f"since the last `pulumi up --stack {target.stack}`"
        )
        return Check(name, False, detail), True
    return Check(name, True, "HTTP 200, status ok" + (f", catalog {served}" if served else "")), False


def run(
    target: Target,
    client: cloudflare.Cloudflare,
    http: httpx.Client,
    url: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[Check], None] = lambda check: None,
) -> list[Check]:
    """Every check, in order; stops calling the API after a refused token.

    The Worker's URL: `url` when given (`--url`), else the stack's `workerUrl` output, else
    (stacks deployed before that output) its workers.dev address from the API.
    """
    checks: list[Check] = []
    url = url or target.worker_url

    def record(check: Check) -> None:
        checks.append(check)
        progress(check)

    try:
        for check in seed_checks(client, target):
            record(check)
        for check in round_trip_checks(client, target, sleep):
            record(check)
        if url is None:
            url = workers_dev_url(client, target)
    except Abort as stopped:
        record(Check("cloudflare API", False, f"{stopped}; the remaining API checks were not run"))
    except cloudflare.APIError as error:  # only the subdomain lookup gets here
        record(Check("worker URL (workers.dev subdomain)", False, f"{explain(error, target)}; or pass --url"))
    if url is not None:
        record(health_check(http, url, target, sleep))
    return checks


def table(checks: list[Check]) -> str:
    width = max((len(check.name) for check in checks), default=5)
    lines = [f"{'check':<{width}}  result  detail", f"{'-' * width}  ------  ------"]
    lines += [f"{check.name:<{width}}  {'PASS' if check.ok else 'FAIL':<6}  {check.detail}" for check in checks]
    failed = sum(not check.ok for check in checks)
    lines.append(f"{len(checks) - failed} passed, {failed} failed")
    return "\n".join(lines)


def _short(text: str, limit: int = 60) -> str:
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text.encode())} bytes)"
