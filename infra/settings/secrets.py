"""The secret setting the program reads: the Worker's service token (deprecated by `clients`).

Its value is never shown.
"""

from __future__ import annotations

from collections.abc import Mapping

from infra.settings.errors import SettingIssue
from infra.worker_contract import LEGACY_CLIENT

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


SERVICE_TOKEN_DEPRECATION = (
    f"{SERVICE_TOKEN_KEY}: one token with every scope, shared by every caller; it still works, as the "
    "client `service`. Give each caller its own client with only the scopes it needs (`clients`, see "
    "docs/configuration.md), move the callers to their tokens, then `pulumi config rm serviceToken`"
)
IMPLICIT_TOKEN_DEPRECATION = (
    "no `clients` set: the Worker accepts only the generated service token (every scope), as before "
    "clients existed. Define `clients` (docs/configuration.md); the generated token then stops working"
)


def service_token_deprecations(token_set: bool, clients: Mapping[str, object]) -> list[str]:
    """Why the all-scope token is deprecated, when this stack still has one (`serviceToken` set,
    or generated for want of `clients`)."""
    if token_set:
        return [SERVICE_TOKEN_DEPRECATION]
    return [] if clients else [IMPLICIT_TOKEN_DEPRECATION]


def service_token_conflicts(token: str | None, clients: Mapping[str, object]) -> list[SettingIssue]:
    """`serviceToken` is the client `service`: a configured client cannot have that name too."""
    if token is None or LEGACY_CLIENT not in clients:
        return []
    return [
        SettingIssue(
            key=f"clients.{LEGACY_CLIENT}",
            problem=f"the name of the client `{SERVICE_TOKEN_KEY}` stands for",
            got=LEGACY_CLIENT,
            fix="rename the client, or `pulumi config rm serviceToken` once its callers use their own tokens",
        )
    ]
