"""worker/openapi.yaml against the real Worker on workerd.

1. The routes the Worker serves, found by probing it: every documented method of every path
   is served, every other method is a 405 naming exactly the documented ones, and other paths
   are 404s.
2. Property-based contract tests (schemathesis, every check, every phase): on the spec rendered
   for this Worker's own settings (`guruai-cache openapi`: its tiers as an enum), for every
   operation, generated inputs (the examples, the coverage phase's boundary values, fuzzed valid
   and invalid ones), each sent with a token of the scope the document declares; every response
   must match the document (status, headers, body schema, content type), a schema-valid request
   must be accepted and an invalid one refused, none may be a 5xx, and the declared scope must be
   enough.
3. The stateful phase: sequences that follow the spec's links (PUT -> GET the subscription, the
   entitlements, POST a use, PUT again with If-Match: the ETag), every check on every step.

`CONTRACT_EXAMPLES` sets the examples per operation (and the stateful steps): 25 by default (and
in CI, where the cases are also fixed: derandomized); the long run in docs/testing.md uses 1000.
One Worker of its own, so the generated writes touch no other test's data.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from local_worker import RunningWorker, e2e_settings, own_worker

from infra import paths
from infra.plan.api import routes, spec, stack_spec

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "25"))
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
USER_ID = re.compile(spec()["components"]["parameters"]["UserId"]["schema"]["pattern"])
IDEMPOTENCY_KEY = re.compile(
    next(p for p in spec()["paths"]["/usage/{userId}"]["post"]["parameters"] if p["name"] == "Idempotency-Key")[
        "schema"
    ]["pattern"]
)
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,  # no timing in tests
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=os.environ.get("CI") == "true",  # CI gates a merge: the same cases every run there
)


@pytest.fixture(scope="module")
def contract_worker(tmp_path_factory) -> Iterator[RunningWorker]:
    with own_worker(tmp_path_factory.mktemp("e2e-contract"), e2e_settings()) as running:
        yield running


# Every check, with two additions to what counts as accepting valid data, both answers about the
# state a valid request meets, not about its data: 412, to a PUT whose If-Match / If-None-Match
# (any string, to the schema) does not name the current record (RFC 9110, 13.1); and 422
# `idempotency_key_reused`, to a POST /usage whose Idempotency-Key was used for another user
# within the window (the IETF Idempotency-Key draft's status for a key reused on another request).
# The stateful phase follows the spec's own links only: links inferred from the schemas would make
# POST /usage (a POST: "creates", to schemathesis) the one entry point, and a use of a random user
# is always a 404, so no sequence would get past its first step. With explicit links only, the
# sequences start at PUT /subscriptions (or GET) and follow it.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "phases": {"stateful": {"inference": {"algorithms": []}}},
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429", "5xx"]
            }
        },
    }
)


# The tiers of the e2e Worker's own settings (tests/stacks), read at collection, before the
# session's `fixture_stacks` points the stack files there: schemathesis builds its tests now.
with pytest.MonkeyPatch.context() as patch:
    patch.setattr(paths, "STACKS_DIR", Path(__file__).resolve().parents[1] / "stacks")
    TIERS = [tier.name for tier in e2e_settings().tiers]
# The spec as that Worker serves it, rendered as `guruai-cache openapi --stack S` renders it.
SCHEMA = schemathesis.openapi.from_dict(stack_spec(TIERS), config=CONFIG)


@pytest.fixture(scope="module")
def stack_schema(contract_worker):
    assert [tier.name for tier in contract_worker.settings.tiers] == TIERS
    return SCHEMA


def token_for(worker: RunningWorker, method: str, template: str) -> dict[str, str]:
    """The local client holding exactly the scope the route needs (none for /health); for a method
    the route does not serve, its first method's (so that the answer is the 405, not a 401)."""
    methods = routes()[template]
    scope = methods.get(method, next(iter(methods.values())))
    return {} if scope is None else {"Authorization": f"Bearer {worker.local_tokens[scope]}"}


# --- the served routes, probed --------------------------------------------------------------


@pytest.mark.parametrize("template", list(spec()["paths"]))
def test_every_documented_path_serves_exactly_its_documented_methods(contract_worker, template):
    documented = sorted(method.upper() for method in spec()["paths"][template] if method != "parameters")
    path = template.replace("{userId}", "user-pro")
    for method in METHODS:
        if method in documented:
            response = contract_worker.request(
                method, path, token=None, headers=token_for(contract_worker, method, template), json={"tier": "pro"}
            )
            assert (
                response.status_code not in (404, 405) or response.json()["error"]["code"] == "no_active_subscription"
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
@SETTINGS
def test_every_response_matches_the_contract(case, contract_worker, stack_schema):
    headers = token_for(contract_worker, case.method.upper(), case.path)
    response = call_and_validate(case, contract_worker, headers)
    if response.status_code in (400, 403) and response.content:
        code = response.json()["error"]["code"]
        assert code != "insufficient_scope", "the scope the document declares was not enough"


def call_and_validate(case, worker: RunningWorker, headers: dict[str, str], **kwargs):
    """The case sent and every check of schemathesis run on its answer (none excluded), plus no 5xx."""
    try:
        response = case.call_and_validate(base_url=worker.api_url, headers=headers, timeout=30, **kwargs)
    except Exception as failure:  # schemathesis's report lacks the body: the Worker's log line has it
        tail = "\n".join(worker.log_path.read_text(errors="replace").splitlines()[-15:])
        raise AssertionError(f"{failure}\n--- the Worker's last log lines:\n{tail}") from failure
    assert response.status_code < 500, response.text
    return response


def test_the_stateful_phase_finds_nothing(stack_schema, contract_worker):
    """Sequences along the spec's links, with the `tester` client (every scope): a PUT's record
    read back by GET /subscriptions and /entitlements, counted by POST /usage, written again with
    its ETag in If-Match; every check on every step."""
    headers = {"Authorization": f"Bearer {contract_worker.token}"}

    class Workflow(stack_schema.as_state_machine()):
        def setup(self):
            # Each scenario, and each of Hypothesis's replays of it, on users and keys of its own:
            # the Worker keeps state (a PUT creates once, then updates; a use counts towards
            # limits; a key is bound to its first user), and a replay that met the first run's
            # state would answer otherwise and draw other steps (FlakyStrategyDefinition).
            self.scenario = uuid.uuid4().hex[:8]

        def own(self, value: str) -> str:
            return f"{self.scenario}-{hashlib.sha256(value.encode()).hexdigest()[:16]}"

        def before_call(self, case):
            user_id = case.path_parameters.get("userId") if case.path_parameters else None
            # A valid id (a generated one, or one a link took from an answer) maps to this
            # scenario's own; an invalid one stays as generated, as invalid as it was.
            if isinstance(user_id, str) and USER_ID.fullmatch(user_id) and not user_id.startswith(self.scenario):
                case.path_parameters["userId"] = self.own(user_id)
            key = (case.headers or {}).get("Idempotency-Key")
            if isinstance(key, str) and IDEMPOTENCY_KEY.fullmatch(key):
                case.headers["Idempotency-Key"] = self.own(key)

        def get_call_kwargs(self, case):
            return {"base_url": contract_worker.api_url, "headers": headers, "timeout": 30}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            assert response.status_code < 500, response.text
            super().validate_response(response, case, additional_checks, **kwargs)

    Workflow.run(settings=settings(SETTINGS, stateful_step_count=6))
