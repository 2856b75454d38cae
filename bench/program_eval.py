"""How long the Pulumi program takes to evaluate under mocks, beside the bare provider import.

Each figure comes from a fresh interpreter, so imports are not shared between runs:
  .venv/bin/python bench/program_eval.py [--repeat 3]
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
start = time.perf_counter()
run = run_program("dev", {{"featureFlags": flags}})
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed, "resources": len(run.resources)}}))
"""


def measure(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the median is shown")
    parser.add_argument("--flags", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args()

    imports = [float(measure(IMPORT_ONLY)) for _ in range(args.repeat)]
    print(f"{'case':<34}{'median s':>10}{'min s':>9}{'resources':>11}")
    print(f"{'import pulumi_cloudflare':<34}{statistics.median(imports):>10.2f}{min(imports):>9.2f}{'-':>11}")
    for flags in args.flags:
        runs = [json.loads(measure(PROGRAM.format(flags=flags))) for _ in range(args.repeat)]
        seconds = [run["seconds"] for run in runs]
        label = f"dev program, {flags} feature flags"
        print(f"{label:<34}{statistics.median(seconds):>10.2f}{min(seconds):>9.2f}{runs[0]['resources']:>11}")


if __name__ == "__main__":
    main()
