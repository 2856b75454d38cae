"""Post-deploy verification of a stack (the setup guide's Step 8, done against real resources).

With the official `cloudflare` SDK: the seeded keys hold the values the settings give,
in both namespaces; a put/get/list/delete round trip works on a throwaway key in the
PREVIEW namespace (production data is only read); and the Worker answers `/health` with the
catalog (tiers and flags) the settings give, so a deploy that has not reached the URL yet, or
settings changed since the last `pulumi up`, fail.
Every check becomes a row of a pass/fail table; API errors are explained (bad token,
missing permission, namespace not found) instead of dumped. What may lag behind the deploy
(KV's eventually consistent reads and lists, the catalog an upload has not reached yet) is asked
again for a while (`ask_again`) before it fails.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import cloudflare
import httpx

from infra.plan import api, routing
from infra.plan.outputs import StackOutputs, output_name

ROUND_TRIP_PREFIX = "verify:"
# KV's minimum: if the delete step fails, the test key still expires by itself.
ROUND_TRIP_TTL_S = 60
# What may lag behind a write is asked again (`ask_again`), every ASK_AGAIN_EVERY_S, for at most:
# - the seeds: KV is eventually consistent, a change can take 60 s to reach every location (the
#   provider's own tests do not read a value right after writing it, workers_kv/resource_test.go
#   212-215), and the deploy workflow calls verify right after `pulumi up`;
SEEDS_WITHIN_S = 60.0
# - a fresh key in KV's list, eventually consistent too;
LIST_WITHIN_S = 30.0
# - the catalog /health serves: a new upload reaches every location within seconds.
CATALOG_WITHIN_S = 30.0
ASK_AGAIN_EVERY_S = 5.0
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


class NotYet(AssertionError):
    """A check that failed on what may still change by itself (an eventually consistent read)."""


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def ask_again(
    attempt: Callable[[], bool],
    *,
    within_s: float,
    clock: Clock,
    waiting: Callable[[float], None] = lambda left: None,
    every_s: float = ASK_AGAIN_EVERY_S,
) -> bool:
    """Call `attempt` (True: settled) until it settles, again every `every_s` for at most `within_s`
    (`waiting` hears, before each wait, how long it may still ask after it). Whether it settled."""
    started = clock.now()
    while not attempt():
        left = within_s - (clock.now() - started)
        if left < every_s:
            return False
        waiting(left - every_s)
        clock.sleep(every_s)
    return True


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
    return _attempt(name, target, step)[0]


def _attempt(name: str, target: Target, step: Callable[[], str]) -> tuple[Check, bool]:
    """The check, and whether it failed only on what may still change by itself (NotYet)."""
    try:
        return Check(name, True, step()), False
    except NotYet as error:
        return Check(name, False, str(error)), True
    except cloudflare.NotFoundError as error:
        if 10009 in error_codes(error):  # key not found (the namespace exists)
            return Check(name, False, "key not found: run `pulumi up` to seed it again"), False
        return Check(name, False, explain(error, target)), False
    except cloudflare.APIError as error:
        check = Check(name, False, explain(error, target))
        if _fatal(error):
            raise Abort(check.detail) from error
        return check, False
    except AssertionError as error:
        return Check(name, False, str(error)), False
    except Exception as error:  # noqa: BLE001 (a verification reports every failure as a row, never a traceback)
        return Check(name, False, f"unexpected {type(error).__name__}: {error}"), False


def seed_checks(
    client: cloudflare.Cloudflare,
    target: Target,
    clock: Clock | None = None,
    note: Callable[[str], None] = lambda message: None,
) -> list[Check]:
    """Every seeded key, in both namespaces. KV is eventually consistent: a key `pulumi up` just
    wrote may still read as before, or as missing, where this runs, so those are read again
    (together, for at most SEEDS_WITHIN_S) before they fail."""
    steps: dict[str, Callable[[], str]] = {}
    for label, namespace_id in (("production", target.kv_namespace_id), ("preview", target.kv_preview_namespace_id)):
        for key, expected in target.expected_seeds.items():

            def step(key: str = key, expected: str = expected, namespace_id: str = namespace_id) -> str:
                try:
                    got = client.kv.namespaces.values.get(key, account_id=target.account_id, namespace_id=namespace_id)
                except cloudflare.NotFoundError as error:
                    if 10009 in error_codes(error):  # key not found (the namespace exists): maybe not yet
                        raise NotYet("key not found: run `pulumi up` to seed it again") from error
                    raise
                text = got.read().decode()
                if text != expected:
                    raise NotYet(f"holds {_short(text)}, expected {_short(expected)}: run `pulumi up` to re-seed")
                return f"{len(text.encode())} bytes as expected"

            steps[f"seed {key} ({label})"] = step
    checks: dict[str, Check] = {}
    pending = list(steps)

    def attempt() -> bool:
        for name in list(pending):
            checks[name], not_yet = _attempt(name, target, steps[name])
            if not not_yet:
                pending.remove(name)
        return not pending

    def waiting(left: float) -> None:
        note(
            f"{len(pending)} seed(s) not as the settings give yet ({', '.join(pending)}): KV is eventually "
            f"consistent, asking again in {ASK_AGAIN_EVERY_S:g} s (at most {left:.0f} s more)"
        )

    if not ask_again(attempt, within_s=SEEDS_WITHIN_S, clock=clock or SystemClock(), waiting=waiting):
        for name in pending:
            failed = checks[name]
            checks[name] = Check(name, False, f"{failed.detail} (read for {SEEDS_WITHIN_S:g} s)")
    return [checks[name] for name in steps]


def round_trip_checks(client: cloudflare.Cloudflare, target: Target, clock: Clock | None = None) -> Iterator[Check]:
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
        def attempt() -> bool:
            keys = client.kv.namespaces.keys.list(
                prefix=ROUND_TRIP_PREFIX, account_id=account_id, namespace_id=namespace_id
            )
            return key in [item.name for item in keys]

        if ask_again(attempt, within_s=LIST_WITHIN_S, clock=clock or SystemClock()):
            return f"listed under prefix {ROUND_TRIP_PREFIX!r}"
        raise AssertionError(f"not listed within {LIST_WITHIN_S:g} s (KV lists are eventually consistent)")

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


def health_check(
    http: httpx.Client,
    url: str,
    target: Target,
    clock: Clock | None = None,
    note: Callable[[str], None] = lambda message: None,
) -> Check:
    """/health answers for this stack with the settings' catalog; an older catalog is asked again
    (for at most CATALOG_WITHIN_S) before it fails."""
    found: list[Check] = []

    def attempt() -> bool:
        check, older_catalog = _health_once(http, url, target)
        found.append(check)
        return not older_catalog

    def waiting(left: float) -> None:
        note(
            f"{found[-1].name}: {found[-1].detail.split(' (')[0]}; asking again in {ASK_AGAIN_EVERY_S:g} s (at most {left:.0f} s more)"
        )

    ask_again(attempt, within_s=CATALOG_WITHIN_S, clock=clock or SystemClock(), waiting=waiting)
    return found[-1]


def _health_once(http: httpx.Client, url: str, target: Target) -> tuple[Check, bool]:
    """The check, and whether it failed only on the catalog's version (worth asking again)."""
    health_url = f"{url.rstrip('/')}{api.base_path()}/health"  # not the unprefixed path: it is deprecated
    name = f"worker {health_url}"
    try:
        response = http.get(health_url)
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
            f"serves catalog {served!r}, the settings give {target.catalog_version!r} (asked for "
            f"{CATALOG_WITHIN_S:g} s): the upload has not reached this URL, or the settings changed "
            f"since the last `pulumi up --stack {target.stack}`"
        )
        return Check(name, False, detail), True
    return Check(name, True, "HTTP 200, status ok" + (f", catalog {served}" if served else "")), False


def run(
    target: Target,
    client: cloudflare.Cloudflare,
    http: httpx.Client,
    url: str | None = None,
    clock: Clock | None = None,
    progress: Callable[[Check], None] = lambda check: None,
    note: Callable[[str], None] = lambda message: None,
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
        for check in seed_checks(client, target, clock, note):
            record(check)
        for check in round_trip_checks(client, target, clock):
            record(check)
        if url is None:
            url = workers_dev_url(client, target)
    except Abort as stopped:
        record(Check("cloudflare API", False, f"{stopped}; the remaining API checks were not run"))
    except cloudflare.APIError as error:  # only the subdomain lookup gets here
        record(Check("worker URL (workers.dev subdomain)", False, f"{explain(error, target)}; or pass --url"))
    if url is not None:
        record(health_check(http, url, target, clock, note))
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
