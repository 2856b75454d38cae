#!/usr/bin/env python3
"""The setup guide's step 8 smoke test, with the client: is the Worker up, and does it answer?

Run it in the project's virtualenv (`source .venv/bin/activate`, see the README). Against the
local Worker (`scripts/local.sh` in another shell; the per-scope tokens come from .dev.tokens.json):

    client/examples/smoke_test.py --local-tokens .dev.tokens.json

Against a deployed stack (a client token with the read and usage scopes):

    GURUAI_CACHE_TOKEN=... client/examples/smoke_test.py --url https://guruai-worker-dev.<subdomain>.workers.dev

It waits until the Worker's /health answers (at most --wait seconds: the local Worker takes a
while to start), then reads the tiers and a user's entitlements, counts one use, and checks the
count went up. Exit 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

try:
    from guruai_cache_client import InsecureURL, RetryPolicy, WorkerClient, WorkerError
    from guruai_cache_client.urls import checked_base_url
except ModuleNotFoundError:  # run outside the virtualenv: say how, not a traceback
    sys.exit("error: guruai_cache_client is not installed here: run `source .venv/bin/activate` first (README)")

# Where `guruai-cache local` (scripts/local.sh) serves the Worker.
DEFAULT_URL = "http://127.0.0.1:8787"
DEFAULT_WAIT_S = 120.0


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    found.add_argument(
        "--url", default=DEFAULT_URL, help=f"the Worker's base URL (default: the local one, {DEFAULT_URL})"
    )
    found.add_argument("--user", default="user-pro", help="a user with an active subscription (default user-pro)")
    found.add_argument("--local-tokens", type=Path, help="the local environment's .dev.tokens.json")
    found.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT_S,
        metavar="SECONDS",
        help=f"how long to wait for /health to answer before the checks (default {DEFAULT_WAIT_S:g})",
    )
    return found


def wait_until_ready(url: str, seconds: float, sleep: float = 1.0) -> str | None:
    """None once GET /health answers; else, after `seconds`, the last reason it did not."""
    deadline = time.monotonic() + seconds
    waiting = False
    with WorkerClient(url, None, timeout=5, retry=RetryPolicy(retries=0)) as probe:
        while True:
            try:
                probe.health()
                return None
            except WorkerError as error:
                reason = str(error)
            if time.monotonic() >= deadline:
                return reason
            if not waiting:
                print(f"..  waiting for the Worker at {url} to answer /health (at most {seconds:g} s)", flush=True)
                waiting = True
            time.sleep(sleep)


def main() -> int:
    args_parser = parser()
    args = args_parser.parse_args()
    read = usage = os.environ.get("GURUAI_CACHE_TOKEN", "")
    if not args.local_tokens and not read:
        args_parser.error("set GURUAI_CACHE_TOKEN (a token with the read and usage scopes), or pass --local-tokens")
    try:
        checked_base_url(args.url)
    except InsecureURL as error:
        args_parser.error(f"--url: {error}")
    not_ready = wait_until_ready(args.url, args.wait)
    if not_ready is not None:
        print(f"FAIL the Worker at {args.url} did not answer /health within {args.wait:g} s: {not_ready}")
        return 1
    if args.local_tokens:  # read once the Worker is up: `guruai-cache local` writes them before it starts it
        try:
            tokens = json.loads(args.local_tokens.read_text())
            read, usage = tokens["read"], tokens["usage"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            args_parser.error(f"--local-tokens {args.local_tokens}: {error!r} (`scripts/local.sh` writes that file)")
    try:
        with WorkerClient(args.url, read) as reader, WorkerClient(args.url, usage) as counter:
            health = reader.health()
            print(f"ok  health: {health.status}, environment {health.environment}, catalog {health.catalog_version}")
            tiers = reader.tiers()
            print(f"ok  tiers: {', '.join(f'{t.name} ({t.daily_request_limit}/day)' for t in tiers.values())}")
            before = reader.entitlements(args.user)
            print(f"ok  {args.user}: tier {before.effective_tier}, {before.remaining}/{before.limit} left, "
                  f"features {', '.join(sorted(before.features))}")  # fmt: skip
            used = counter.record_usage(args.user)
            after = reader.entitlements(args.user)
            if after.used < before.used + 1:
                print(f"FAIL the count did not go up: {before.used} -> {after.used}")
                return 1
            print(f"ok  usage counted: {used.used} used, {after.remaining} left today")
    except WorkerError as error:
        print(f"FAIL {type(error).__name__}: {error}")  # the error names its request, when there was one
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
