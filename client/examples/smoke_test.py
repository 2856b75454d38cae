"""The setup guide's step 8 smoke test, with the client: is the Worker up, and does it answer?

Against the local Worker (`scripts/local.sh`; the per-scope tokens come from .dev.tokens.json):

    .venv/bin/python client/examples/smoke_test.py --url http://127.0.0.1:8787 --local-tokens .dev.tokens.json

Against a deployed stack (a client token with the read and usage scopes):

    GURUAI_CACHE_TOKEN=... python client/examples/smoke_test.py --url https://guruai-worker-dev.<subdomain>.workers.dev

It reads the health, the tiers and a user's entitlements, counts one use, and checks the count
went up. Exit 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from guruai_cache_client import WorkerClient, WorkerError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the Worker's base URL")
    parser.add_argument("--user", default="user-pro", help="a user with an active subscription (default user-pro)")
    parser.add_argument("--local-tokens", type=Path, help="the local environment's .dev.tokens.json")
    args = parser.parse_args()
    if args.local_tokens:
        tokens = json.loads(args.local_tokens.read_text())
        read, usage = tokens["read"], tokens["usage"]
    else:
        read = usage = os.environ.get("GURUAI_CACHE_TOKEN", "")
        if not read:
            parser.error("set GURUAI_CACHE_TOKEN (a token with the read and usage scopes), or pass --local-tokens")
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
        print(f"FAIL {type(error).__name__}: {error} (request {error.request_id})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
