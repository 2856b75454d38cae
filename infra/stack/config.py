"""The stack's settings and secrets, read from the Pulumi engine and validated before anything is built."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pulumi
from pulumi.runtime import config as runtime_config

from infra.settings import SettingIssue, Settings, SettingsError, load_settings, parse_config_values
from infra.settings.secrets import (
    SERVICE_TOKEN_KEY,
    check_service_token,
    service_token_conflicts,
    service_token_deprecations,
)

API_TOKEN_ENV = "CLOUDFLARE_API_TOKEN"


@dataclass(frozen=True)
class StackSettings:
    """What the program may build from: checked settings and the two secrets it needs."""

    stack: str
    settings: Settings
    service_token: pulumi.Output[str] | None  # None: CacheStack generates one
    api_token: pulumi.Output[str]


def stack_config() -> dict[str, object]:
    """All of this project's config for the running stack, structured values parsed."""
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return parse_config_values(merged, pulumi.get_project())


def api_token() -> pulumi.Output[str] | None:
    """The Cloudflare API token the provider uses (config `cloudflare:apiToken`, else the
    environment), as a secret; None when neither has it."""
    configured = pulumi.Config("cloudflare").get_secret("apiToken")
    if configured is not None:
        return configured
    from_env = os.environ.get(API_TOKEN_ENV)
    return pulumi.Output.secret(from_env) if from_env else None


def api_token_issues(token: object | None) -> list[SettingIssue]:
    """wrangler has no other way to reach the account than this token: say so before anything is registered."""
    if token is not None:
        return []
    return [
        SettingIssue(
            key="cloudflare:apiToken",
            problem=f"missing: the provider and the D1 migrations (wrangler) need it (nor is {API_TOKEN_ENV} set)",
            got=None,
            fix=f"export {API_TOKEN_ENV}=<token>, or run `pulumi config set --secret cloudflare:apiToken <token>`",
        )
    ]


def load_stack_settings() -> StackSettings:
    """The running stack's validated settings and secrets.

    Invalid settings end the run with their list and no traceback, before any resource is
    registered; deprecated ones are warned about.
    """
    stack = pulumi.get_stack()
    token = runtime_config.get_config(f"{pulumi.get_project()}:{SERVICE_TOKEN_KEY}")
    cloudflare_token = api_token()
    issues = check_service_token(token) + api_token_issues(cloudflare_token)
    settings: Settings | None = None
    try:
        settings = load_settings(stack_config(), stack=stack)
    except SettingsError as error:
        issues = error.issues + issues
    if settings is not None:
        issues += service_token_conflicts(token, settings.clients)
    if issues or settings is None or cloudflare_token is None:
        raise pulumi.RunError(str(SettingsError(stack, issues)))
    for deprecation in settings.deprecations() + service_token_deprecations(token, settings.clients):
        pulumi.log.warn(f"deprecated setting {deprecation}")
    return StackSettings(stack, settings, pulumi.Config().get_secret(SERVICE_TOKEN_KEY), cloudflare_token)
