"""The Worker's clients as plain data: the `CLIENTS` secret binding and what previews show.

The binding maps each client's name to its token's SHA-256 and its scopes; the Worker hashes
the presented token once and compares it with every client's digest in constant time. The
names and scopes (never the digests) are the stack's `clients` output, so `pulumi preview`
shows who may call the Worker even though the bindings list is secret.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from infra.settings.clients import Client
from infra.worker_contract import LEGACY_CLIENT, SCOPES, canonical_json

ClientEntries = dict[str, dict[str, Any]]


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_entries(clients: Mapping[str, Client]) -> ClientEntries:
    """name -> {"sha256", "scopes"}, sorted by name."""
    return {name: {"sha256": c.token_sha256, "scopes": list(c.scopes)} for name, c in sorted(clients.items())}


def with_legacy_client(entries: ClientEntries, legacy_token_sha256: str) -> ClientEntries:
    """The deprecated service token as the client `service`, with every scope."""
    return dict(sorted({**entries, LEGACY_CLIENT: {"sha256": legacy_token_sha256, "scopes": list(SCOPES)}}.items()))


def clients_value(entries: ClientEntries) -> str:
    """The `CLIENTS` secret's text."""
    return canonical_json(entries)


def client_scopes(entries: ClientEntries) -> dict[str, list[str]]:
    """name -> scopes: what the stack shows (an output); no digest."""
    return {name: list(entry["scopes"]) for name, entry in entries.items()}
