"""Who may call the Worker: named clients, each with its scopes and the SHA-256 of its token.

A client generates its token (32 random bytes or more) and keeps it; only the token's
SHA-256 enters the config, the state and the Worker. A plain SHA-256 is enough here: a
slow password hash (bcrypt, scrypt, Argon2) makes guessing a *low-entropy* secret from its
hash expensive, but a 256-bit random token cannot be guessed from its hash at any speed,
and a slow hash would cost the Worker CPU time on every request.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import PrivateAttr, ValidatorFunctionWrapHandler, field_validator, model_validator

from infra.settings.base import Issue, SettingModel, problem
from infra.worker_contract import SCOPES, Scope

CLIENT_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
NEW_TOKEN_COMMAND = "python -m guruai_cache_client new-token"
# Names the program and the local environment give their own clients.
RESERVED_PREFIX = "local-"


class Client(SettingModel):
    """`{scopes: [...], tokenSha256: <hex>}`, or the shorthand `<hex>` for every scope."""

    scopes: tuple[Scope, ...]
    token_sha256: str
    # Written as the shorthand: every scope without saying so (refused in production).
    _shorthand: bool = PrivateAttr(default=False)

    @model_validator(mode="wrap")
    @classmethod
    def _every_scope_shorthand(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Client:
        # `clients: {app: <hash>}`: the simple path for one client, with every scope.
        if not isinstance(value, str):
            client: Client = handler(value)
            return client
        client = handler({"scopes": list(SCOPES), "tokenSha256": value})
        client._shorthand = True
        return client

    @property
    def is_shorthand(self) -> bool:
        return self._shorthand

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: tuple[Scope, ...]) -> tuple[Scope, ...]:
        if not value:
            raise problem("a client without scopes can call nothing", f"list some of: {', '.join(SCOPES)}")
        # One order, whatever the config's: the binding and the outputs then never show a spurious diff.
        return tuple(scope for scope in SCOPES if scope in value)

    # The digest's form is checked with the client's name (Settings): so that a plaintext token
    # put here by mistake is reported by its length, never echoed.


def clients_issues(clients: dict[str, Client]) -> list[Issue]:
    """Names well formed and not reserved; digests well formed and each client's own."""
    issues: list[Issue] = []
    owners: dict[str, str] = {}
    for name, client in clients.items():
        where = ("clients", name)
        if not CLIENT_NAME.fullmatch(name):
            issues.append((where, "not a client name", name, "use lowercase letters, digits, '-' or '_' (at most 40)"))
        elif name.startswith(RESERVED_PREFIX):
            issues.append((where, f"names starting with {RESERVED_PREFIX!r} are reserved", name, "rename it"))
        digest = client.token_sha256
        if not SHA256_HEX.fullmatch(digest):
            issues.append(
                (
                    (*where, "tokenSha256"),
                    "not a SHA-256 hex digest (64 lowercase hex characters); if it is the token itself, "
                    "that token is now exposed: make a new one",
                    f"a value of {len(digest)} characters",
                    f"run `{NEW_TOKEN_COMMAND}` on the client's side and set the digest it prints",
                )
            )
        elif digest in owners:
            issues.append(
                (
                    (*where, "tokenSha256"),
                    f"the same token as client {owners[digest]!r}: the Worker could not tell them apart",
                    "a repeated digest",
                    "give each client its own token",
                )
            )
        owners.setdefault(digest, name)
    return issues
