"""How long the Pulumi program takes to evaluate under mocks, and how many resources it
registers, with many flags and tiers, beside the program without flags and the bare provider
import. The last column compares each case with the first (time ratio, resources added).

Each figure comes from a fresh interpreter, so imports are not shared between runs:
  .venv/bin/python bench/program_eval.py [--repeat 3] [--cases none flags tiers both legacy]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

IMPORT_ONLY = """
import time, warnings
warnings.simplefilter("ignore")
start = time.perf_counter()
import pulumi_cloudflare
print(time.perf_counter() - start)
"""

PROGRAM = """
import sys, time, warnings, json
warnings.simplefilter("ignore")
sys.path.insert(0, "tests")
import pulumi_cloudflare  # imported first: its cost is measured separately
from pulumi_mocks import run_program
flags = {{f"flag-{{i:04d}}": {{"enabled": i % 2 == 0}} for i in range({flags})}}
# The default tiers' names first: the dev subscriptions use them.
names = ["free", "pro", "premium"] + [f"tier-{{i:02d}}" for i in range({tiers} - 3)]
overrides = {{"featureFlags": flags, "legacyFlagKeys": {legacy}}}
if {tiers}:
    overrides["tiers"] = [{{"name": n, "monthlyPrice": i, "dailyRequestLimit": 100 * (i + 1)}} for i, n in enumerate(names)]
start = time.perf_counter()
run = run_program("dev", overrides)
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed, "resources": len(run.resources)}}))
"""

# (label, flags, tiers (0: the default three), the deprecated per-flag keys)
CASES = {
    "none": ("dev program, no flags", 0, 0, False),
    "flags": ("1,000 flags", 1000, 0, False),
    "tiers": ("50 tiers", 0, 50, False),
    "both": ("1,000 flags and 50 tiers", 1000, 50, False),
    "legacy": ("1,000 flags, legacyFlagKeys", 1000, 0, True),
}


def measure(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the median is shown")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    args = parser.parse_args()

    imports = [float(measure(IMPORT_ONLY)) for _ in range(args.repeat)]
    print(f"{'case':<34}{'median s':>10}{'min s':>9}{'resources':>11}{'vs the first case':>24}")
    print(f"{'import pulumi_cloudflare':<34}{statistics.median(imports):>10.2f}{min(imports):>9.2f}{'-':>11}{'-':>24}")
    base: tuple[float, int] | None = None
    for case in args.cases:
        label, flags, tiers, legacy = CASES[case]
        runs = [
            json.loads(measure(PROGRAM.format(flags=flags, tiers=tiers, legacy=legacy))) for _ in range(args.repeat)
        ]
        median, resources = statistics.median(run["seconds"] for run in runs), runs[0]["resources"]
        base = base or (median, resources)  # the first case is the reference
        versus = f"{median / base[0]:.2f}x, {resources - base[1]:+d} resources"
        print(f"{label:<34}{median:>10.2f}{min(run['seconds'] for run in runs):>9.2f}{resources:>11}{versus:>24}")


if __name__ == "__main__":
    main()
