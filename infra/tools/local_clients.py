"""The local environment's clients: one generated token per scope, only their digests for the Worker.

The plaintext tokens exist only on the developer's machine, in `.dev.tokens.json` next to the
config (git-ignored, mode 0600). The Worker gets the `CLIENTS` secret in `.dev.vars` (which
`wrangler dev` reads as secrets): the local clients' SHA-256 digests and scopes, plus the dev
stack's configured clients, so an app's own dev token works locally too.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
from pathlib import Path

from infra.plan.clients import ClientEntries, client_entries, clients_value, token_sha256
from infra.settings import Settings
from infra.settings.clients import RESERVED_PREFIX
from infra.worker_contract import CLIENTS_SECRET, SCOPES

TOKENS_FILE = ".dev.tokens.json"
TOKEN_BYTES = 32
# What .dev.vars held before clients: one all-scope token, now replaced by the per-scope ones.
LEGACY_DEV_VAR = "SERVICE_TOKEN"
DEV_VARS_HEADER = "# Local secrets for `wrangler dev` (git-ignored). Written by `guruai-cache local`.\n"

LocalTokens = dict[str, str]  # scope -> token


def local_client_name(scope: str) -> str:
    return f"{RESERVED_PREFIX}{scope}"  # a prefix the settings refuse, so no configured client is shadowed


def new_token() -> str:
    """32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def tighten(path: Path) -> None:
    """Narrow an existing file others may read to 0600 before anything is read from or added to it."""
    if path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step, in a file readable by its owner only from its first byte on.

    One step, because a running `wrangler dev` re-reads .dev.vars on each reload: one that met
    the file truncated mid-write would run without CLIENTS until the next reload."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # a leftover of a killed run keeps its mode through O_CREAT
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def ensure_local_tokens(path: Path) -> tuple[LocalTokens, list[str]]:
    """The local tokens, one per scope; missing ones are generated. Returns (tokens, scopes generated)."""
    tighten(path)
    try:
        stored = json.loads(path.read_text()) if path.exists() else {}
    except json.JSONDecodeError:
        stored = {}  # unreadable: start afresh (the tokens are local and disposable)
    tokens = {scope: stored[scope] for scope in SCOPES if isinstance(stored.get(scope), str) and stored[scope]}
    created = [scope for scope in SCOPES if scope not in tokens]
    tokens.update({scope: new_token() for scope in created})
    if created or stored != tokens:
        write_private(path, json.dumps(tokens, indent=2) + "\n")
    else:
        path.chmod(0o600)
    return tokens, created


def local_client_entries(tokens: LocalTokens, settings: Settings) -> ClientEntries:
    """The dev stack's clients, plus `local-<scope>` for each local token."""
    entries = client_entries(settings.clients)
    for scope, token in tokens.items():
        entries[local_client_name(scope)] = {"sha256": token_sha256(token), "scopes": [scope]}
    return dict(sorted(entries.items()))


# One `NAME=value` line of .dev.vars (dotenv syntax, as wrangler reads it).
_DEV_VAR_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def read_dev_var(text: str, name: str) -> str | None:
    """The value of `name` in .dev.vars text, unquoted; None when absent or empty."""
    for line in text.splitlines():
        match = _DEV_VAR_LINE.match(line)
        if match and match.group(1) == name:
            value = match.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            return value or None
    return None


def with_dev_var(text: str, name: str, value: str) -> str:
    """.dev.vars with `name` set to `value` (single-quoted: JSON inside stays as it is), and the
    pre-clients SERVICE_TOKEN line dropped; other lines are kept."""
    kept = [
        line
        for line in text.splitlines()
        if not ((match := _DEV_VAR_LINE.match(line)) and match.group(1) in (name, LEGACY_DEV_VAR))
    ]
    header = [] if kept else [DEV_VARS_HEADER.rstrip("\n")]
    return "\n".join([*header, *kept, f"{name}='{value}'"]) + "\n"


def write_clients_dev_var(dev_vars: Path, entries: ClientEntries) -> None:
    tighten(dev_vars)
    text = dev_vars.read_text() if dev_vars.exists() else ""
    write_private(dev_vars, with_dev_var(text, CLIENTS_SECRET, clients_value(entries)))


def prepare_clients(settings: Settings, tokens_file: Path, dev_vars: Path) -> tuple[LocalTokens, list[str]]:
    """Tokens kept or generated, the Worker's CLIENTS written: (tokens, scopes generated)."""
    tokens, created = ensure_local_tokens(tokens_file)
    write_clients_dev_var(dev_vars, local_client_entries(tokens, settings))
    return tokens, created
