"""A re-deploy on real workerd (locally: re-render, re-prepare): the catalog changes for the very
next request, a removed tier's subscriptions fall back, a removed client stops working, and a
rollback restores everything. One Worker of its own, so no other test sees the changes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from local_worker import CLIENT_TOKENS, RunningWorker, e2e_settings, make_project, sha256, start_worker
from test_worker_api import assert_error, subscribe

from infra.plan import wrangler_toml
from infra.plan.worker import worker_plan
from infra.settings import Settings
from infra.tools import local, wrangler_dev
from infra.tools.render import write_atomically

pytestmark = pytest.mark.e2e

GONE_TOKEN = "e2e-app-gone-" + "g" * 40
RELOAD_TIMEOUT_S = 60.0


def version_1() -> Settings:
    data = e2e_settings().model_dump(by_alias=True, mode="json")
    data["clients"]["app-gone"] = {"scopes": ["read"], "tokenSha256": sha256(GONE_TOKEN)}
    return Settings.model_validate(data, context={"require_account": False, "stack": "dev"})


def version_2() -> Settings:
    """pro's limit and features change, premium is removed (with its dev user), app-gone is removed."""
    data = version_1().model_dump(by_alias=True, mode="json")
    pro = next(t for t in data["tiers"] if t["name"] == "pro")
    pro["dailyRequestLimit"], pro["features"] = 1234, [*pro["features"], "exports"]
    data["tiers"] = [t for t in data["tiers"] if t["name"] != "premium"]
    data["devSubscriptions"] = [s for s in data["devSubscriptions"] if s["tier"] != "premium"]
    data["featureFlags"]["ai-answers-v2"]["tiers"] = ["pro"]
    del data["clients"]["app-gone"]
    return Settings.model_validate(data, context={"require_account": False, "stack": "dev"})


@dataclass
class Deployment:
    worker: RunningWorker
    root: Path

    def deploy(self, settings: Settings) -> None:
        """What a developer does after a settings change: `wrangler render`, then `guruai-cache local`'s
        preparation; the running `wrangler dev` reloads the config, and serves the new catalog once
        /health names it."""
        project = self.worker.project
        write_atomically(project.config, wrangler_toml.render(settings, {}))
        # The reload this starts re-reads .dev.vars while `prepare` rewrites it: it gets the old
        # file or the new one, whole (local_clients.write_private), never one cut short.
        local.prepare(settings, project)
        self.worker.settings = settings
        expected = worker_plan(settings, "local").catalog["version"]
        deadline = time.monotonic() + RELOAD_TIMEOUT_S
        while self._serving_version() != expected:
            assert time.monotonic() < deadline, "wrangler dev did not reload the new config"
            time.sleep(0.2)

    def _serving_version(self) -> str | None:
        """The catalog version /health names; None while wrangler dev restarts workerd (refused)."""
        try:
            version: str = self.worker.get("/health", token=None).json()["catalogVersion"]
            return version
        except httpx.TransportError:
            return None

    def restart(self) -> None:
        """`guruai-cache local` run again: wrangler dev reads .dev.vars (the clients) when it starts."""
        old = self.worker
        old.close()
        wrangler_dev.stop(old.process)
        self.worker = start_worker(old.project, old.settings, old.local_tokens, self.root / "wrangler-dev-2.log")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("e2e-deploy")
    settings = version_1()
    project = make_project(root / "project", root / "state", settings)
    tokens = local.prepare(settings, project)
    running = Deployment(start_worker(project, settings, tokens, root / "wrangler-dev.log"), root)
    yield running
    running.worker.close()
    wrangler_dev.stop(running.worker.process)


def test_a_redeploy_changes_tiers_flags_and_clients_and_a_rollback_restores_them(deployment):
    w = deployment.worker
    subscribe(w, "on-pro", tier="pro")
    subscribe(w, "on-premium", tier="premium")
    assert w.get("/entitlements/on-pro").json()["limit"] == 1000
    w.get("/entitlements/on-premium")
    assert w.get("/entitlements/on-premium").headers["X-Cache"] == "HIT"  # cached before the deploy
    assert w.get("/tiers", token=GONE_TOKEN).status_code == 200

    deployment.deploy(version_2())
    # The very next requests see the new catalog: no KV cache to expire, no edge TTL to wait out.
    tiers = w.get("/tiers").json()
    assert tiers["pro"]["dailyRequestLimit"] == 1234 and "premium" not in tiers
    pro = w.get("/entitlements/on-pro").json()
    assert pro["limit"] == 1234 and "exports" in pro["features"]
    # A subscription on the removed tier is served with the fallback tier's limit and features.
    premium = w.get("/entitlements/on-premium")
    assert premium.headers["X-Cache"] == "HIT"  # the cached record, read through the new catalog
    fallback = version_2().effective_fallback_tier
    assert (premium.json()["tier"], premium.json()["effectiveTier"]) == ("premium", fallback)
    assert "ai-answers-v2" not in premium.json()["features"]
    used = w.post("/usage/on-premium")
    assert used.status_code == 200 and used.json()["effectiveTier"] == fallback
    assert_error(w.put("/subscriptions/someone-new", {"tier": "premium"}), 400, "unknown_tier")

    deployment.restart()  # locally, .dev.vars (the clients) is read when wrangler dev starts
    w = deployment.worker
    assert_error(w.get("/tiers", token=GONE_TOKEN), 401, "unauthorized")  # the removed client
    assert w.get("/tiers", token=CLIENT_TOKENS["app-a"]).status_code == 200  # the others keep working

    deployment.deploy(version_1())  # the rollback: the old catalog, as atomically
    assert w.get("/entitlements/on-premium").json()["effectiveTier"] == "premium"
    assert w.get("/entitlements/on-pro").json()["limit"] == 1000
