"""Where a cache hit's time goes: the setup guide's hit and this Worker's, step by step, in one process.

bench/guide_comparison.py compares the two Workers, each in its own `wrangler dev`. This script
serves both hits from one Worker process (bench/hit_path_steps.js around the real Worker), so
only the code differs, with steps in between, each adding one thing the Worker's hit does:

  guide          the guide's hit: one KV read, the value as JSON
  answer         + a request id and the four headers every answer carries
  authenticated  + SHA-256 of the bearer token, compared in constant time with each client's
  data-point     + the Analytics Engine data point
  worker         the Worker's own GET /subscriptions/:id (+ routing, scope and user-id checks,
                 counting KV and D1 operations, the outcome, the log sampling decision)

wrk (one thread, 16 connections) runs every step for the same time per round, the order
reversed every other round; printed: the median req/s, and each step's ratio to `guide`,
taken per round, then the median.

  .venv/bin/python bench/hit_path_steps.py [--rounds 10] [--duration 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from guide_comparison import get, load_average, require_wrk, wrk
from worker_load import BENCH_TOKEN, api_root, bench_settings, fresh_local_worker, seed_users

STEPS = {
    "guide": "/steps/guide",
    "answer": "/steps/answer",
    "authenticated": "/steps/authenticated",
    "data-point": "/steps/data-point",
    "worker": "/subscriptions/hit",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10, help="rounds of every step (default 10)")
    parser.add_argument("--duration", type=int, default=3, help="seconds per step and round (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    args = parser.parse_args()
    binary = require_wrk()
    before = load_average()

    headers = {"Authorization": f"Bearer {BENCH_TOKEN}"}
    runs: dict[str, list[float]] = {name: [] for name in STEPS}
    with fresh_local_worker(bench_settings(), seed_users, main=ROOT / "bench" / "hit_path_steps.js") as (url, _, _):
        STEPS["worker"] = api_root(url).removeprefix(url) + STEPS["worker"]  # under /v1, where the Worker has it
        assert get(f"{url}{STEPS['worker']}", BENCH_TOKEN) == 200  # fills the KV entry every step reads
        time.sleep(1)
        assert all(get(url + path, BENCH_TOKEN) == 200 for path in STEPS.values())
        for round_number in range(args.rounds):
            print(f"round {round_number + 1}/{args.rounds}...", file=sys.stderr)
            order = list(STEPS) if round_number % 2 == 0 else list(reversed(STEPS))
            for name in order:
                runs[name].append(
                    wrk(binary, url + STEPS[name], args.duration, args.connections, headers).requests_per_s
                )

    print(
        f"\none local Worker process (wrangler dev), wrk -t1 -c{args.connections}, {args.rounds} rounds x "
        f"{args.duration} s per step, alternating; load average before {before}, after {load_average()}\n"
    )
    print(f"| {'step':<14} | {'req/s (median)':>14} | {'/ guide (median)':>16} | {'range':>9} |")
    print(f"| {'-' * 14} | {'-' * 13}: | {'-' * 15}: | {'-' * 8}: |")
    for name in STEPS:
        ratios = [ours / guide for ours, guide in zip(runs[name], runs["guide"], strict=True)]
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        print(
            f"| {name:<14} | {statistics.median(runs[name]):>14,.0f} | {statistics.median(ratios):>16.2f} | {spread:>9} |"
        )


if __name__ == "__main__":
    main()
