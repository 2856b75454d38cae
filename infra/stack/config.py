"""The stack's settings and secrets, read from the Pulumi engine and validated before anything is built."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pulumi
from pulumi.runtime import config as runtime_config

from infra.plan.imports import settle_reminder
from infra.settings import (
    SettingIssue,
    Settings,
    SettingsError,
    committed_stack_settings,
    load_settings,
    parse_config_values,
    shared_limiter_issues,
)
from infra.settings.secrets import (
    SERVICE_TOKEN_KEY,
    check_service_token,
    production_token_issues,
    service_token_conflicts,
    service_token_deprecations,
)

API_TOKEN_ENV = "CLOUDFLARE_API_TOKEN"
API_TOKEN_KEY = "cloudflare:apiToken"


@dataclass(frozen=True)
class StackSettings:
    """What the program may build from: checked settings and the secrets it needs."""

    stack: str
    settings: Settings
    service_token: pulumi.Output[str] | None  # None: CacheStack generates one
    # From stack config only; None when CLOUDFLARE_API_TOKEN carries it (the migrations inherit it).
    api_token: pulumi.Output[str] | None


def raw_config() -> dict[str, object]:
    """Every config value the engine hands the program, by full key (`project:key`)."""
    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def stack_config() -> dict[str, object]:
    """All of this project's config for the running stack, structured values parsed."""
    return parse_config_values(raw_config(), pulumi.get_project())


def secret_keys() -> set[str]:
    """This project's config keys that Pulumi holds as secrets (without the project prefix).

    The engine says which keys are secret (PULUMI_CONFIG_SECRET_KEYS, or the set the runtime
    was given); their values are never shown in a settings error.
    """
    prefix = f"{pulumi.get_project()}:"
    declared = set(runtime_config.get_config_secret_keys_env())
    return {
        key.removeprefix(prefix)
        for key in raw_config()
        if key.startswith(prefix) and (key in declared or runtime_config.is_config_secret(key))
    }


def configured_api_token() -> pulumi.Output[str] | None:
    """The token from stack config (`cloudflare:apiToken`), as a secret; None when config has none."""
    return pulumi.Config("cloudflare").get_secret("apiToken")


def api_token_issues(configured: object | None) -> list[SettingIssue]:
    """wrangler has no other way to reach the account than this token: say so before anything is registered."""
    if configured is not None or os.environ.get(API_TOKEN_ENV):
        return []
    return [
        SettingIssue(
            key=API_TOKEN_KEY,
            problem=f"missing: the provider and the D1 migrations (wrangler) need it (nor is {API_TOKEN_ENV} set)",
            got=None,
            fix=f"export {API_TOKEN_ENV}=<token>, or run `pulumi config set --secret {API_TOKEN_KEY} <token>`",
        )
    ]


def load_stack_settings() -> StackSettings:
    """The running stack's validated settings and secrets.

    Invalid settings end the run with their list and no traceback, before any resource is
    registered; deprecated ones are warned about. Among the checks across stacks: no other
    committed stack may share this one's rate-limiter namespace. A production stack must name
    its clients and their scopes (no token with every scope).
    """
    stack = pulumi.get_stack()
    token = runtime_config.get_config(f"{pulumi.get_project()}:{SERVICE_TOKEN_KEY}")
    cloudflare_token = configured_api_token()
    issues = check_service_token(token) + api_token_issues(cloudflare_token)
    settings: Settings | None = None
    try:
        settings = load_settings(stack_config(), stack=stack, secret_keys=secret_keys())
        issues += shared_limiter_issues(stack, settings, committed_stack_settings(besides=stack))
    except SettingsError as error:
        issues = error.issues + issues
    if settings is not None:
        issues += service_token_conflicts(token, settings.clients)
        issues += production_token_issues(stack, settings.is_production, settings.clients, token is not None)
    if issues or settings is None:
        raise pulumi.RunError(str(SettingsError(stack, issues)))
    for deprecation in settings.deprecations() + service_token_deprecations(
        token is not None, settings.clients, settings.is_production
    ):
        pulumi.log.warn(f"deprecated setting {deprecation}")
    reminder = settle_reminder(settings.adopt, stack)
    if reminder:
        pulumi.log.warn(reminder)
    return StackSettings(stack, settings, pulumi.Config().get_secret(SERVICE_TOKEN_KEY), cloudflare_token)
