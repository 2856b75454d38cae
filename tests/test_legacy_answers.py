"""worker/src/legacy.js, run by Node on real Response objects: how a v1 answer becomes API 2.0.0's
on the unprefixed paths. The e2e tests (tests/e2e/test_worker_api.py, test_client.py with the
released client 0.2.0) check what the Worker sends today; these hold the mappings for v1 answers
the Worker may send that 2.0.0 said otherwise (one "no active subscription" code, PUT's 201)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from infra import paths

NODE = shutil.which("node") or "node"
SCRIPT = """
const { toLegacy } = await import('./worker/src/legacy.js');
const [status, method, route, path, body] = JSON.parse(process.argv[1]);
const v1 = new Response(body === null ? null : JSON.stringify(body), {
  status, headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'r-1' },
});
const c = { log: { route }, url: new URL('http://w' + path) };
const old = await toLegacy(v1, method, c);
const text = await old.text();
console.log(JSON.stringify({ status: old.status, headers: Object.fromEntries(old.headers), body: text ? JSON.parse(text) : null }));
"""


def legacy(status: int, method: str, route: str | None, path: str, body: object) -> dict:
    result = subprocess.run(
        [NODE, "--input-type=module", "-e", SCRIPT, json.dumps([status, method, route, path, body])],
        cwd=paths.ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    answer: dict = json.loads(result.stdout)
    return answer


def error(code: str, **extras: object) -> dict:
    return {"error": {"code": code, "message": "m", "requestId": "r-1", **extras}}


@pytest.mark.parametrize(
    "method,route,expected",
    [
        ("GET", "/subscriptions/{userId}", (404, "subscription_not_found")),
        ("GET", "/entitlements/{userId}", (404, "subscription_not_found")),
        ("POST", "/usage/{userId}", (403, "no_active_subscription")),
    ],
)
def test_v1s_one_no_active_subscription_code_is_2_0_0s_on_each_route(method, route, expected):
    answer = legacy(404, method, route, "/" + route.split("/")[1] + "/u1", error("no_active_subscription"))
    assert (answer["status"], answer["body"]["error"]["code"]) == expected


def test_a_put_that_created_answers_200_as_every_2_0_0_put_did():
    record = {"userId": "u1", "tier": "pro", "status": "active", "createdAt": "x", "updatedAt": "x"}
    answer = legacy(201, "PUT", "/subscriptions/{userId}", "/subscriptions/u1", record)
    assert answer["status"] == 200 and answer["body"] == record


def test_error_extras_are_at_the_top_level_too_and_the_deprecation_fields_are_set():
    figures = {"allowed": False, "remaining": 0, "limit": 10, "resetsAt": "2026-12-07T00:00:00.000Z"}
    answer = legacy(429, "POST", "/usage/{userId}", "/usage/u1", error("daily_limit_exceeded", **figures))
    assert answer["body"] == {**figures, **error("daily_limit_exceeded", **figures)}
    assert answer["headers"]["deprecation"] == "@1796601600"
    assert answer["headers"]["sunset"] == "Wed, 30 Jun 2027 23:59:59 GMT"
    assert answer["headers"]["link"] == '</v1/usage/u1>; rel="successor-version"'
    assert answer["headers"]["x-request-id"] == "r-1"


def test_other_answers_keep_their_status_and_body():
    assert legacy(404, "GET", None, "/nowhere", error("not_found"))["body"] == error("not_found")
    assert "link" not in legacy(404, "GET", None, "/nowhere", error("not_found"))["headers"]
    assert legacy(200, "PUT", "/subscriptions/{userId}", "/subscriptions/u1", {"a": 1})["status"] == 200
