"""The secret setting the program reads: the Worker's service token (deprecated by `clients`),
and the rule that a production stack has no token with every scope unless it names one.

Its value is never shown.
"""

from __future__ import annotations

from collections.abc import Mapping

from infra.settings.clients import NEW_TOKEN_COMMAND, Client
from infra.settings.errors import SettingIssue
from infra.worker_contract import LEGACY_CLIENT, SCOPES

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


# The last day `serviceToken` is read (non-production stacks only): a quarter after production
# stopped accepting it, time for a team to move each caller to a client of its own.
SERVICE_TOKEN_REMOVAL = "2027-03-31"
SERVICE_TOKEN_DEPRECATION = (
    f"{SERVICE_TOKEN_KEY}: one token with every scope, shared by every caller; it still works, as the "
    f"client `service`, until {SERVICE_TOKEN_REMOVAL} (then the setting is removed). Give each caller its own "
    "client with only the scopes it needs (`clients`, see docs/configuration.md), move the callers to their "
    "tokens, then `pulumi config rm serviceToken`"
)
# What makes a client, as the fix of a production stack without clients says.
MAKE_A_CLIENT = (
    f"run `{NEW_TOKEN_COMMAND} --name <app> --scope read ...` (one --scope per scope it needs) "
    "and the `pulumi config set` lines it prints, with --stack {stack}"
)
IMPLICIT_TOKEN_DEPRECATION = (
    "no `clients` set: the Worker accepts only the generated service token (every scope), as before "
    "clients existed. Define `clients` (docs/configuration.md); the generated token then stops working"
)


def service_token_deprecations(token_set: bool, clients: Mapping[str, object], production: bool = False) -> list[str]:
    """Why the all-scope token is deprecated, when this stack still has one (`serviceToken` set,
    or generated for want of `clients`). A production stack has none: it is refused there."""
    if production:
        return []
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


def missing_production_clients(stack: str) -> SettingIssue:
    """A production stack without clients: valid settings, but nothing may call its Worker, so
    its preview, up and preflight stop until the team makes one."""
    return SettingIssue(
        key="clients",
        problem="none in a production stack, which gets no generated token with every scope",
        got={},
        fix=MAKE_A_CLIENT.format(stack=stack),
    )


def production_token_issues(
    stack: str, production: bool, clients: Mapping[str, Client], token_set: bool
) -> list[SettingIssue]:
    """A production stack fails closed: no generated every-scope token, no `serviceToken`, no
    every-scope shorthand. Each client names its scopes, so a leaked token is worth only those."""
    if not production:
        return []
    issues: list[SettingIssue] = []
    if token_set:
        issues.append(
            SettingIssue(
                key=SERVICE_TOKEN_KEY,
                problem="a token with every scope is refused in a production stack",
                got=None,
                fix=(
                    "keep its callers working as a client that says its scopes: `pulumi config set --path "
                    f"'clients.<app>.tokenSha256' <its SHA-256: printf %s \"$TOKEN\" | sha256sum>` and "
                    f"`pulumi config set --path 'clients.<app>.scopes[0]' read` (one per scope: "
                    f"{', '.join(SCOPES)}), then `pulumi config rm serviceToken`"
                ),
                secret=True,
            )
        )
    elif not clients:
        issues.append(missing_production_clients(stack))
    for name, client in clients.items():
        if client.is_shorthand:
            issues.append(
                SettingIssue(
                    key=f"clients.{name}",
                    problem="the every-scope shorthand `<name>: <digest>` is refused in a production stack",
                    got="a digest without scopes",
                    fix=(
                        f"write the long form with the scopes it needs: `clients.{name}: "
                        "{scopes: [read, ...], tokenSha256: <the same digest>}`"
                    ),
                )
            )
    return issues
