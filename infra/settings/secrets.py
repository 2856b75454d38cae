"""The secret setting the program reads: the Worker's service token. Its value is never shown."""

from __future__ import annotations

from infra.settings.errors import SettingIssue

SERVICE_TOKEN_KEY = "serviceToken"
SERVICE_TOKEN_MIN_CHARS = 32


def check_service_token(token: str | None) -> list[SettingIssue]:
    """The token's value never appears in a message: only its length."""
    if token is None or len(token) >= SERVICE_TOKEN_MIN_CHARS:
        return []
    return [
        SettingIssue(
            key=SERVICE_TOKEN_KEY,
            problem=(f"too short to resist guessing ({len(token)} characters; at least {SERVICE_TOKEN_MIN_CHARS})"),
            got=None,
            fix="run `openssl rand -hex 32 | pulumi config set --secret serviceToken`, or unset it to have one generated",
            secret=True,
        )
    ]
