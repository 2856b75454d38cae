"""worker/worker.js and infra/worker_contract.py agree: the shared constants (routes and scopes among
them), and the bindings the Worker reads."""

import json
import re

import pytest

from infra import paths, worker_contract
from infra.cost.operations import OPERATION_KINDS
from infra.plan.worker import script_bindings, worker_plan
from infra.settings import load_settings

SOURCE = paths.WORKER_SOURCE.read_text()
CONST = re.compile(r"^const (\w+) = (.+?);\s*(?://.*)?$", re.M)


def js_constants(source: str) -> dict[str, object]:
    """Top-level `const NAME = literal;` of the Worker, as Python values (regex literals as their pattern)."""
    found: dict[str, object] = {}
    for name, literal in CONST.findall(source):
        if literal.startswith("/") and literal.endswith("/"):
            found[name] = literal[1:-1]
            continue
        quoted_keys = re.sub(r"([{,]\s*)([A-Za-z_]\w*)\s*:", r'\1"\2":', literal)
        try:
            found[name] = json.loads(quoted_keys)
        except json.JSONDecodeError:
            continue  # an expression (SQL built from other constants), not a literal
    return found


@pytest.mark.parametrize("name", worker_contract.SHARED_WITH_WORKER)
def test_each_shared_constant_has_the_same_value_in_the_worker(name):
    expected = getattr(worker_contract, name)
    in_worker = js_constants(SOURCE)
    assert name in in_worker, f"worker.js declares no `const {name} = ...;`"
    assert in_worker[name] == (list(expected) if isinstance(expected, tuple) else expected)


def test_the_comparison_sees_a_difference():
    changed = SOURCE.replace(
        'const SUBSCRIPTION_KEY_PREFIX = "subscription:";', 'const SUBSCRIPTION_KEY_PREFIX = "subscriptions:";'
    )
    assert js_constants(changed)["SUBSCRIPTION_KEY_PREFIX"] != worker_contract.SUBSCRIPTION_KEY_PREFIX
    assert js_constants("const A = { B: 1, C_D: 2 };") == {"A": {"B": 1, "C_D": 2}}
    dropped = SOURCE.replace(', "/entitlements/{userId}": { GET: "read" }', "")
    assert js_constants(dropped)["ROUTES"] != worker_contract.ROUTES
    assert js_constants('const R = { "/x": { GET: null, PUT: "write" } };') == {
        "R": {"/x": {"GET": None, "PUT": "write"}}
    }


def test_the_worker_reads_exactly_the_bindings_the_stack_binds():
    settings = load_settings({}, stack="dev", require_account=False)
    bound = {b["name"] for b in script_bindings(worker_plan(settings, "dev"), "kv", "db", "clients")}
    read = set(re.findall(r"\benv\.([A-Z][A-Z0-9_]*)", SOURCE))
    read |= set(re.findall(r'(?:numeric|rate|seconds)Var\((?:c\.)?env, "([A-Z][A-Z0-9_]*)"\)', SOURCE))
    assert read == bound
    assert set(worker_contract.VAR_DEFAULTS) <= bound


def test_the_data_point_fields_name_their_analytics_engine_columns():
    assert worker_contract.data_point_column("route") == "blob1"
    assert worker_contract.data_point_column("status") == "blob4"
    assert worker_contract.data_point_column("kv_reads") == "double1"
    assert worker_contract.data_point_column("duration_ms") == "double8"
    with pytest.raises(KeyError, match="no field"):
        worker_contract.data_point_column("user_id")  # never written: a data point names no user


def test_the_data_point_fits_analytics_engines_limits():
    from infra import platform

    point = worker_contract.METRICS_DATA_POINT
    assert len(point["blobs"]) <= platform.AE_MAX_BLOBS and len(point["doubles"]) <= platform.AE_MAX_DOUBLES
    assert point["index"] in point["blobs"]  # the route is the sampling key, and a column to group by
    # The counts of worker/operations.json, each a double, before the duration.
    assert point["doubles"][:-1] == list(OPERATION_KINDS) and point["doubles"][-1] == "duration_ms"
