"""Load on the local Worker (workerd under `wrangler dev`, loopback only), with the pinned autocannon.

Prints requests/s and p50/p99 latency for: the trivial route (/health, the ceiling), a
subscription cache hit, an entitlements hit (the cached subscription plus today's count, from
the Worker's memory after the warm-up's usage POST, re-read from D1 every
entitlementsCountMaxAge seconds), a cache miss served from D1 (every request a different
seeded user), and a usage
POST; then the ratios hit/ceiling, entitlements/subscription hit and miss/hit.

  .venv/bin/python bench/worker_load.py [--duration 10] [--connections 10]

Local workerd is not Cloudflare's edge: KV and D1 are local SQLite here, so the figures
compare the Worker's paths with each other; they are not production latencies. The local
environment is prepared by infra.tools.local in a temporary folder (limits raised so the
load is never refused) and removed afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import tomlkit
from local_worker import free_port, make_project

from infra import paths
from infra.settings import Settings, stack_file_settings
from infra.tools import local, wrangler_dev
from infra.tools.render import LOCAL_SETTINGS_STACK

BENCH_TIER = {"name": "bench", "monthlyPrice": 0, "dailyRequestLimit": 1_000_000_000, "features": []}
MISS_USERS = 200_000  # more than a run can read: every miss request finds a different, uncached row
# The load's client, with every scope: a token made for this run, admitted by its digest.
BENCH_TOKEN = secrets.token_urlsafe(32)


def bench_settings() -> Settings:
    """The dev stack's settings, with limits no load run reaches, and the load's client."""
    base = stack_file_settings(LOCAL_SETTINGS_STACK).model_dump(by_alias=True, mode="json")
    base["tiers"] = [*base["tiers"], BENCH_TIER]
    base["burstRateLimit"] = {**base["burstRateLimit"], "limit": 1_000_000_000}
    base["clientRateLimit"] = {**base.get("clientRateLimit", {}), "limit": 1_000_000_000}
    base["clients"] = {**base.get("clients", {}), "bench": hashlib.sha256(BENCH_TOKEN.encode()).hexdigest()}
    return Settings.model_validate(base, context={"require_account": False, "stack": "dev"})


def seed_users(project: local.LocalProject) -> None:
    sql = f"""
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {MISS_USERS - 1})
    INSERT INTO subscriptions (user_id, tier, status, created_at, updated_at)
    SELECT 'miss-' || i, 'pro', 'active', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' FROM n;
    INSERT INTO subscriptions (user_id, tier, status, created_at, updated_at) VALUES
      ('hit', 'pro', 'active', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
      ('usage', 'bench', 'active', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
    """
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as file:
        file.write(sql)
    try:
        local.run_wrangler(
            project,
            ["d1", "execute", "DB", "--file", file.name, "--local", "--persist-to", str(project.persist_to)],
            "seeding the benchmark users",
        )
    finally:
        Path(file.name).unlink()


def api_root(url: str) -> str:
    """Where the API's routes are on the Worker at `url`: under /v1 (API 3), or at the root for a
    Worker built before it (a bundle of an earlier revision, in an A/B run). Not the unprefixed
    paths on a v1 Worker: those answer through legacy.js, which is not the hit path measured."""
    try:
        with urllib.request.urlopen(f"{url}/v1/health") as response:
            return f"{url}/v1" if response.status == 200 else url
    except urllib.error.HTTPError:
        return url


def warm(url: str, path: str, token: str, method: str = "GET") -> None:
    request = urllib.request.Request(f"{url}{path}", method=method, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 200, path


def run_scenario(spec: dict) -> dict:
    result = subprocess.run(
        ["node", str(ROOT / "bench" / "autocannon_run.mjs"), json.dumps(spec)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def fresh_local_worker(
    settings: Settings,
    seed: Callable[[local.LocalProject], None],
    *,
    main: Path | None = None,
    worker_source: Path | None = None,
) -> Iterator[tuple[str, str, local.LocalProject]]:
    """A Worker on workerd with its own migrated, seeded state in a temporary folder: (url, token, project).

    Prepared by the same code as `guruai-cache local`; stopped and deleted on exit. `main`: a
    module served in the Worker's place (a wrapper that imports it); `worker_source`: an edited
    copy of the bundle (worker/dist/worker.js) served instead of the repository's.
    """
    folder = Path(tempfile.mkdtemp(prefix="worker-bench-"))
    process = None
    try:
        project = make_project(folder, folder / "state", settings)
        if worker_source is not None:  # the project's own worker/: the repository's, with this bundle
            (folder / "worker").unlink()
            shutil.copytree(paths.WORKER_DIR, folder / "worker")
            shutil.copyfile(worker_source, folder / paths.relative(paths.WORKER_BUNDLE))
        print("preparing a fresh local Worker (migrations, seeds)...", file=sys.stderr)
        local.prepare(settings, project)
        seed(project)
        if main is not None:
            document = tomlkit.parse(project.config.read_text())
            document["main"] = str(main.resolve())
            document["no_bundle"] = False  # the wrapper imports the bundle: wrangler bundles the two
            project.config.write_text(tomlkit.dumps(document))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = (folder / "wrangler-dev.log").open("w")
        # wrangler's own per-request log lines go through Node: keep them out of the Worker's figures.
        process = wrangler_dev.start(
            project.config, project.persist_to, port, output=log, extra_args=("--log-level", "warn")
        )
        wrangler_dev.wait_until_ready(url, process)
        yield url, BENCH_TOKEN, project
    finally:
        if process is not None:
            wrangler_dev.stop(process)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario (default 10)")
    parser.add_argument("--connections", type=int, default=10, help="concurrent connections (default 10)")
    args = parser.parse_args()

    with fresh_local_worker(bench_settings(), seed_users) as (root, token, _project):
        url = api_root(root)
        prefix = url.removeprefix(root)
        warm(url, "/subscriptions/hit", token)
        warm(url, "/usage/hit", token, "POST")  # today's count exists, as for a user the app counts
        warm(url, "/entitlements/hit", token)
        warm(url, "/subscriptions/usage", token)

        auth = {"Authorization": f"Bearer {token}"}
        common = {"url": url, "duration": args.duration, "connections": args.connections}
        scenarios = {
            "ceiling: GET /health": {**common, "method": "GET", "headers": {}, "url": f"{url}/health"},
            "cache hit: GET /subscriptions/:id": {**common, "method": "GET", "headers": auth, "url": f"{url}/subscriptions/hit"},
            "entitlements hit: GET /entitlements/:id": {**common, "method": "GET", "headers": auth, "url": f"{url}/entitlements/hit"},
            "miss from D1: GET /subscriptions/:id": {
                **common, "method": "GET", "headers": auth, "pathTemplate": prefix + "/subscriptions/miss-{n}",
            },
            "usage: POST /usage/:id": {**common, "method": "POST", "headers": auth, "url": f"{url}/usage/usage"},
        }  # fmt: skip
        results = {}
        for name, spec in scenarios.items():
            print(f"running {name} for {args.duration} s...", file=sys.stderr)
            results[name] = run_scenario(spec)
            if results[name]["distinct_paths"] and results[name]["distinct_paths"] > MISS_USERS:
                print(f"warning: {name} went past the {MISS_USERS} seeded users", file=sys.stderr)

    print(f"\nlocal workerd (wrangler dev), {args.connections} connections, {args.duration} s per scenario\n")
    print(f"| {'scenario':<42} | {'req/s':>8} | {'p50 ms':>6} | {'p99 ms':>6} | {'non-2xx':>7} | {'errors':>6} |")
    print(f"| {'-' * 42} | {'-' * 8}:| {'-' * 6}:| {'-' * 6}:| {'-' * 7}:| {'-' * 6}:|")
    for name, r in results.items():
        print(
            f"| {name:<42} | {r['requests_per_s']:>8.0f} | {r['p50_ms']:>6} | {r['p99_ms']:>6} | {r['non2xx']:>7} | {r['errors']:>6} |"
        )
    rate = {name.split(":")[0]: r["requests_per_s"] for name, r in results.items()}
    print(f"\nhit / ceiling (req/s): {rate['cache hit'] / rate['ceiling']:.2f}")
    print(f"entitlements / subscription hit (req/s): {rate['entitlements hit'] / rate['cache hit']:.2f}")
    print(f"miss / hit    (req/s): {rate['miss from D1'] / rate['cache hit']:.2f}")


if __name__ == "__main__":
    main()
