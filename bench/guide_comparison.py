"""The setup guide's Worker and this project's Worker side by side on local workerd, with wrk.

Both run under the pinned `wrangler dev` at once (an idle one costs nothing); each round runs
every scenario for the same time, one after the other, the order reversed every other round so
drift (a busy neighbour, a warming JIT) falls on both alike. Printed per scenario: the median
req/s over the rounds, its range and p99 latency; then each ratio of this Worker's route to the
guide's, taken per round (paired) and its median, against the goals of issue 11:

  /health                                >= 0.95 x the guide's /trivial
  a subscription cache hit               >= 0.90 x the guide's cache hit (/?user=u1)
  an unknown user's answer (negative hit) >= 0.90 x the guide's cache hit
  an entitlements hit                    >= 0.90 x the guide's cache hit

and what authenticating costs: /tiers (a bearer token hashed and compared with every client's
digest, then the catalog from memory) against /health (no token), and the same computation
timed in Node's V8 (inside workerd the clock stands still between I/O).

  .venv/bin/python bench/guide_comparison.py [--rounds 5] [--duration 5] [--connections 16]

Needs wrk (`sudo apt-get install -y wrk` on Debian or Ubuntu, `brew install wrk` on macOS): one
event-loop thread of it keeps 16 connections busy with far less CPU than the Node client the
other benchmarks use, so on 2 cores the client is not what limits. The guide's Worker comes from
bench/guide-worker/ (copied to a temporary folder, migrated there); this project's is prepared as
`guruai-cache local` prepares it, with the dev stack's settings (so the default log sampling).
Local workerd is not Cloudflare's edge: KV and D1 are local SQLite, and wrangler forwards each
log line through Node; compare the ratios, not the figures, across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from local_worker import free_port
from worker_load import api_root, bench_settings, fresh_local_worker

from infra.tools import local, wrangler_dev
from infra.tools.pinned_wrangler import wrangler_env, wrangler_path

GUIDE_WORKER = ROOT / "bench" / "guide-worker"
QUIET = ("--log-level", "warn")  # wrangler's own per-request lines go through Node: keep them out of both


@dataclass(frozen=True)
class Scenario:
    name: str
    worker: str  # "guide" or "ours"
    path: str
    authenticated: bool = False


SCENARIOS = (
    Scenario("guide: /trivial (ceiling)", "guide", "/trivial"),
    Scenario("ours: GET /health", "ours", "/health"),
    Scenario("guide: /?user=u1 (cache hit)", "guide", "/?user=u1"),
    Scenario("ours: GET /subscriptions/:id (cache hit)", "ours", "/subscriptions/hit", True),
    Scenario("ours: unknown user (negative-cache hit, 404)", "ours", "/subscriptions/nobody", True),
    Scenario("ours: GET /entitlements/:id (hit)", "ours", "/entitlements/hit", True),
    Scenario("guide: /?user=nobody (a D1 miss every time)", "guide", "/?user=nobody"),
    Scenario("ours: GET /tiers (token, no storage)", "ours", "/tiers", True),
)
# (this Worker's scenario, the guide's, the goal for the ratio)
GOALS = (
    ("ours: GET /health", "guide: /trivial (ceiling)", 0.95),
    ("ours: GET /subscriptions/:id (cache hit)", "guide: /?user=u1 (cache hit)", 0.90),
    ("ours: unknown user (negative-cache hit, 404)", "guide: /?user=u1 (cache hit)", 0.90),
    ("ours: GET /entitlements/:id (hit)", "guide: /?user=u1 (cache hit)", 0.90),
)


@dataclass(frozen=True)
class Run:
    requests_per_s: float
    p99_ms: float
    socket_errors: int


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        sys.exit(
            "wrk is not installed: `sudo apt-get install -y wrk` (Debian, Ubuntu) or `brew install wrk` (macOS), "
            "then run this again"
        )
    return found


def wrk(binary: str, url: str, duration: int, connections: int, headers: dict[str, str]) -> Run:
    command = [binary, "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if rate is None or p99 is None:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return Run(float(rate.group(1)), float(p99.group(1)) * scale, sum(map(int, errors.groups())) if errors else 0)


def get(url: str, token: str | None = None, method: str = "GET") -> int:
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@contextmanager
def guide_worker() -> Iterator[str]:
    """The guide's Worker from bench/guide-worker, migrated and served from a temporary copy."""
    folder = Path(tempfile.mkdtemp(prefix="guide-bench-"))
    process = None
    try:
        project = folder / "guide-worker"
        shutil.copytree(GUIDE_WORKER, project)
        state = folder / "state"
        config = project / "wrangler.toml"
        print("preparing the guide's Worker (its migration)...", file=sys.stderr)
        subprocess.run(
            [wrangler_path(), "d1", "migrations", "apply", "DB", "--local", "--config", str(config),
             "--persist-to", str(state)],
            cwd=project, env=wrangler_env(), capture_output=True, text=True, check=True,
        )  # fmt: skip
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = (folder / "wrangler-dev.log").open("w")
        process = wrangler_dev.start(config, state, port, output=log, extra_args=QUIET)
        wrangler_dev.wait_until_ready(url, process)  # its "/health" is a lookup of u1: a 200 all the same
        yield url
    finally:
        if process is not None:
            wrangler_dev.stop(process)
        shutil.rmtree(folder, ignore_errors=True)


