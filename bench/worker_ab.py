"""Is an edit of the Worker faster? Its bundle, worker/dist/worker.js (A), and an edited copy (B), side by side.

Both are prepared from the same settings and seeds, each with its own local state, and served
by two `wrangler dev` at once; wrk (one thread, 16 connections) runs each route on A and on B
in turn, the order reversed every other round. Printed per route: the median req/s of each
and the median of B/A taken per round, with its range. Rounds on 2 cores spread by about
±0.07 even for two identical Workers (run it with the file unchanged to see), so trust a
difference only well outside that.

  cp worker/dist/worker.js /tmp/edited.js    # then edit /tmp/edited.js (or build another
                                             # revision's worker/src and copy its bundle)
  .venv/bin/python bench/worker_ab.py /tmp/edited.js [--rounds 8] [--duration 3]
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

ROUTES = ("/health", "/subscriptions/hit", "/entitlements/hit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("edited", type=Path, help="the edited copy of worker/dist/worker.js to compare")
    parser.add_argument("--rounds", type=int, default=8, help="rounds of every route (default 8)")
    parser.add_argument("--duration", type=int, default=3, help="seconds per route, Worker and round (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    args = parser.parse_args()
    if not args.edited.is_file():
        sys.exit(f"{args.edited}: no such file; give an edited copy of worker/dist/worker.js")
    binary = require_wrk()
    before = load_average()

    headers = {"Authorization": f"Bearer {BENCH_TOKEN}"}
    runs: dict[tuple[str, str], list[float]] = {}
    settings = bench_settings()
    with (
        fresh_local_worker(settings, seed_users) as (url_a, _, _),
        fresh_local_worker(settings, seed_users, worker_source=args.edited) as (url_b, _, _),
    ):
        urls = {"A": api_root(url_a), "B": api_root(url_b)}  # each under /v1 if it has it
        for url in urls.values():  # fill the caches each route hits
            assert get(f"{url}/subscriptions/hit", BENCH_TOKEN) == 200, f"{url}: the hit user is not served"
            get(f"{url}/usage/hit", BENCH_TOKEN, "POST")
            get(f"{url}/entitlements/hit", BENCH_TOKEN)
        time.sleep(1)
        for round_number in range(args.rounds):
            print(f"round {round_number + 1}/{args.rounds}...", file=sys.stderr)
            order = ("A", "B") if round_number % 2 == 0 else ("B", "A")
            for route in ROUTES:
                for name in order:
                    run = wrk(binary, urls[name] + route, args.duration, args.connections, headers)
                    runs.setdefault((route, name), []).append(run.requests_per_s)

    print(
        f"\nA: worker/dist/worker.js, B: {args.edited}; wrk -t1 -c{args.connections}, {args.rounds} rounds x "
        f"{args.duration} s per route and Worker, alternating; load average before {before}, after {load_average()}\n"
    )
    print(f"| {'route':<20} | {'A req/s':>8} | {'B req/s':>8} | {'B/A (median)':>12} | {'range':>9} |")
    print(f"| {'-' * 20} | {'-' * 7}: | {'-' * 7}: | {'-' * 11}: | {'-' * 8}: |")
    for route in ROUTES:
        a, b = runs[(route, "A")], runs[(route, "B")]
        ratios = [after / before for before, after in zip(a, b, strict=True)]
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        print(
            f"| {route:<20} | {statistics.median(a):>8,.0f} | {statistics.median(b):>8,.0f} "
            f"| {statistics.median(ratios):>12.3f} | {spread:>9} |"
        )


if __name__ == "__main__":
    main()
