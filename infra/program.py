"""Glue between the Pulumi engine and the pure settings code."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi.runtime import config as runtime_config

from infra import migrations
from infra.settings import (
    SERVICE_TOKEN_KEY,
    Settings,
    SettingsError,
    check_service_token,
    load_settings,
    parse_config_values,
)


def stack_config() -> dict:
    """All of this project's config for the running stack, structured values parsed."""
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return parse_config_values(merged, pulumi.get_project())


@dataclass(frozen=True)
class ValidatedRun:
    """What the program may build from: checked settings and the two secrets it needs."""

    settings: Settings
    service_token: pulumi.Output[str] | None  # None: CacheStack generates one
    api_token: pulumi.Output[str]


def settings_or_exit() -> ValidatedRun:
    """The stack's validated settings and secrets.

    Invalid settings end the run with their list and no traceback, before any
    resource is registered.
    """
    stack = pulumi.get_stack()
    token = runtime_config.get_config(f"{pulumi.get_project()}:{SERVICE_TOKEN_KEY}")
    api_token = migrations.api_token()
    issues = check_service_token(token) + migrations.api_token_issues(api_token)
    try:
        settings = load_settings(stack_config(), stack=stack)
    except SettingsError as error:
        issues = error.issues + issues
    if issues or api_token is None:
        raise pulumi.RunError(str(SettingsError(stack, issues)))
    return ValidatedRun(settings, pulumi.Config().get_secret(SERVICE_TOKEN_KEY), api_token)


def report_expected_cost(settings: Settings) -> None:
    """Warn at preview/up when the stack's expected traffic crosses a free-plan daily limit.

    On Workers Paid (`traffic.workersPlan: paid`) say what the traffic costs instead. The
    estimate never stops a deployment: a missing operations table is itself only a warning.
    """
    from infra import cost  # the estimator is not needed to build resources

    stack = pulumi.get_stack()
    try:
        result = cost.estimate(settings)
    except cost.OperationsTableError as error:
        pulumi.log.warn(f"cost estimate skipped: {error}")
        return
    if settings.traffic.workers_plan == "paid":
        pulumi.log.info(
            f"expected traffic: about ${result.paid_monthly_usd:,.2f} a month on Workers Paid "
            f"(`guruai-cache estimate --stack {stack}`)"
        )
        return
    warning = cost.preview_warning(result, stack)
    if warning:
        pulumi.log.warn(warning)
