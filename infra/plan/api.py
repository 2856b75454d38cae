"""The Worker's HTTP API as its contract, worker/openapi.yaml, describes it: the one source of the
routes and the scopes they need, the error codes, and the route table in docs/worker-api.md.

The Worker routes by `routes()` (generated into worker/src/contract.js as ROUTES), so a route,
its method and its scope are added in the contract alone, then served by a handler.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime
from email.utils import format_datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import yaml

from infra import paths

HTTP_METHODS = ("get", "head", "put", "post", "delete", "patch", "options")
# The route table in docs/worker-api.md, between these lines, is written by `guruai-cache worker build`.
DOCS_TABLE_START = "<!-- routes: generated from worker/openapi.yaml by `guruai-cache worker build` -->"
DOCS_TABLE_END = "<!-- end of routes -->"

Routes = dict[str, dict[str, str | None]]


@cache
def spec(text: str | None = None) -> dict[str, Any]:
    """worker/openapi.yaml, parsed (or `text`)."""
    loaded: dict[str, Any] = yaml.safe_load(paths.OPENAPI_SPEC.read_text() if text is None else text)
    return loaded


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method.upper(), operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def _scope(document: dict[str, Any], operation: dict[str, Any]) -> str | None:
    """The one scope the operation's security requires; None: no token."""
    security = operation.get("security", document.get("security")) or []
    scopes = [scope for requirement in security for scope in requirement.get("bearerAuth", [])]
    if len(scopes) > 1:
        raise ValueError(f"an operation needs one scope at most, not {scopes}")
    return scopes[0] if scopes else None


def routes(text: str | None = None) -> Routes:
    """path template -> METHOD -> the scope it needs (None: no token), in the document's order."""
    document = spec(text)
    found: Routes = {}
    for path, method, operation in _operations(document):
        found.setdefault(path, {})[method] = _scope(document, operation)
    return found


def operation_ids(text: str | None = None) -> dict[str, str]:
    """Each operation ("METHOD /path") -> its operationId: the name of the Worker's handler for it."""
    document = spec(text)
    found = {}
    for path, method, operation in _operations(document):
        if "operationId" not in operation:
            raise ValueError(f"{method} {path} has no operationId: the Worker's handler is named by it")
        found[f"{method} {path}"] = operation["operationId"]
    return found


def version(text: str | None = None) -> str:
    """The API's version (info.version): what /health reports."""
    found: str = spec(text)["info"]["version"]
    return found


def base_path(text: str | None = None) -> str:
    """The path every server URL ends in (`/v1`): the prefix of every route the Worker serves."""
    paths: set[str] = {urlsplit(server["url"]).path.rstrip("/") for server in spec(text)["servers"]}
    if len(paths) != 1:
        raise ValueError(f"the servers' URLs must share one base path, not {sorted(paths)}")
    return paths.pop()


def unprefixed_headers(text: str | None = None) -> dict[str, str]:
    """What an answer on a path without the base path carries (x-unprefixed-paths): RFC 9745's
    `Deprecation` (`@` and Unix seconds) and RFC 8594's `Sunset` (an HTTP-date)."""
    dates = spec(text)["x-unprefixed-paths"]
    deprecated, sunset = (datetime.fromisoformat(dates[name]) for name in ("deprecated", "sunset"))
    return {"Deprecation": f"@{int(deprecated.timestamp())}", "Sunset": format_datetime(sunset, usegmt=True)}


def error_codes(text: str | None = None) -> list[str]:
    """The error codes the contract documents (its ErrorCode schema)."""
    codes: list[str] = spec(text)["components"]["schemas"]["ErrorCode"]["enum"]
    return codes


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _codes_in(document: dict[str, Any], node: Any, seen: frozenset[int] = frozenset()) -> list[str]:
    """The error codes a response's schema names (`code: {const}` or `{enum}`), in order."""
    node = _resolve(document, node)
    if id(node) in seen:
        return []
    seen = seen | {id(node)}
    found: list[str] = []
    if isinstance(node, dict):
        # Inline only: a `$ref` to ErrorCode (every code) is the generic shape, not this response's.
        code = (node.get("properties") or {}).get("code")
        if isinstance(code, dict) and ("const" in code or "enum" in code):
            found += [code["const"]] if "const" in code else list(code["enum"])
        for key, value in node.items():
            if key != "code":
                found += _codes_in(document, value, seen)
    elif isinstance(node, list):
        for item in node:
            found += _codes_in(document, item, seen)
    return list(dict.fromkeys(found))


def docs_route_table(text: str | None = None) -> str:
    """The route table of docs/worker-api.md: each operation, its scope, what it does, its errors."""
    document = spec(text)
    lines = ["| route | scope | what it does | error answers |", "| --- | --- | --- | --- |"]
    for path, method, operation in _operations(document):
        scope = _scope(document, operation)
        errors = []
        for status, response in sorted(operation.get("responses", {}).items()):
            if str(status).startswith(("4", "5")):
                codes = _codes_in(document, response)
                errors.append(f"{status} " + ", ".join(f"`{code}`" for code in codes) if codes else str(status))
        lines.append(
            f"| `{method} {path}` | {f'`{scope}`' if scope else 'none'} | {operation.get('summary', '')} | "
            f"{'; '.join(errors) or '-'} |"
        )
    return "\n".join([DOCS_TABLE_START, *lines, DOCS_TABLE_END])


def with_docs_route_table(docs: str, table: str) -> str:
    """docs/worker-api.md with its generated table replaced (the markers must be there)."""
    start, end = docs.index(DOCS_TABLE_START), docs.index(DOCS_TABLE_END) + len(DOCS_TABLE_END)
    return docs[:start] + table + docs[end:]


def stack_spec(tier_names: Iterable[str], text: str | None = None) -> dict[str, Any]:
    """The contract as one stack's Worker serves it: the stack's tiers (in its settings' order) as
    the `enum` of every field that names a configured tier, so that a schema-valid request is one
    that Worker accepts (a PUT with another tier is its 400 `unknown_tier`). `Subscription.tier`
    and `Entitlements.tier` stay free strings: a stored subscription may name a tier a later
    deploy removed (it then gets the fallback tier: `effectiveTier`, which is in the enum)."""
    document = copy.deepcopy(spec(text))
    tiers = list(tier_names)
    schemas = document["components"]["schemas"]
    schemas["SubscriptionChange"]["properties"]["tier"]["enum"] = tiers
    for name in ("Entitlements", "Usage"):
        schemas[name]["properties"]["effectiveTier"]["enum"] = tiers
    # GET /tiers answers every configured tier, by name, and no other.
    schemas["Tiers"]["propertyNames"] = {"enum": tiers}
    schemas["Tiers"]["required"] = tiers
    return document
