"""One `wrangler dev` per test session (and one more for the fault-injection tests)."""

from __future__ import annotations

import uuid

import pytest
from workerd import RunningWorker, fault_config, make_project, start_worker

from infra import cli, local_dev
from infra.settings import Settings

# Small limits, so the limit tests need few requests: a tier whose daily limit is reached
# by a few concurrent requests, and a burst limit above that (so the two never mix).
SMALL_TIER = {"name": "starter", "monthlyPrice": 1, "dailyRequestLimit": 10, "features": ["basic-search"]}
BURST_LIMIT = 40


def e2e_settings() -> Settings:
    """The dev stack's settings (as `guruai-cache local` uses them), plus the small tier and burst limit."""
    base = cli.stack_file_settings(cli.LOCAL_SETTINGS_STACK).model_dump(by_alias=True, mode="json")
    base["tiers"] = [*base["tiers"], SMALL_TIER]
    base["burstRateLimit"] = {**base["burstRateLimit"], "limit": BURST_LIMIT, "period": 60}
    return Settings.model_validate(base, context={"require_account": False, "stack": "dev"})


@pytest.fixture(scope="session")
def worker(tmp_path_factory) -> RunningWorker:
    root = tmp_path_factory.mktemp("e2e")
    settings = e2e_settings()
    project = make_project(root / "project", root / "state")
    token = local_dev.prepare(settings, project, {})
    running = start_worker(project, settings, token, root / "wrangler-dev.log")
    yield running
    running.close()
    local_dev.stop(running.process)


@pytest.fixture(scope="session")
def faulty_worker(worker, tmp_path_factory) -> RunningWorker:
    """The real Worker wrapped by tests/e2e/fault_worker.js, on the same local stores."""
    root = tmp_path_factory.mktemp("e2e-faults")
    project = fault_config(worker.project, root / "project")
    running = start_worker(project, worker.settings, worker.token, root / "wrangler-dev.log")
    yield running
    running.close()
    local_dev.stop(running.process)


@pytest.fixture
def user_id() -> str:
    """A user no other test touches (so caches and counters start empty)."""
    return f"u-{uuid.uuid4().hex[:16]}"