def seed_hit_user(project: local.LocalProject) -> None:
    local.run_wrangler(
        project,
        ["d1", "execute", "DB", "--local", "--persist-to", str(project.persist_to), "--command",
         "INSERT INTO subscriptions (user_id, tier, status, created_at, updated_at) "
         "VALUES ('hit', 'pro', 'active', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"],
        "seeding the benchmark user",
    )  # fmt: skip


def warm(guide: str, ours: str, token: str) -> None:
    """Fill every cache each scenario means to hit: KV entries, the negative entry, today's count in memory."""
    assert get(f"{guide}/?user=u1") == 200 and get(f"{guide}/trivial") == 200
    assert get(f"{ours}/subscriptions/hit", token) == 200 and get(f"{ours}/subscriptions/nobody", token) == 404
    assert get(f"{ours}/usage/hit", token, "POST") == 200 and get(f"{ours}/entitlements/hit", token) == 200
    time.sleep(1)  # let the KV writes land


def node_digest_cost(clients: int) -> float | None:
    """Microseconds for one SHA-256 of a 43-character token and `clients` constant-time comparisons,
    in Node's V8 and WebCrypto: what the Worker's authentication computes, measured where a clock
    runs (inside workerd the clock stands still between I/O)."""
    script = f"""
const {{ webcrypto, timingSafeEqual }} = require("node:crypto");
const token = new TextEncoder().encode("x".repeat(43));
const digests = Array.from({{ length: {clients} }}, () => new Uint8Array(32));
(async () => {{
  for (let i = 0; i < 2000; i++) await webcrypto.subtle.digest("SHA-256", token);
  const n = 20000, start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {{
    const d = new Uint8Array(await webcrypto.subtle.digest("SHA-256", token));
    for (const other of digests) timingSafeEqual(d, other);
  }}
  console.log(Number(process.hrtime.bigint() - start) / n / 1000);
}})();
"""
    try:
        result = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True, timeout=120)
        return float(result.stdout.strip())
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def clients_bound(project: local.LocalProject) -> int:
    """How many clients the Worker's CLIENTS secret holds (.dev.vars): one comparison each per request."""
    for line in project.dev_vars.read_text().splitlines():
        name, _, value = line.partition("=")
        if name.strip() == "CLIENTS":
            return len(json.loads(value.strip().strip("'")))  # written single-quoted: CLIENTS='{...}'
    raise RuntimeError(f"{project.dev_vars} has no CLIENTS line")


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every scenario (default 5)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per scenario and round (default 5)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument(
        "--pause",
        type=float,
        default=1.0,
        help="seconds between scenarios, for the stores' writes to settle (default 1)",
    )
    args = parser.parse_args()
    binary = require_wrk()
    before = load_average()
    settings = bench_settings()

    results: dict[str, list[Run]] = {s.name: [] for s in SCENARIOS}
    with ExitStack() as stack:
        guide = stack.enter_context(guide_worker())
        ours_root, token, project = stack.enter_context(fresh_local_worker(settings, seed_hit_user))
        ours = api_root(ours_root)  # /v1 on a Worker that has it: the hit path, not the legacy one
        clients = clients_bound(project)
        warm(guide, ours, token)
        base = {"guide": guide, "ours": ours}
        for round_number in range(args.rounds):
            order = SCENARIOS if round_number % 2 == 0 else tuple(reversed(SCENARIOS))
            print(f"round {round_number + 1}/{args.rounds} ({len(order)} x {args.duration} s)...", file=sys.stderr)
            for scenario in order:
                headers = {"Authorization": f"Bearer {token}"} if scenario.authenticated else {}
                url = base[scenario.worker] + scenario.path
                results[scenario.name].append(wrk(binary, url, args.duration, args.connections, headers))
                time.sleep(args.pause)  # the guide's miss writes KV on every request: let it land first
    after = load_average()
    report(results, args, clients, before, after)


