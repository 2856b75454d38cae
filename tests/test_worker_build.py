"""The Worker's one source of truth: the generated contract module and Env type, the bundle that
deploys, the type check, and the route table's handlers.

What the Worker shares with the Python side is rendered from infra/ by `guruai-cache worker
build` (no copies kept equal by hand); these tests run the generated JavaScript in Node and the
type check with the pinned TypeScript, so each link can be seen to fail."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra import paths, worker_contract
from infra.cost.operations import OPERATION_KINDS
from infra.names import LOCAL
from infra.plan import api
from infra.plan.bindings import AnalyticsEngine, ScriptInputs
from infra.plan.worker import script_bindings, var_defaults, worker_plan
from infra.plan.worker_source import contract_module, env_declaration
from infra.settings import load_settings
from infra.tools import cli, worker_build

NODE = shutil.which("node") or "node"
TSC = paths.ROOT / "node_modules" / ".bin" / "tsc"
RUNTIME_TYPES = paths.ROOT / ".wrangler" / "types" / "runtime.d.ts"


def sources() -> str:
    return "\n".join(path.read_text() for path in sorted(paths.WORKER_SRC.rglob("*.js")))


def node_json(script: str, cwd: Path) -> object:
    result = subprocess.run([NODE, "--input-type=module", "-e", script], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def src_copy(tmp_path) -> Path:
    """worker/src copied (an ES module package of its own), to plant mistakes in."""
    copy = tmp_path / "src"
    shutil.copytree(paths.WORKER_SRC, copy)
    (tmp_path / "package.json").write_text('{"type": "module"}')
    return copy


def test_the_generated_files_and_the_bundle_are_current():
    """`guruai-cache worker build --check`: what CI runs; a stale file names its fix."""
    result = CliRunner().invoke(cli.app, ["worker", "build", "--check"])
    assert result.exit_code == 0, result.output
    assert worker_build.stale() == []


def test_the_check_sees_a_stale_contract(monkeypatch):
    monkeypatch.setattr(worker_contract, "NEGATIVE_CACHE_TTL_S", 61)
    result = CliRunner().invoke(cli.app, ["worker", "build", "--check"])
    assert result.exit_code == 1
    assert "stale: worker/src/contract.js: run `guruai-cache worker build`" in result.output


def test_the_contract_module_evaluates_to_the_python_values():
    """The generated module, run by Node, holds exactly infra/worker_contract.py's values."""
    script = (
        "const m = await import('./worker/src/contract.js');"
        "console.log(JSON.stringify(Object.fromEntries(Object.entries(m).map("
        "([k, v]) => [k, v instanceof RegExp ? v.source : v]))));"
    )
    exported = node_json(script, paths.ROOT)
    expected = {name: getattr(worker_contract, name) for name in worker_contract.WORKER_EXPORTS}
    expected["ROUTES"] = api.routes()  # from the API's contract, worker/openapi.yaml
    expected["OPERATION_IDS"] = api.operation_ids()
    expected["VAR_DEFAULTS"] = var_defaults()  # the settings' defaults
    expected["API_VERSION"] = api.version()  # what /health reports
    expected["API_BASE_PATH"] = api.base_path()  # "/v1"
    expected["UNPREFIXED_HEADERS"] = api.unprefixed_headers()  # Deprecation and Sunset
    assert exported == json.loads(json.dumps(expected))  # tuples as lists
    assert exported["ACTIVE_STATUSES"] and set(exported["ACTIVE_STATUSES"]) < set(exported["SUBSCRIPTION_STATUSES"])


def test_the_contract_module_carries_the_documented_error_codes_as_a_type():
    assert api.error_codes() and all(f'"{code}"' in contract_module() for code in api.error_codes())


def typecheck(src: Path) -> subprocess.CompletedProcess[str]:
    """`tsc --noEmit` over a copy of worker/src, with the runtime's types the pinned wrangler makes."""
    subprocess.run(["bash", "scripts/worker-types.sh"], cwd=paths.ROOT, check=True, timeout=120)
    config = json.loads(re.sub(r"^\s*//.*$", "", (paths.WORKER_DIR / "tsconfig.json").read_text(), flags=re.M))
    config["include"] = [str(src / "**" / "*.js"), str(src / "env.d.ts"), str(RUNTIME_TYPES)]
    tsconfig = src.parent / "tsconfig.json"
    tsconfig.write_text(json.dumps(config))
    return subprocess.run([str(TSC), "-p", str(tsconfig)], capture_output=True, text=True, timeout=120)


