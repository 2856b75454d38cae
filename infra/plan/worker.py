"""The Worker as plain data: its script name, compatibility, cron, variables and bindings.

One plan feeds both the deployed script (infra/stack/worker.py turns the bindings into the
provider's argument classes) and wrangler.toml (infra/plan/wrangler_toml.py). No Pulumi or
provider import here: the CLI reads this without paying for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra import paths
from infra.plan.catalog import catalog_document
from infra.settings import Settings
from infra.worker_contract import (
    CATALOG_BINDING,
    CLIENTS_SECRET,
    DB_BINDING,
    ENVIRONMENT_VAR,
    KV_BINDING,
    METRICS_BINDING,
    RATE_LIMITER_BINDING,
    canonical_json,
)

MAIN_MODULE = paths.WORKER_SOURCE.name


@dataclass(frozen=True)
class RateLimit:
    """The `ratelimit` binding: `limit` requests per `period` seconds, per key, in one account-wide namespace."""

    namespace_id: str
    limit: int
    period: int


@dataclass(frozen=True)
class WorkerPlan:
    script_name: str
    compatibility_date: str
    cron: str
    vars: dict[str, str]  # plain-text variables, all strings as Workers vars are
    rate_limit: RateLimit
    catalog: dict[str, Any]  # the `CATALOG` json binding (infra/plan/catalog.py)
    metrics_dataset: str | None  # the Analytics Engine dataset; None: metrics off


def worker_plan(settings: Settings, stack: str) -> WorkerPlan:
    """`stack` is a Pulumi stack name, or names.LOCAL for local development."""
    ttls, limiter = settings.ttls, settings.burst_rate_limit
    return WorkerPlan(
        script_name=settings.names(stack).worker_script,
        compatibility_date=settings.compatibility_date,
        cron=settings.cron,
        vars={
            ENVIRONMENT_VAR: stack,
            "SUBSCRIPTION_TTL": str(ttls.subscription),
            "TIERS_MAX_AGE": str(settings.tiers_max_age),
            "USAGE_WINDOW_SECONDS": str(settings.usage_window_seconds),
            "USAGE_RETENTION_DAYS": str(settings.usage_retention_days),
            "ROUTINE_LOG_SAMPLE_RATE": str(settings.request_log.routine_sample_rate),
            "ENTITLEMENTS_COUNT_MAX_AGE": str(settings.entitlements_count_max_age),
            "BURST_RATE_LIMIT_PERIOD": str(limiter.period),
        },
        rate_limit=RateLimit(
            namespace_id=settings.limiter_namespace_id(stack), limit=limiter.limit, period=limiter.period
        ),
        catalog=catalog_document(settings),
        metrics_dataset=settings.names(stack).metrics_dataset if settings.metrics.enabled else None,
    )


def script_bindings(
    plan: WorkerPlan, kv_namespace_id: Any, database_id: Any, clients_value: Any
) -> list[dict[str, Any]]:
    """The script's bindings, with the provider's field names; ids and clients may be Pulumi Outputs.

    The order is fixed (KV, DB, rate limiter, vars, catalog, clients, the Analytics Engine
    dataset): the provider compares the list in order, and an order that varied would show up
    as a diff in every `pulumi preview`.
    """
    limit = plan.rate_limit
    metrics = [{"type": "analytics_engine", "name": METRICS_BINDING, "dataset": plan.metrics_dataset}]
    return [
        {"type": "kv_namespace", "name": KV_BINDING, "namespace_id": kv_namespace_id},
        {"type": "d1", "name": DB_BINDING, "id": database_id},
        {
            "type": "ratelimit",
            "name": RATE_LIMITER_BINDING,
            "namespace_id": limit.namespace_id,
            "simple": {"limit": limit.limit, "period": limit.period},
        },
        *({"type": "plain_text", "name": name, "text": value} for name, value in plan.vars.items()),
        # The json binding's value as JSON text, the provider's type for it; the Worker also takes
        # it as text, should a provider release deliver it to the script as a string.
        {"type": "json", "name": CATALOG_BINDING, "json": canonical_json(plan.catalog)},
        {"type": "secret_text", "name": CLIENTS_SECRET, "text": clients_value},
        *(metrics if plan.metrics_dataset else []),
    ]