def report(results: dict[str, list[Run]], args: argparse.Namespace, clients: int, before: str, after: str) -> None:
    print(
        f"\nlocal workerd (wrangler dev), wrk -t1 -c{args.connections}, {args.rounds} rounds x {args.duration} s "
        f"per scenario, alternating; load average before {before}, after {after}\n"
    )
    print(f"| {'scenario':<46} | {'req/s (median)':>14} | {'range':>13} | {'p99 ms':>6} | {'errors':>6} |")
    print(f"| {'-' * 46} | {'-' * 14}:| {'-' * 13}:| {'-' * 6}:| {'-' * 6}:|")
    for name, runs in results.items():
        rates = [run.requests_per_s for run in runs]
        span = f"{min(rates):,.0f}-{max(rates):,.0f}"
        p99 = statistics.median(run.p99_ms for run in runs)
        errors = sum(run.socket_errors for run in runs)
        print(f"| {name:<46} | {statistics.median(rates):>14,.0f} | {span:>13} | {p99:>6.1f} | {errors:>6} |")

    def paired(ours: str, guide: str) -> list[float]:
        return [o.requests_per_s / g.requests_per_s for o, g in zip(results[ours], results[guide], strict=True)]

    print(f"\n| {'ratio (per round, median)':<80} | {'ratio':>5} | {'range':>9} | {'goal':>5} | {'met':>3} |")
    print(f"| {'-' * 80} | {'-' * 5}:| {'-' * 9}:| {'-' * 5}:| {'-' * 3} |")
    for ours, guide, goal in GOALS:
        ratios = paired(ours, guide)
        median = statistics.median(ratios)
        label = f"{ours.removeprefix('ours: ')} / {guide.removeprefix('guide: ')}"
        met = "yes" if median >= goal else "no"
        print(f"| {label:<80} | {median:>5.2f} | {min(ratios):.2f}-{max(ratios):.2f} | {goal:>5.2f} | {met:>3} |")

    auth = paired("ours: GET /tiers (token, no storage)", "ours: GET /health")
    print(
        f"\nauthenticated without storage (/tiers) / /health: {statistics.median(auth):.2f} "
        f"({min(auth):.2f}-{max(auth):.2f}); the difference is the token's SHA-256 and {clients} constant-time "
        "comparisons, the scope check and the tier config's JSON"
    )
    node = node_digest_cost(clients)
    if node is not None:
        print(f"the same computation in Node's V8 (SHA-256 of the token + {clients} timingSafeEqual): {node:.1f} us")


if __name__ == "__main__":
    main()
