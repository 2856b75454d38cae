"""One `wrangler dev` per test session (and one more for the fault-injection tests)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from local_worker import CLIENT_LIMIT_SMALL, RunningWorker, e2e_settings, fault_config, make_project, start_worker

from infra.tools import local, wrangler_dev


def recording_worker(tmp_path_factory, folder: str, settings) -> Iterator[RunningWorker]:
    """The real Worker behind tests/e2e/recording_worker.js (which records its data points), on
    stores of its own, for a session."""
    root = tmp_path_factory.mktemp(folder)
    project = make_project(root / "project", root / "state", settings)
    tokens = local.prepare(settings, project)
    running = start_worker(project, settings, tokens, root / "wrangler-dev.log", main="recording_worker.js")
    yield running
    running.close()
    wrangler_dev.stop(running.process)


@pytest.fixture(scope="session")
def worker(tmp_path_factory) -> Iterator[RunningWorker]:
    yield from recording_worker(tmp_path_factory, "e2e", e2e_settings())


@pytest.fixture(scope="session")
def limited_worker(tmp_path_factory) -> Iterator[RunningWorker]:
    """The Worker with a small client limit."""
    yield from recording_worker(tmp_path_factory, "e2e-limited", e2e_settings(client_limit=CLIENT_LIMIT_SMALL))


@pytest.fixture(scope="session")
def faulty_worker(worker, tmp_path_factory) -> RunningWorker:
    """The real Worker wrapped by tests/e2e/fault_worker.js, on the same local stores."""
    root = tmp_path_factory.mktemp("e2e-faults")
    project = fault_config(worker.project, root / "project")
    running = start_worker(project, worker.settings, worker.local_tokens, root / "wrangler-dev.log")
    yield running
    running.close()
    wrangler_dev.stop(running.process)


@pytest.fixture
def user_id() -> str:
    """A user no other test touches (so caches and counters start empty)."""
    return f"u-{uuid.uuid4().hex[:16]}"
