"""`python -m guruai_cache_client new-token [--name NAME] --scope read [--scope ...]`: a new client token.

Prints the token once (keep it in the app's secret store; it is shown nowhere else) and the
`pulumi config set` commands that give its SHA-256, never the token, to the stack.
"""

from __future__ import annotations

import argparse
import sys
from typing import get_args

from guruai_cache_client.models import Scope
from guruai_cache_client.tokens import new_token, token_sha256

SCOPES: tuple[str, ...] = get_args(Scope)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m guruai_cache_client", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("new-token", help="make a client token and print the config that admits it")
    make.add_argument("--name", default="app", help="the client's name in the stack's `clients` (default: app)")
    make.add_argument(
        "--scope",
        action="append",
        choices=SCOPES,
        help="a scope the client needs; required, repeatable (no default: a token gets only the scopes named)",
    )
    args = parser.parse_args(argv)
    if not args.scope:
        # Not argparse's `required`: its error would not say why there is no default.
        make.error(
            f"--scope is required: name each scope the client needs ({', '.join(SCOPES)}), e.g. "
            "--scope read --scope usage; there is no every-scope default"
        )
    token = new_token()
    digest = token_sha256(token)
    scopes = list(dict.fromkeys(args.scope))
    print(f"token (give it to the app, e.g. as GURUAI_CACHE_TOKEN; it is not stored anywhere): {token}")
    print(f"sha256: {digest}")
    print("admit the client (per stack; the digest is not a secret):")
    for index, scope in enumerate(scopes):
        print(f"  pulumi config set --path 'clients.{args.name}.scopes[{index}]' {scope}")
    print(f"  pulumi config set --path 'clients.{args.name}.tokenSha256' {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
