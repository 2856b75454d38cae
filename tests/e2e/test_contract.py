"""worker/openapi.yaml against the real Worker on workerd.

1. The routes the Worker serves, found by probing it: every documented method of every path
   is served, every other method is a 405 naming exactly the documented ones, and other paths
   are 404s.
2. Property-based contract tests (schemathesis): for every operation, generated inputs (valid
   and invalid), each sent with a token of the scope the document declares; every response must
   match the document (status, headers, body schema, content type), none may be a 5xx, and the
   declared scope must be enough.

`CONTRACT_EXAMPLES` sets the examples per operation: 25 by default (and in CI, where the cases
are also fixed: derandomized); the long run in docs/testing.md uses 1000. One Worker of its own,
so the generated writes touch no other test's data.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from local_worker import RunningWorker, e2e_settings, own_worker
from schemathesis.specs.openapi.checks import positive_data_acceptance

from infra import paths
from infra.plan.api import routes

pytestmark = pytest.mark.e2e

SPEC_PATH = paths.WORKER_DIR / "openapi.yaml"
SCHEMA = schemathesis.openapi.from_path(SPEC_PATH)
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "25"))
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


@pytest.fixture(scope="module")
def contract_worker(tmp_path_factory) -> Iterator[RunningWorker]:
    with own_worker(tmp_path_factory.mktemp("e2e-contract"), e2e_settings()) as running:
        yield running


def token_for(worker: RunningWorker, method: str, template: str) -> dict[str, str]:
    """The local client holding exactly the scope the route needs (none for /health); for a method
    the route does not serve, its first method's (so that the answer is the 405, not a 401)."""
    methods = routes()[template]
    scope = methods.get(method, next(iter(methods.values())))
    return {} if scope is None else {"Authorization": f"Bearer {worker.local_tokens[scope]}"}


# --- the served routes, probed --------------------------------------------------------------


@pytest.mark.parametrize("template", list(SCHEMA.raw_schema["paths"]))
def test_every_documented_path_serves_exactly_its_documented_methods(contract_worker, template):
    documented = sorted(method.upper() for method in SCHEMA.raw_schema["paths"][template] if method != "parameters")
    path = template.replace("{userId}", "user-pro")
    for method in METHODS:
        if method in documented:
            response = contract_worker.request(
                method, path, token=None, headers=token_for(contract_worker, method, template), json={"tier": "pro"}
            )
            assert (
                response.status_code not in (404, 405) or response.json()["error"]["code"] == "subscription_not_found"
            )
        else:
            response = contract_worker.request(
                method, path, token=None, headers=token_for(contract_worker, documented[0], template)
            )
            assert response.status_code == 405, (method, path, response.status_code)
            assert sorted(response.headers["Allow"].split(", ")) == documented


@pytest.mark.parametrize("path", ["/", "/tier", "/subscriptions", "/usage/a/b", "/entitlements", "/admin", "/health/x"])
def test_undocumented_paths_are_not_served(contract_worker, path):
    """The contract's NotFound response (the `default` of every operation): 404 `not_found`, in
    the one error shape, with the headers every answer has."""
    response = contract_worker.get(path)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["requestId"] == response.headers["X-Request-Id"]
    assert response.headers["X-Content-Type-Options"] == "nosniff" and response.headers["Cache-Control"] == "no-store"


def test_an_unread_body_leaves_the_connection_usable(contract_worker):
    """PUTs refused before their body is read (a 401), one after another on one connection, to the
    Worker run as is (unbundled, as `wrangler dev` runs it): it drains the unread body, as
    wrangler's dev bundling used to, so local workerd never answers a next request with a 503 of
    its own (about 1 in 100 did without it)."""
    with httpx.Client(base_url=contract_worker.api_url, timeout=10) as client:
        statuses = [
            client.put(
                "/subscriptions/user-pro", json={"tier": "pro"}, headers={"Authorization": "Bearer no"}
            ).status_code
            for _ in range(600)
        ]
    assert set(statuses) == {401}, {status: statuses.count(status) for status in set(statuses)}


# --- schemathesis -------------------------------------------------------------------------------


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,  # no timing in tests
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=os.environ.get("CI") == "true",  # CI gates a merge: the same cases every run there
)
def test_every_response_matches_the_contract(case, contract_worker):
    headers = token_for(contract_worker, case.method.upper(), case.path)
    # A schema-valid tier may still be one the deploy does not configure: 400 unknown_tier is the
    # documented answer, checked below, not a rejection of valid data.
    is_put = (case.method.upper(), case.path) == ("PUT", "/subscriptions/{userId}")
    try:
        response = case.call_and_validate(
            base_url=contract_worker.api_url,
            headers=headers,
            excluded_checks=[positive_data_acceptance] if is_put else [],
            timeout=30,
        )
    except Exception as failure:  # schemathesis's report lacks the body: the Worker's log line has it
        tail = "\n".join(contract_worker.log_path.read_text(errors="replace").splitlines()[-15:])
        raise AssertionError(f"{failure}\n--- the Worker's last log lines:\n{tail}") from failure
    assert response.status_code < 500, response.text
    if response.status_code in (400, 403) and response.content:
        code = response.json()["error"]["code"]
        assert code != "insufficient_scope", "the scope the document declares was not enough"
        if is_put and case.meta is not None and case.meta.generation.mode.is_positive:
            assert code == "unknown_tier", response.text
