"""A catalog of 1,000 flags and 50 tiers on real workerd: over one variable's 5 KB, it is bound in
parts (CATALOG names them, CATALOG_PART_n hold its text), as `pulumi up` binds it, and the Worker
serves it whole. One Worker of its own, on the tests' own settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_worker import RunningWorker, e2e_settings, own_worker
from test_worker_api import subscribe

from infra.names import LOCAL
from infra.plan.worker import worker_plan
from infra.settings import Settings

pytestmark = pytest.mark.e2e

FLAGS = 1000
EXTRA_TIERS = 50


def large_settings() -> Settings:
    data = e2e_settings().model_dump(by_alias=True, mode="json")
    data["tiers"] += [
        {"name": f"tier-{n}", "monthlyPrice": n, "dailyRequestLimit": 100 + n, "features": ["basic-search"]}
        for n in range(EXTRA_TIERS)
    ]
    data["featureFlags"] = {
        f"flag-{n:04d}": {"enabled": True, "tiers": ["pro" if n % 2 else "tier-7"], "description": "d" * 30}
        for n in range(FLAGS)
    }
    return Settings.model_validate(data, context={"require_account": False, "stack": "dev"})


@pytest.fixture(scope="module")
def large_worker(tmp_path_factory) -> Iterator[RunningWorker]:
    with own_worker(tmp_path_factory.mktemp("e2e-large-catalog"), large_settings()) as running:
        yield running


def test_the_catalog_is_bound_in_parts(large_worker):
    names = [b.name for b in worker_plan(large_worker.settings, LOCAL).bindings]
    assert "CATALOG_PART_2" in names  # more than one variable's worth


def test_the_worker_serves_the_whole_catalog_from_its_parts(large_worker, user_id):
    version = worker_plan(large_worker.settings, LOCAL).catalog["version"]
    assert large_worker.get("/health", token=None).json()["catalogVersion"] == version
    tiers = large_worker.get("/tiers").json()
    assert len(tiers) == len(large_worker.settings.tiers) and tiers["tier-49"]["dailyRequestLimit"] == 149
    subscribe(large_worker, user_id, "pro")
    features = large_worker.get(f"/entitlements/{user_id}").json()["features"]
    assert len([f for f in features if f.startswith("flag-")]) == FLAGS // 2  # the odd ones cover pro
    subscribe(large_worker, user_id, "tier-7")
    assert "flag-0000" in large_worker.get(f"/entitlements/{user_id}").json()["features"]
