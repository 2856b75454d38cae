"""worker/openapi.yaml: a valid OpenAPI 3.1 document that describes exactly the routes the Worker
serves, with the scopes, user-id rule, statuses and error codes the Worker really uses.

The served routes come from ROUTES, which worker.js routes by and tests/test_worker_contract.py
holds equal to infra/worker_contract.py; tests/e2e/test_contract.py probes the running Worker."""

import re

import yaml
from openapi_spec_validator import validate

from infra import paths, worker_contract

SPEC_PATH = paths.WORKER_DIR / "openapi.yaml"
SPEC = yaml.safe_load(SPEC_PATH.read_text())
WORKER = paths.WORKER_SOURCE.read_text()
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
        for path, methods in worker_contract.ROUTES.items()
    }


def test_the_document_is_valid_openapi_3_1():
    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)


def test_it_describes_every_served_route_and_nothing_more_with_its_scope():
    assert operations(SPEC) == served()


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
    """Every error code worker.js answers with (its HttpError(...), errorJson(...) and fail(...) calls)."""
    return set(re.findall(r'(?:new HttpError|errorJson|fail)\(\s*(?:c,\s*)?\d{3},\s*"([a-z_]+)"', source))


def test_every_error_code_the_worker_answers_with_is_documented_and_no_other():
    documented = set(SPEC["components"]["schemas"]["ErrorCode"]["enum"])
    assert worker_error_codes(WORKER) == documented
    assert "a_new_code" in worker_error_codes(WORKER + '\nthrow new HttpError(418, "a_new_code", "x");')
    assert "another_code" in worker_error_codes(WORKER + '\nreturn errorJson(c, 418, "another_code", "x");')


def test_each_response_names_only_documented_codes():
    documented = set(SPEC["components"]["schemas"]["ErrorCode"]["enum"])
    text = SPEC_PATH.read_text()
    named = set(re.findall(r"code: \{ (?:const: (\w+)|enum: \[([\w, ]+)\]) \}", text))
    codes = {code.strip() for const, enum in named for code in ([const] if const else enum.split(","))}
    assert codes and codes <= documented