def test_the_worker_type_checks(src_copy):
    result = typecheck(src_copy)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_type_check_refuses_an_undocumented_error_code_and_an_undeclared_binding(src_copy):
    auth = src_copy / "auth.js"
    auth.write_text(auth.read_text().replace('"unauthorized", "send', '"unauthorised", "send', 1))
    health = src_copy / "handlers" / "health.js"
    health.write_text(health.read_text().replace("c.env.ENVIRONMENT", "c.env.ENVIROMENT", 1))
    result = typecheck(src_copy)
    assert result.returncode != 0
    assert "'\"unauthorised\"' is not assignable to parameter of type 'ErrorCode'" in result.stdout
    assert "Property 'ENVIROMENT' does not exist on type 'Env'" in result.stdout


def test_an_operation_without_a_handler_stops_the_worker_from_loading(src_copy):
    """Each operation's handler is the export its operationId names: checked when the module
    loads (a deploy's upload fails, `wrangler dev` does not start), both ways."""
    loads = "await import('./src/routes.js'); console.log(JSON.stringify('loaded'));"
    assert node_json(loads, src_copy.parent) == "loaded"
    contract = src_copy / "contract.js"
    original = contract.read_text()

    def load_with(text: str) -> str:
        contract.write_text(text)
        result = subprocess.run(
            [NODE, "--input-type=module", "-e", loads], cwd=src_copy.parent, capture_output=True, text=True
        )
        assert result.returncode != 0
        return result.stderr

    added = '"GET /tiers": "getTiers", "DELETE /tiers": "deleteTiers"'
    assert "no handler for DELETE /tiers (deleteTiers)" in load_with(
        original.replace('"GET /tiers": "getTiers"', added)
    )
    assert "no operation for getTiers" in load_with(original.replace('"GET /tiers": "getTiers", ', ""))


def test_the_env_type_declares_every_binding_optional_where_settings_drop_it():
    declared = env_declaration()
    on = worker_plan(load_settings({}, stack=LOCAL, require_account=False), LOCAL)
    off = worker_plan(load_settings({"metrics": {"enabled": False}}, stack=LOCAL, require_account=False), LOCAL)
    for binding in on.bindings:
        assert f"  {binding.name}{'?' if binding.optional else ''}: {binding.ts_type};" in declared
    dropped = {b.name for b in on.bindings} - {b.name for b in off.bindings}
    assert dropped == {worker_contract.METRICS_BINDING}
    assert all(b.optional for b in on.bindings if b.name in dropped)
    assert any(isinstance(b, AnalyticsEngine) for b in on.bindings)  # the defaults turn every binding on


def test_every_binding_the_stack_binds_is_read_by_the_worker():
    """tsc refuses a read of an undeclared binding; this is the other way: nothing bound for nothing."""
    settings = load_settings({}, stack="dev", require_account=False)
    inputs = ScriptInputs({"KV": "kv", "DB": "db", worker_contract.CLIENTS_SECRET: "clients"})
    bound = {b["name"] for b in script_bindings(worker_plan(settings, "dev"), inputs)}
    source = sources()
    read = set(re.findall(r"\benv\.([A-Z][A-Z0-9_]*)", source))
    read |= set(re.findall(r'(?:numeric|rate|seconds)Var\((?:c\.)?env, "([A-Z][A-Z0-9_]*)"\)', source))
    assert read == bound
    assert set(var_defaults()) <= bound


def test_the_bundle_is_one_module_that_the_provider_uploads_whole():
    bundle = paths.WORKER_BUNDLE.read_text()
    assert "export {" in bundle and "import " not in bundle.split("export {")[0].split("\n", 1)[0]
    assert not re.search(r"^\s*import\s", bundle, re.M)  # nothing left to resolve at upload
    assert "__name(" not in bundle  # keep_names off: no wrapper per function on the hit path
    assert "sourceMappingURL" not in bundle  # the map is not uploaded


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


def test_the_workers_own_variables_stay_within_what_the_catalogs_parts_leave_them():
    """A catalog may use WORKER_ENV_VARS_MAX - RESERVED_ENV_VARS variables (settings refuse more);
    the Worker's own text, JSON and secret bindings must fit the rest, or a large catalog's upload
    would be refused."""
    from infra.plan.bindings import Json, PlainText, Secret

    plan = worker_plan(load_settings({}, stack=LOCAL, require_account=False), LOCAL)
    own = [b for b in plan.bindings if isinstance(b, PlainText | Json | Secret)]
    assert len(own) <= worker_contract.RESERVED_ENV_VARS
