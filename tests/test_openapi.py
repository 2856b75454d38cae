"""worker/openapi.yaml: a valid OpenAPI 3.1 document that describes exactly the routes the Worker
serves, with the scopes, user-id rule, statuses and error codes the Worker really uses.

The served routes come from this document (infra/plan/api.py), generated into the Worker's
contract module; tests/e2e/test_contract.py probes the running Worker."""

import re

import yaml
from openapi_spec_validator import validate

from infra import paths, worker_contract
from infra.plan import api

SPEC_PATH = paths.WORKER_DIR / "openapi.yaml"
SPEC = yaml.safe_load(SPEC_PATH.read_text())
WORKER = "\n".join(path.read_text() for path in sorted(paths.WORKER_SRC.rglob("*.js")))
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def operations(spec) -> dict[str, dict[str, list[str] | None]]:
    """path -> METHOD -> the scopes its security requires (None: no token)."""
    found: dict[str, dict[str, list[str] | None]] = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            security = operation.get("security", spec.get("security"))
            scopes = [scope for requirement in security for scope in requirement.get("bearerAuth", [])]
            found.setdefault(path, {})[method.upper()] = scopes if security else None
    return found


def served() -> dict[str, dict[str, list[str] | None]]:
    return {
        path: {method: None if scope is None else [scope] for method, scope in methods.items()}
        for path, methods in api.routes().items()
    }


def test_the_document_is_valid_openapi_3_1():
    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)


def test_the_routes_the_worker_serves_are_the_documents_with_their_scopes():
    """api.routes() is what the Worker routes by (generated into its contract module)."""
    assert operations(SPEC) == served()
    assert served()["/usage/{userId}"] == {"POST": ["usage"]} and served()["/health"]["GET"] is None


def test_the_route_check_sees_a_missing_or_extra_route():
    missing = yaml.safe_load(SPEC_PATH.read_text())
    del missing["paths"]["/entitlements/{userId}"]
    assert operations(missing) != served()
    extra = yaml.safe_load(SPEC_PATH.read_text())
    extra["paths"]["/tiers"]["delete"] = extra["paths"]["/tiers"]["get"]
    assert operations(extra) != served()
    wrong_scope = yaml.safe_load(SPEC_PATH.read_text())
    wrong_scope["paths"]["/usage/{userId}"]["post"]["security"] = [{"bearerAuth": ["read"]}]
    assert operations(wrong_scope) != served()


def test_scopes_statuses_and_the_user_id_rule_are_the_workers():
    schemas = SPEC["components"]["schemas"]
    assert schemas["Scope"]["enum"] == list(worker_contract.SCOPES)
    assert schemas["SubscriptionStatus"]["enum"] == list(worker_contract.SUBSCRIPTION_STATUSES)
    assert SPEC["components"]["parameters"]["UserId"]["schema"]["pattern"] == worker_contract.USER_ID_PATTERN
    assert schemas["Subscription"]["properties"]["userId"]["pattern"] == worker_contract.USER_ID_PATTERN


def worker_error_codes(source: str) -> set[str]:
    """Every error code the Worker's modules answer with: a status then a code, as HttpError(...),
    errorJson(...) and their helpers take them (the generated contract's ErrorCode type, which tsc
    holds every call to, is the document's list itself)."""
    return set(re.findall(r'\b\d{3},\s*"([a-z_]+)"', source))


def test_every_error_code_the_worker_answers_with_is_documented_and_no_other():
    documented = set(SPEC["components"]["schemas"]["ErrorCode"]["enum"])
    assert worker_error_codes(WORKER) == documented
    assert "a_new_code" in worker_error_codes(WORKER + '\nthrow new HttpError(418, "a_new_code", "x");')
    assert "another_code" in worker_error_codes(WORKER + '\nreturn errorJson(c, 418, "another_code", "x");')
    assert "third_code" in worker_error_codes(WORKER + '\nthrow invalid(418, "third_code", "x");')


def test_each_response_names_only_documented_codes():
    documented = set(SPEC["components"]["schemas"]["ErrorCode"]["enum"])
    text = SPEC_PATH.read_text()
    named = set(re.findall(r"code: \{ (?:const: (\w+)|enum: \[([\w, ]+)\]) \}", text))
    codes = {code.strip() for const, enum in named for code in ([const] if const else enum.split(","))}
    assert codes and codes <= documented


def test_the_docs_route_table_lists_every_operation_with_its_scope_and_error_codes():
    table = api.docs_route_table()
    for path, methods in api.routes().items():
        for method, scope in methods.items():
            row = next(line for line in table.splitlines() if line.startswith(f"| `{method} {path}` |"))
            assert (f"`{scope}`" if scope else "none") in row
    usage = next(line for line in table.splitlines() if line.startswith("| `POST /usage/{userId}` |"))
    assert "429 `daily_limit_exceeded`, `burst_limited`" in usage
    assert "`invalid_json`" not in usage  # a response's own codes, not every code the contract has


