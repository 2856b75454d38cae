"""The Worker as plain data: its script name, compatibility, cron, variables and bindings.

One plan feeds both the deployed script (infra/stack/worker.py turns the bindings into the
provider's argument classes) and wrangler.toml (infra/plan/wrangler_toml.py). No Pulumi or
provider import here: the CLI reads this without paying for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra import paths
from infra.names import LOCAL
from infra.plan.bindings import (
    D1,
    AnalyticsEngine,
    Binding,
    KvNamespace,
    PlainText,
    RateLimit,
    ScriptInputs,
    Secret,
)
from infra.plan.catalog import catalog_bindings, catalog_document
from infra.settings import Settings, load_settings
from infra.worker_contract import (
    CLIENT_LIMITER_BINDING,
    CLIENTS_SECRET,
    DB_BINDING,
    ENVIRONMENT_VAR,
    KV_BINDING,
    METRICS_BINDING,
    RATE_LIMITER_BINDING,
)

# The one module the provider uploads: what `guruai-cache worker build` bundles (worker/dist/).
MAIN_MODULE = paths.WORKER_BUNDLE.name

# The Worker's setting-backed variables: name -> the setting it carries (as text, Workers vars
# are text). The settings' defaults are the Worker's fallbacks too (var_defaults, generated into
# worker/src/contract.js as VAR_DEFAULTS): one source for each default, the setting's.
SETTING_VARS: dict[str, Callable[[Settings], object]] = {
    "SUBSCRIPTION_TTL": lambda s: s.ttls.subscription,
    "TIERS_MAX_AGE": lambda s: s.tiers_max_age,
    "USAGE_WINDOW_SECONDS": lambda s: s.usage_window_seconds,
    "USAGE_RETENTION_DAYS": lambda s: s.usage_retention_days,
    "ROUTINE_LOG_SAMPLE_RATE": lambda s: s.request_log.routine_sample_rate,
    "ENTITLEMENTS_COUNT_MAX_AGE": lambda s: s.entitlements_count_max_age,
    "BURST_RATE_LIMIT_LIMIT": lambda s: s.burst_rate_limit.limit,
    "BURST_RATE_LIMIT_PERIOD": lambda s: s.burst_rate_limit.period,
    "CLIENT_RATE_LIMIT_PERIOD": lambda s: s.client_rate_limit.period,
    "IDEMPOTENCY_WINDOW_SECONDS": lambda s: s.idempotency_window_seconds,
}


@dataclass(frozen=True)
class WorkerPlan:
    script_name: str
    compatibility_date: str
    cron: str
    catalog: dict[str, Any]  # the `CATALOG` json binding (infra/plan/catalog.py)
    # In the order the provider gets them: it compares the list in order, and an order that
    # varied would show up as a diff in every `pulumi preview`.
    bindings: tuple[Binding, ...]


def var_defaults() -> dict[str, object]:
    """Each setting-backed variable's value when the settings leave it at its default."""
    defaults = load_settings({}, stack=LOCAL, require_account=False)
    return {name: value(defaults) for name, value in SETTING_VARS.items()}


def worker_vars(settings: Settings, stack: str) -> dict[str, str]:
    """ENVIRONMENT (the stack, or names.LOCAL) and the setting-backed variables, as text."""
    return {ENVIRONMENT_VAR: stack, **{name: str(value(settings)) for name, value in SETTING_VARS.items()}}


def worker_plan(settings: Settings, stack: str) -> WorkerPlan:
    """`stack` is a Pulumi stack name, or names.LOCAL for local development."""
    names, limiter = settings.names(stack), settings.burst_rate_limit
    catalog = catalog_document(settings)
    metrics = [AnalyticsEngine(METRICS_BINDING, names.metrics_dataset)] if settings.metrics.enabled else []
    bindings: tuple[Binding, ...] = (
        KvNamespace(KV_BINDING),
        D1(DB_BINDING, database_name=names.database),
        RateLimit(RATE_LIMITER_BINDING, settings.limiter_namespace_id(stack), limiter.limit, limiter.period),
        RateLimit(
            CLIENT_LIMITER_BINDING,
            settings.client_limiter_namespace_id(stack),
            settings.client_limit,
            settings.client_rate_limit.period,
        ),
        *(PlainText(name, text) for name, text in worker_vars(settings, stack).items()),
        *catalog_bindings(catalog),
        Secret(CLIENTS_SECRET),
        *metrics,
    )
    return WorkerPlan(
        script_name=names.worker_script,
        compatibility_date=settings.compatibility_date,
        cron=settings.cron,
        catalog=catalog,
        bindings=bindings,
    )


def script_bindings(plan: WorkerPlan, inputs: ScriptInputs) -> list[dict[str, Any]]:
    """The script's bindings, with the provider's field names; ids and secrets may be Pulumi Outputs."""
    return [binding.provider(inputs) for binding in plan.bindings]
