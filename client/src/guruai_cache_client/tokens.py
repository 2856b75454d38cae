"""A client's token: made and kept by the client; only its SHA-256 goes to the stack's config."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32  # 256 bits: no one guesses it, so a plain SHA-256 of it is safe to share


def new_token() -> str:
    """32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_sha256(token: str) -> str:
    """What the stack's `clients.<name>.tokenSha256` holds."""
    return hashlib.sha256(token.encode()).hexdigest()
