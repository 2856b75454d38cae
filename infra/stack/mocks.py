"""The project's strict mocks of the Cloudflare provider, and what the mocked engine recorded.

The mocks stand in for the provider, so they refuse what it (or the Cloudflare API behind it)
would: unknown binding types, missing binding fields, keys over KV's limits, duplicate titles,
bad ids. infra/stack/offline.py runs the program under them.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks

from infra import paths

ROOT = paths.ROOT
PROJECT = "guruai-cache"
ACCOUNT_ID = "0123456789abcdef0123456789abcdef"  # the mocked account; a plan's stand-in when accountId is unset
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker for a secret value on the wire
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"

KV_NAMESPACE = "cloudflare:index/workersKvNamespace:WorkersKvNamespace"
KV_ENTRY = "cloudflare:index/workersKv:WorkersKv"
D1 = "cloudflare:index/d1Database:D1Database"
SCRIPT = "cloudflare:index/workersScript:WorkersScript"
CRON = "cloudflare:index/workersCronTrigger:WorkersCronTrigger"
SUBDOMAIN = "cloudflare:index/workersScriptSubdomain:WorkersScriptSubdomain"
CUSTOM_DOMAIN = "cloudflare:index/workersCustomDomain:WorkersCustomDomain"
ROUTE = "cloudflare:index/workersRoute:WorkersRoute"
GET_WORKER = "cloudflare:index/getWorker:getWorker"
ACCOUNT_SUBDOMAIN = "acme-team"  # the mocked account's workers.dev subdomain
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
COMMAND = "command:local:Command"
# Handed to the program as the secret `cloudflare:apiToken`: no real token is ever needed.
API_TOKEN = "placeholder-cloudflare-api-token-" + "t" * 14
COMPONENT = "guruai:cache:CacheStack"

# The binding types pulumi-cloudflare 6.23.1 documents, and the fields each kind we use needs.
KNOWN_BINDING_TYPES = {
    "ai", "ai_search", "ai_search_namespace", "messaging", "analytics_engine", "artifacts", "assets",
    "browser", "d1", "data_blob", "dispatch_namespace", "durable_object_namespace", "hyperdrive",
    "inherit", "images", "json", "kv_namespace", "media", "mtls_certificate", "plain_text", "pipelines",
    "k2", "queue", "ratelimit", "r2_bucket", "secret_text", "send_email", "service", "text_blob",
    "vectorize", "version_metadata", "secrets_store_secret", "flagship", "secret_key", "workflow",
    "wasm_module", "vpc_service", "vpc_network",
}  # fmt: skip
REQUIRED_BINDING_FIELDS = {
    "kv_namespace": ("namespaceId",),
    "d1": ("id",),
    "plain_text": ("text",),
    "secret_text": ("text",),
    "ratelimit": ("namespaceId", "simple"),
    "json": ("json",),
    "analytics_engine": ("dataset",),
}
HEX32 = re.compile(r"^[0-9a-f]{32}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SCRIPT_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
JS_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


class ProviderRejected(Exception):
    """What the Cloudflare provider would have answered with an error."""


def unwrap(value: Any) -> tuple[Any, bool]:
    """(plain value, whether it or anything inside it was secret)."""
    if isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_VALUE:
        inner, _ = unwrap(value["value"])
        return inner, True
    if isinstance(value, dict):
        pairs = {key: unwrap(item) for key, item in value.items()}
        return {key: pair[0] for key, pair in pairs.items()}, any(pair[1] for pair in pairs.values())
    if isinstance(value, list):
        items = [unwrap(item) for item in value]
        return [item[0] for item in items], any(item[1] for item in items)
    return value, False


@dataclass
class Registered:
    type: str
    name: str
    urn: str
    parent: str
    inputs: dict[str, Any]
    id: str
    state: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    dependencies: list[str]
    import_id: str
    delete_before_replace: bool = False

    def plain(self, key: str) -> Any:
        return unwrap(self.inputs.get(key))[0]


def _stable_hex(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]


class StrictCloudflareMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.titles: set[str] = set()
        self.database_names: set[str] = set()
        self.scripts: set[str] = set()
        self.invokes: list[tuple[str, dict[str, Any]]] = []

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]  # the SDK takes a dict too
        """Only the invokes the program is known to make, answered as the API would."""
        self.invokes.append((args.token, dict(args.args)))
        if args.token != GET_WORKER:
            raise ProviderRejected(f"unexpected invoke {args.token}")
        account, name = args.args.get("accountId"), args.args.get("workerId")
        if not HEX32.match(str(account or "")):
            raise ProviderRejected(f"getWorker: accountId must be 32 hex characters, got {account!r}")
        if name not in self.scripts:
            raise ProviderRejected(f"getWorker: no Worker {name!r} in the account (HTTP 404)")
        return {
            "accountId": account,
            "id": name,
            "name": name,
            "subdomain": {
                "enabled": True,
                "previewsEnabled": False,
                "url": f"https://{name}.{ACCOUNT_SUBDOMAIN}.workers.dev",
                "previewUrlSuffix": f"-{name}.{ACCOUNT_SUBDOMAIN}.workers.dev",
            },
        }

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs, _ = unwrap(args.inputs)
        check = _CHECKS.get(args.typ)
        if check is not None:
            check(self, inputs)
        elif not args.typ.startswith(("guruai:", "random:")):
            raise ProviderRejected(f"no mock for resource type {args.typ}")
        state = dict(args.inputs)
        if args.resource_id:  # `import_`: the provider reads the existing resource and keeps its id
            return self._imported(args.typ, args.resource_id, inputs), state
        if args.typ == KV_NAMESPACE:
            return _stable_hex("kv", inputs["title"]), state
        if args.typ == D1:
            db_id = str(uuid.UUID(_stable_hex("d1", inputs["name"])))
            return db_id, {**state, "uuid": db_id}
        if args.typ == RANDOM_PASSWORD:
            return "none", {**state, "result": "generated-" + _stable_hex("token", args.name)}
        if args.typ == KV_ENTRY:
            return f"{inputs['accountId']}/{inputs['namespaceId']}/{inputs['keyName']}", state
        return (f"{args.name}-id" if args.custom else None), state

    # --- what the provider would refuse -------------------------------------

    def _account(self, inputs: dict[str, Any]) -> None:
        if not HEX32.match(str(inputs.get("accountId", ""))):
            raise ProviderRejected(f"accountId must be 32 hex characters, got {inputs.get('accountId')!r}")

    def _kv_namespace(self, inputs: dict[str, Any]) -> None:
        self._account(inputs)
        title = inputs.get("title") or ""
        if not title or len(title) > 512:
            raise ProviderRejected(f"bad KV namespace title {title!r}")
        if title in self.titles:
            raise ProviderRejected(f"a namespace with this account ID and title already exists (10014): {title}")
        self.titles.add(title)

    def _kv_entry(self, inputs: dict[str, Any]) -> None:
        self._account(inputs)
        key, value = inputs.get("keyName", ""), inputs.get("value")
        if not key or len(key.encode()) > 512:
            raise ProviderRejected(f"KV key must be 1..512 bytes, got {len(key.encode())}")
        if not isinstance(value, str) or len(value.encode()) > 25 * 1024 * 1024:
            raise ProviderRejected("KV value must be a string of at most 25 MiB")
        if "expirationTtl" in inputs and inputs["expirationTtl"] < 60:
            raise ProviderRejected("expiration_ttl below 60 s")
        if "namespaceId" not in inputs:
            raise ProviderRejected("namespace_id is required")

    def _d1(self, inputs: dict[str, Any]) -> None:
        self._account(inputs)
        name = inputs.get("name", "")
        if not SCRIPT_NAME.match(name):
            raise ProviderRejected(f"bad D1 name {name!r}")
        if inputs.get("jurisdiction") not in (None, "eu", "fedramp", "us"):  # the SDK's "Available values"
            raise ProviderRejected(f"bad D1 jurisdiction {inputs['jurisdiction']!r}")
        if name in self.database_names:
            raise ProviderRejected(f"a database named {name} already exists")
        self.database_names.add(name)

    def _script(self, inputs: dict[str, Any]) -> None:
        self._account(inputs)
        if not SCRIPT_NAME.match(inputs.get("scriptName", "")):
            raise ProviderRejected(f"bad script name {inputs.get('scriptName')!r}")
        if not inputs.get("content") or not inputs.get("mainModule"):
            raise ProviderRejected("an ES module Worker needs content and main_module")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", inputs.get("compatibilityDate", "")):
            raise ProviderRejected("compatibility_date must be YYYY-MM-DD")
        # Environment variables (text, JSON, secrets): at most 64 a Worker, 5 KB each (the Workers
        # limits page; the API answers 10054 "... exceeds the limit of 5.1 kB").
        variables = [b for b in inputs.get("bindings", []) if b.get("type") in ("plain_text", "json", "secret_text")]
        if len(variables) > 64:
            raise ProviderRejected(f"{len(variables)} environment variables: a Worker has at most 64")
        for variable in variables:
            value = variable.get("text") if variable["type"] != "json" else variable.get("json")
            if isinstance(value, str) and len(value.encode()) > 5 * 1024:
                raise ProviderRejected(f"binding {variable['name']} exceeds the limit of 5.1 kB [code: 10054]")
        names = set()
        for binding in inputs.get("bindings", []):
            kind, name = binding.get("type"), binding.get("name", "")
            if kind not in KNOWN_BINDING_TYPES:
                raise ProviderRejected(f"unknown binding type {kind!r}")
            if not JS_IDENTIFIER.match(name) or name in names:
                raise ProviderRejected(f"binding name {name!r} is not a unique JavaScript identifier")
            names.add(name)
            missing = [f for f in REQUIRED_BINDING_FIELDS.get(kind, ()) if binding.get(f) in (None, "")]
            if missing:
                raise ProviderRejected(f"binding {name} ({kind}) lacks {missing}")
            if kind == "ratelimit" and binding["simple"].get("period") not in (10, 60):
                raise ProviderRejected("ratelimit period must be 10 or 60")
            if kind == "json":
                try:
                    json.loads(binding["json"])
                except (TypeError, json.JSONDecodeError):
                    raise ProviderRejected(f"binding {name} (json) is not JSON text") from None
        observability = inputs.get("observability")
        if observability is not None:
            if not isinstance(observability.get("enabled"), bool):
                raise ProviderRejected("observability.enabled is required")
            logs = observability.get("logs")
            if logs is not None and not all(isinstance(logs.get(f), bool) for f in ("enabled", "invocationLogs")):
                raise ProviderRejected("observability.logs needs enabled and invocation_logs")
            rates = [observability, logs or {}, observability.get("traces") or {}]
            if any(not 0 <= r.get("headSamplingRate", 1) <= 1 for r in rates):
                raise ProviderRejected("head_sampling_rate must lie between 0 and 1")
        self.scripts.add(inputs["scriptName"])

    def _subdomain(self, inputs: dict[str, Any]) -> None:
        self._account(inputs)
        if not isinstance(inputs.get("enabled"), bool):
            raise ProviderRejected("WorkersScriptSubdomain needs enabled (a bool)")
        if not inputs.get("scriptName"):
            raise ProviderRejected("WorkersScriptSubdomain needs script_name")

    def _custom_domain(self, inputs: dict[str, Any]) -> None:
        self._account(inputs)
        for required in ("hostname", "service"):
            if not inputs.get(required):
                raise ProviderRejected(f"WorkersCustomDomain needs {required}")
        if "zoneId" in inputs and not HEX32.match(str(inputs["zoneId"])):
            raise ProviderRejected(f"zone_id must be 32 hex characters, got {inputs['zoneId']!r}")

    def _route(self, inputs: dict[str, Any]) -> None:
        if not HEX32.match(str(inputs.get("zoneId", ""))):
            raise ProviderRejected(f"WorkersRoute needs zone_id (32 hex), got {inputs.get('zoneId')!r}")
        if not inputs.get("pattern"):
            raise ProviderRejected("WorkersRoute needs pattern")

    def _cron(self, inputs: dict[str, Any]) -> None:
        self._account(inputs)
        schedules = inputs.get("schedules") or []
        if not schedules or any(len(str(s.get("cron", "")).split()) != 5 for s in schedules):
            raise ProviderRejected(f"bad cron schedules {schedules!r}")

    def _imported(self, typ: str, import_id: str, inputs: dict[str, Any]) -> str:
        """pulumi-cloudflare's import ids are `<account_id>/<id>`; anything else is refused."""
        account, _, resource_id = import_id.partition("/")
        shapes = {KV_NAMESPACE: HEX32, D1: UUID}
        if typ not in shapes:
            raise ProviderRejected(f"no import support mocked for {typ}")
        if account != inputs.get("accountId") or not shapes[typ].match(resource_id):
            raise ProviderRejected(f"import id {import_id!r} is not <account_id>/<id> for {typ}")
        return resource_id

    def _command(self, inputs: dict[str, Any]) -> None:
        """What pulumi-command's local provider would refuse, and what would leak a secret."""
        create = inputs.get("create")
        if not create:
            raise ProviderRejected("local.Command without a create command does nothing")
        folder = inputs.get("dir")
        if folder is not None and not Path(folder).is_dir():
            raise ProviderRejected(f"local.Command dir {folder!r} does not exist")
        environment = inputs.get("environment") or {}
        if not all(isinstance(v, str) for v in environment.values()):
            raise ProviderRejected("local.Command environment values must be strings")
        if any(len(v) >= 8 and v in create for v in environment.values()):
            raise ProviderRejected("an environment value appears on the command line")
        if not isinstance(inputs.get("triggers", []), list):
            raise ProviderRejected("local.Command triggers must be a list")


_CHECKS = {
    KV_NAMESPACE: StrictCloudflareMocks._kv_namespace,
    KV_ENTRY: StrictCloudflareMocks._kv_entry,
    D1: StrictCloudflareMocks._d1,
    SCRIPT: StrictCloudflareMocks._script,
    CRON: StrictCloudflareMocks._cron,
    COMMAND: StrictCloudflareMocks._command,
    SUBDOMAIN: StrictCloudflareMocks._subdomain,
    CUSTOM_DOMAIN: StrictCloudflareMocks._custom_domain,
    ROUTE: StrictCloudflareMocks._route,
}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Keeps what the engine would see: parent, protect, retainOnDelete, dependencies."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.requests: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        self.requests[response.urn] = request
        return response


@dataclass
class ProgramRun:
    resources: list[Registered] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # pulumi.log.warn's messages

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str, name: str | None = None) -> Registered:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {typ} {name or ''}, found {[r.name for r in found]}"
        return found[0]
