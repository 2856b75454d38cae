"""Property-based tests (hypothesis) against the running Worker on workerd.

Random user ids (unicode, separators, percent-encodings, empty, 600 bytes), JSON bodies,
Authorization headers and methods, sent to the real Worker under `wrangler dev`:

- never a 5xx, and every error has the one JSON shape;
- the bearer check holds for every header: a wrong one is a 401, a right one never is;
- never a response about another user: a 200 names the requested user, and what a GET or
  a usage POST answers is what this run last PUT for that very id;
- never a key outside its prefix: afterwards, every local KV key is a seed key or
  `subscription:<valid id>`, and every D1 row a valid id (read from the stores themselves).

`PROPERTY_EXAMPLES` sets the examples per property (default 60, CI's); the figures in the
docs/testing.md's "Reliability" section come from `PROPERTY_EXAMPLES=2000`.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from local_worker import RunningWorker

from infra.plan.seeds import seed_entries

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "60"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,  # no timing in tests
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,  # every run explores afresh; a failure prints its minimal example
    # CI gates a merge: the same 60 cases every run there; local runs keep exploring.
    derandomize=os.environ.get("CI") == "true",
)
VALID_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# The seeded dev users: read, never written (other tests check their rows).
DEV_USERS = ["user-free", "user-pro", "user-premium"]
STATUSES = ["active", "trialing", "past_due", "canceled"]
ACTIVE = {"active", "trialing"}
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

valid_ids = st.from_regex(VALID_ID, fullmatch=True)
separators = st.sampled_from(
    [":", "/", "..", "../", "./", "\\", "%2F", "%2f", "%2e%2e", "%00", "?", "#", ";", " ", "\x00", "\n"]
)
user_ids = st.one_of(
    valid_ids,
    st.text(max_size=80),  # any unicode
    st.builds(
        lambda a, sep, b: a + sep + b, valid_ids | st.just(""), separators, valid_ids | st.sampled_from(DEV_USERS)
    ),
    st.builds(lambda u: "".join(f"%{byte:02X}" for byte in u.encode()), st.sampled_from(DEV_USERS) | valid_ids),
    st.builds(
        lambda u, prefix: prefix + u,
        st.sampled_from(DEV_USERS),
        st.sampled_from(["subscription:", "config:", "flags:", "../"]),
    ),
    st.sampled_from(DEV_USERS).map(str.upper),
    st.sampled_from(["", ".", "..", "x" * 600, "é" * 300, "x" * 65, "config:tiers"]),
)
# How the id is put in the path: fully percent-encoded, or with %, : and sub-delimiters
# sent raw (so "%2F" in an id arrives as the three characters, ":" as itself).
encodings = st.sampled_from(["", "%:@!$&'()*+,;=~"])  # quote()'s `safe`
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
tier_names = st.sampled_from(["free", "pro", "premium", "starter", "gold", "", "__proto__", "constructor", "PRO"])
subscription_bodies = st.fixed_dictionaries(
    {"tier": tier_names}, optional={"status": st.sampled_from([*STATUSES, "paused", None, 1]), "extra": json_values}
)
bodies = st.one_of(
    st.none(),
    subscription_bodies.map(json.dumps),
    json_values.map(json.dumps),
    st.binary(max_size=200),
    st.just('{"tier": "pro", "padding": "' + "x" * 5000 + '"}'),
)
# Authorization values: (template, right?). {t} is the service token.
AUTH = [
    ("Bearer {t}", True), ("bearer {t}", True), ("BEARER {t}", True), ("Bearer   {t}", True), ("Bearer\t{t}", True),
    (None, False), ("", False), ("Bearer", False), ("Basic {t}", False), ("{t}", False),
    ("Bearer {t}x", False), ("Bearer x{t}", False), ("Bearer {short}", False), ("Bearer {t} {t}", False),
    ("Bearer {upper}", False), ("Token {t}", False),
]  # fmt: skip
auth_headers = st.one_of(
    st.sampled_from(AUTH),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80).map(
        lambda text: (text.strip(), False)
    ),  # HTTP trims the ends
)
paths = st.sampled_from(["/subscriptions/{}", "/usage/{}", "/{}", "/subscriptions/{}/x", "/tiers", "/health"])
# Ids a breath apart (case, one character), shared by the examples: PUTs, GETs and usage
# POSTs meet on them, so an answer about a neighbour would show.
POOL = ["prop-a", "prop-A", "Prop-a", "prop-a-", "prop-a_", "prop-", "prop-a0"]
random_requests = st.fixed_dictionaries(
    {
        "method": st.sampled_from(METHODS),
        "route": paths,
        "user_id": user_ids,
        "safe": encodings,
        "body": bodies,
        "auth": auth_headers,
    }
)
# Well-formed requests (any id), so that writes happen and reads of the pool meet them.
plausible_requests = st.sampled_from(
    [("PUT", "/subscriptions/{}"), ("GET", "/subscriptions/{}"), ("POST", "/usage/{}")]
).flatmap(
    lambda method_route: st.fixed_dictionaries(
        {
            "method": st.just(method_route[0]),
            "route": st.just(method_route[1]),
            "user_id": st.sampled_from(POOL) | user_ids,
            "safe": encodings,
            "body": subscription_bodies.map(json.dumps) if method_route[0] == "PUT" else st.none(),
            "auth": st.sampled_from([a for a in AUTH if a[1]]),
        }
    )
)


def authorization(template: str | None, token: str) -> str | None:
    if template is None or ((template, False) not in AUTH and (template, True) not in AUTH):
        return template  # random text: sent as is
    return template.format(t=token, short=token[:-1], upper=token.upper())


def assert_well_formed(response, method: str) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400 and method != "HEAD":
        body = response.json()
        assert set(body) == {"error"} and {"code", "message", "requestId"} <= set(body["error"]), body
        assert ".js:" not in response.text and "    at " not in response.text


class Model:
    """What this run last PUT per user id (the Worker's answers must agree with it)."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, tuple[str, str]] = {}
        self.cases = 0

    def check(self, method: str, route: str, user_id: str, response) -> None:
        status = response.status_code
        if method == "PUT" and route == "/subscriptions/{}" and status == 200:
            record = response.json()
            assert record["userId"] == user_id, (user_id, record)
            self.subscriptions[user_id] = (record["tier"], record["status"])
        elif method == "GET" and route == "/subscriptions/{}" and status == 200:
            record = response.json()
            assert record["userId"] == user_id, (user_id, record)
            if user_id in self.subscriptions:
                assert (record["tier"], record["status"]) == self.subscriptions[user_id]
        elif method == "GET" and route == "/subscriptions/{}" and status == 404 and user_id in self.subscriptions:
            assert self.subscriptions[user_id][1] not in ACTIVE, (user_id, self.subscriptions[user_id])
        elif method == "POST" and route == "/usage/{}" and status == 200 and user_id in self.subscriptions:
            assert response.json()["tier"] == self.subscriptions[user_id][0]


def list_kv_keys(worker: RunningWorker) -> list[str]:
    listed = worker.wrangler("kv", "key", "list", "--binding", "KV")
    return [entry["name"] for entry in json.loads(listed.stdout)]


def test_random_requests_never_5xx_never_another_user_never_a_key_outside_its_prefix(worker):
    model = Model()

    @SETTINGS
    @given(request=random_requests | plausible_requests)
    def one_request(request):
        method, route, user_id, safe, body, auth = (
            request[k] for k in ("method", "route", "user_id", "safe", "body", "auth")
        )
        template, right = auth
        if method == "PUT" and user_id in DEV_USERS:
            user_id = user_id + "-x"  # other tests check the dev users' rows
        path = route.format(quote(user_id, safe=safe))
        value = authorization(template, worker.token)
        headers = {} if value is None else {"Authorization": value}
        response = worker.request(method, path, token=None, headers=headers, content=body)
        model.cases += 1
        assert_well_formed(response, method)
        if path != "/health":
            assert (response.status_code == 401) == (not right), (value, response.status_code, response.text)
        model.check(method, route, user_id, response)

    one_request()
    print(f"\n{model.cases} random requests; {len(model.subscriptions)} user ids written")

    # The stores themselves, after the run (and every other test so far in this session).
    seeded = set(seed_entries(worker.settings))
    keys = list_kv_keys(worker)
    strays = [k for k in keys if k not in seeded and not re.fullmatch(r"subscription:[A-Za-z0-9_-]{1,64}", k)]
    assert strays == []
    assert seeded <= set(keys)
    ids = [row["user_id"] for row in worker.d1("SELECT user_id FROM subscriptions UNION ALL SELECT user_id FROM usage")]
    assert [i for i in ids if not VALID_ID.fullmatch(i)] == []


def near(user_id: str) -> st.SearchStrategy[str]:
    """Valid ids that differ from user_id only a little: case, one character more or less."""
    variants = [user_id.swapcase(), user_id + "-", user_id + "0", "_" + user_id, user_id[:-1]]
    return st.sampled_from([v for v in variants if v != user_id and VALID_ID.fullmatch(v)])


@SETTINGS
@given(data=st.data(), suffix=valid_ids, tiers=st.permutations(["free", "pro", "premium"]))
def test_near_identical_user_ids_never_see_each_others_data(worker, data, suffix, tiers):
    """Two valid ids a breath apart (case, one character): each sees only its own record and count."""
    run = uuid.uuid4().hex[:8]
    a = (f"{run}{suffix}")[:64]
    b = data.draw(near(a), label="b")
    subscribed = {a: tiers[0], b: tiers[1]}
    for user_id, tier in subscribed.items():
        put = worker.put(f"/subscriptions/{user_id}", {"tier": tier})
        assert put.status_code == 201 and put.json()["userId"] == user_id, put.text
    for user_id, tier in subscribed.items():
        for _ in range(2):  # a miss, then a hit
            got = worker.get(f"/subscriptions/{user_id}")
            assert got.status_code == 200 and (got.json()["userId"], got.json()["tier"]) == (user_id, tier), got.text
    used = [worker.post(f"/usage/{u}") for u in (a, a, b)]
    assert [r.status_code for r in used] == [200, 200, 200], [r.text for r in used]
    assert [(r.json()["used"], r.json()["tier"]) for r in used] == [(1, tiers[0]), (2, tiers[0]), (1, tiers[1])]