def test_the_tier_schema_has_every_field_the_settings_tier_has():
    """GET /tiers answers with the catalog's tiers as the settings define them: a field added to
    the settings' Tier must be described (it reaches callers whether or not they know it)."""
    from infra.settings.catalog import Tier

    described = set(SPEC["components"]["schemas"]["Tier"]["properties"])
    assert {field.alias or name for name, field in Tier.model_fields.items()} == described


# --- a contract that leaves nothing out (issue 17) ---------------------------------------------


def every_response():
    """(METHOD path, status, the response resolved) for every response of every operation."""
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                for status, response in operation["responses"].items():
                    yield f"{method.upper()} {path}", str(status), api._resolve(SPEC, response)


def test_every_operation_describes_the_default_error_a_405_with_allow_and_a_500():
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation["responses"]
            assert {"default", "405", "500"} <= set(responses), f"{method} {path}"
            assert "Allow" in api._resolve(SPEC, responses["405"])["headers"]
    codes = {status: api._codes_in(SPEC, SPEC["components"]["responses"][name]) for status, name in
             (("404", "NotFound"), ("405", "MethodNotAllowed"), ("500", "InternalError"))}  # fmt: skip
    assert codes == {"404": ["not_found"], "405": ["method_not_allowed"], "500": ["internal_error"]}


def test_every_401_and_403_describes_its_www_authenticate_challenge():
    statuses = [(where, status) for where, status, response in every_response() if status in ("401", "403")]
    assert statuses
    for where, status, response in every_response():
        if status in ("401", "403"):
            header = response["headers"]["WWW-Authenticate"]
            assert 'realm="guruai-cache"' in header["schema"]["pattern"], (where, status)


def test_every_response_describes_nosniff_and_its_cache_control():
    for where, status, response in every_response():
        headers = response.get("headers", {})
        assert {"X-Request-Id", "X-Content-Type-Options", "Cache-Control"} <= set(headers), (where, status)


def test_the_daily_429_and_the_usage_answers_describe_their_rate_limit_fields():
    usage = SPEC["paths"]["/usage/{userId}"]["post"]["responses"]
    for status in ("200", "429"):
        assert {
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
            "RateLimit-Policy",
            "RateLimit",
        } <= set(usage[status]["headers"]), status
    entitlements = SPEC["paths"]["/entitlements/{userId}"]
    for method in ("get", "head"):
        assert {"RateLimit-Policy", "RateLimit"} <= set(entitlements[method]["responses"]["200"]["headers"])


def test_every_get_route_has_head():
    for path, item in SPEC["paths"].items():
        if "get" in item:
            assert "head" in item, path
            assert item["head"].get("security") == item["get"].get("security"), path


def test_the_servers_end_in_v1_and_the_worker_serves_the_documents_version():
    assert api.base_path() == "/v1"
    assert all(server["url"].endswith("/v1") for server in SPEC["servers"])
    contract = (paths.WORKER_SRC / "contract.js").read_text()
    assert f'export const API_VERSION = /** @type {{const}} */ ("{SPEC["info"]["version"]}");' in contract
    assert SPEC["info"]["version"] == "3.0.0"
    # RFC 9745's Deprecation is "@" and Unix seconds; RFC 8594's Sunset an HTTP-date.
    assert api.unprefixed_headers() == {"Deprecation": "@1796601600", "Sunset": "Wed, 30 Jun 2027 23:59:59 GMT"}


def schemas_reached(node, seen=None):
    """Every schema object reachable from `node`, $refs followed."""
    seen = set() if seen is None else seen
    node = api._resolve(SPEC, node)
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from schemas_reached(value, seen)
    elif isinstance(node, list):
        for value in node:
            yield from schemas_reached(value, seen)


def test_responses_allow_fields_they_do_not_list_and_request_bodies_do_not():
    """Clients must ignore unknown fields (the document says so), so a later version may add one:
    no response schema forbids it. The Worker refuses unknown fields in a request body."""
    for where, status, response in every_response():
        for schema in schemas_reached(response.get("content", {})):
            assert schema.get("additionalProperties") is not False, (where, status)
    change = SPEC["paths"]["/subscriptions/{userId}"]["put"]["requestBody"]
    assert any(schema.get("additionalProperties") is False for schema in schemas_reached(change))
    assert "ignore" in SPEC["info"]["description"] and "codes they do" in SPEC["info"]["description"]
