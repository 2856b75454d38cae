"""A sustained mixed load on a fresh local Worker (workerd under `wrangler dev`, loopback only).

Every request picks a route at random: /health, /tiers, subscription GETs that hit the
cache, miss it (each a different seeded user, read from D1), or find no subscription
(negatively cached), PUTs, and usage POSTs for 500 users on a tier no run exhausts plus 20
users on a 20-a-day tier (so the daily limit's 429 is in the mix). It runs until
`--duration` seconds or `--max-requests` requests, whichever comes first, then sends only
GET /health for 2 s (the "drain" row) so that every usage POST is answered, and prints:

- requests served, requests/s, p50/p99/max latency (of every response, not only the 2xx
  autocannon's own figures count), connection errors and timeouts;
- the responses by route and status (the goal: no 5xx at all), with each route's p50/p99;
- the usage accounting: D1's usage counts, read with `wrangler d1 execute --local --json`
  after the run, against the usage POSTs answered 200, in total and user by user (no count
  lost or doubled), and no small-tier user over its limit.

  .venv/bin/python bench/reliability_load.py [--duration 60] [--connections 10] [--max-requests 2000000]

Exits 1 when a 5xx, a connection error or an accounting difference was seen. The local
environment is prepared by infra.tools.local in a temporary folder (removed afterwards); the
burst limit is raised so that it never refuses the load (the e2e tests cover it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from worker_load import BENCH_TIER, ROOT, api_root, bench_settings, fresh_local_worker, warm

from infra.settings import Settings
from infra.tools import local

SMALL_TIER = {"name": "small", "monthlyPrice": 0, "dailyRequestLimit": 20, "features": []}
USERS = {"hot": 20, "absent": 1000, "put": 200, "usage": 500, "small": 20}
MISS_USERS = 300_000  # more than a run can read: every miss request finds a different, uncached row
WEIGHTS = {
    "health": 10,
    "tiers": 10,
    "subscription_hit": 30,
    "subscription_miss": 10,
    "subscription_absent": 5,
    "subscription_put": 5,
    "usage": 25,
    "usage_small_tier": 5,
}


def settings() -> Settings:
    base = bench_settings().model_dump(by_alias=True, mode="json")
    base["tiers"] = [*base["tiers"], SMALL_TIER]
    return Settings.model_validate(base, context={"require_account": False, "stack": "dev"})


def seed_users(project: local.LocalProject) -> None:
    def users(prefix: str, count: int, tier: str) -> str:
        return f"""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {count - 1})
        INSERT INTO subscriptions (user_id, tier, status, created_at, updated_at)
        SELECT '{prefix}-' || i, '{tier}', 'active', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' FROM n;"""

    sql = "".join(
        [
            users("miss", MISS_USERS, "pro"),
            users("hot", USERS["hot"], "pro"),
            users("usage", USERS["usage"], BENCH_TIER["name"]),
            users("small", USERS["small"], SMALL_TIER["name"]),
        ]
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as file:
        file.write(sql)
    try:
        local.run_wrangler(
            project, ["d1", "execute", "DB", "--file", file.name, *local(project)], "seeding the load's users"
        )
    finally:
        Path(file.name).unlink()


def local_stores(project: local.LocalProject) -> list[str]:
    return ["--local", "--persist-to", str(project.persist_to)]


def d1_usage(project: local.LocalProject) -> dict[str, int]:
    result = local.run_wrangler(
        project,
        ["d1", "execute", "DB", "--command", "SELECT user_id, SUM(count) AS count FROM usage GROUP BY user_id", "--json", *local_stores(project)],
        "reading the usage counts",
    )  # fmt: skip
    return {row["user_id"]: row["count"] for row in json.loads(result.stdout)[0]["results"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=60, help="seconds (default 60)")
    parser.add_argument("--connections", type=int, default=10, help="concurrent connections (default 10)")
    parser.add_argument(
        "--max-requests", type=int, default=2_000_000, help="stop after this many requests (default 2,000,000)"
    )
    args = parser.parse_args()

    with fresh_local_worker(settings(), seed_users) as (root, token, project):
        url = api_root(root)
        for n in range(USERS["hot"]):
            warm(url, f"/subscriptions/hot-{n}", token)  # so that these GETs are hits from the start
        spec = {
            "url": root, "prefix": url.removeprefix(root), "token": token, "duration": args.duration, "connections": args.connections,
            "maxRequests": max(args.max_requests, args.connections), "weights": WEIGHTS, "users": USERS,
        }  # fmt: skip
        print(f"mixed load for {args.duration} s (at most {args.max_requests} requests)...", file=sys.stderr)
        run = subprocess.run(
            ["node", str(ROOT / "bench" / "autocannon_mixed.mjs"), json.dumps(spec)],
            cwd=ROOT, capture_output=True, text=True, check=True, timeout=args.duration + 120,
        )  # fmt: skip
        r = json.loads(run.stdout.strip().splitlines()[-1])
        counts = d1_usage(project)

    statuses = sorted({int(s) for tally in r["by_route"].values() for s in tally})
    load = {kind: tally for kind, tally in r["by_route"].items() if kind != "drain"}
    served = sum(sum(tally.values()) for tally in load.values())
    server_errors = sum(n for tally in r["by_route"].values() for s, n in tally.items() if int(s) >= 500)
    lat = r["latency"]
    print(
        f"\nlocal workerd (wrangler dev), {args.connections} connections, {r['load_s']:.1f} s of mixed load, then 2 s of drain\n"
    )
    print(f"requests served: {served}   ({served / r['load_s']:.0f} req/s)")
    print(f"latency (every status): p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, max {lat['max_ms']:.1f} ms")
    print(f"connection errors: {r['errors']}, timeouts: {r['timeouts']}, 5xx: {server_errors}\n")
    print("| route | requests | " + " | ".join(str(s) for s in statuses) + " | p50 ms | p99 ms |")
    print("| --- | ---: | " + " | ".join("---:" for _ in statuses) + " | ---: | ---: |")
    for kind in [*WEIGHTS, "drain"]:
        tally = r["by_route"].get(kind, {})
        cells = " | ".join(str(tally.get(str(s), 0)) for s in statuses)
        route_lat = r["latency_by_route"].get(kind)
        times = f"{route_lat['p50_ms']:.1f} | {route_lat['p99_ms']:.1f}" if route_lat else "- | -"
        print(f"| {kind} | {sum(tally.values())} | {cells} | {times} |")

    accepted: dict[str, int] = r["accepted"]
    differing = sorted(u for u in set(accepted) | set(counts) if accepted.get(u, 0) != counts.get(u, 0))
    over = [u for u, n in counts.items() if u.startswith("small-") and n > SMALL_TIER["dailyRequestLimit"]]
    unanswered = r["usage_sent"] - r["usage_answered"]
    print("\nusage accounting (D1 after the run vs usage POSTs answered 200)")
    print(
        f"| POSTs sent | unanswered | accepted (200) | D1 sum of counts | users | users differing | small-tier users over {SMALL_TIER['dailyRequestLimit']} |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {r['usage_sent']} | {unanswered} | {sum(accepted.values())} | {sum(counts.values())} | {len(counts)} | {len(differing)} | {len(over)} |"
    )
    if differing:
        print(
            "differing: " + ", ".join(f"{u} (200s {accepted.get(u, 0)}, D1 {counts.get(u, 0)})" for u in differing[:10])
        )
    if r["misses_sent"] > MISS_USERS:
        print(f"note: the miss requests went past the {MISS_USERS} seeded users (the rest were 404s)", file=sys.stderr)
    return 1 if server_errors or r["errors"] or r["timeouts"] or unanswered or differing or over else 0


if __name__ == "__main__":
    sys.exit(main())
