"""How long `guruai-cache` takes to start, beside a bare `python -c 'import typer, pydantic'`.

Each figure is the median wall time of fresh processes (no warm interpreter), so it is what a
user waits for. The goal: `--help` and `settings check` within 0.3 s of the bare imports.

  .venv/bin/python bench/cli_startup.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = str(ROOT / ".venv" / "bin" / "guruai-cache")

CASES = {
    "python -c 'import typer, pydantic'": [sys.executable, "-c", "import typer, pydantic"],
    "guruai-cache --help": [CLI, "--help"],
    "guruai-cache settings check": [CLI, "settings", "check"],
    "guruai-cache estimate --stack prod --json": [CLI, "estimate", "--stack", "prod", "--json"],
}


def seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15, help="runs per case, alternating cases; the median is shown")
    args = parser.parse_args()
    runs: dict[str, list[float]] = {name: [] for name in CASES}
    for command in CASES.values():  # warm the file cache once
        seconds(command)
    for _ in range(args.repeat):
        for name, command in CASES.items():
            runs[name].append(seconds(command))
    baseline = statistics.median(runs[next(iter(CASES))])
    print(f"{'command':<44}{'median s':>10}{'min s':>8}{'- bare s':>10}")
    for name, times in runs.items():
        median = statistics.median(times)
        print(f"{name:<44}{median:>10.3f}{min(times):>8.3f}{median - baseline:>10.3f}")


if __name__ == "__main__":
    main()
