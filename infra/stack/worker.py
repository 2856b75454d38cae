"""The Worker script, bound to the stack's storage, and its cron trigger."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_cloudflare as cloudflare

from infra.paths import WORKER_BUNDLE
from infra.plan.bindings import ScriptInputs
from infra.plan.worker import MAIN_MODULE, WorkerPlan, script_bindings
from infra.worker_contract import CLIENTS_SECRET


@dataclass(frozen=True)
class Worker:
    script: cloudflare.WorkersScript
    cron_trigger: cloudflare.WorkersCronTrigger


def _binding_args(binding: dict[str, Any]) -> cloudflare.WorkersScriptBindingArgs:
    fields = dict(binding)
    if "simple" in fields:
        fields["simple"] = cloudflare.WorkersScriptBindingSimpleArgs(**fields["simple"])
    return cloudflare.WorkersScriptBindingArgs(**fields)


def observability_args(block: dict[str, Any]) -> cloudflare.WorkersScriptObservabilityArgs:
    """infra/plan/observability.py's block as the provider's argument classes."""
    fields = dict(block)
    fields["logs"] = cloudflare.WorkersScriptObservabilityLogsArgs(**fields["logs"])
    fields["traces"] = cloudflare.WorkersScriptObservabilityTracesArgs(**fields["traces"])
    fields["issues"] = cloudflare.WorkersScriptObservabilityIssuesArgs(**fields["issues"])
    return cloudflare.WorkersScriptObservabilityArgs(**fields)


def create_worker(
    account_id: str,
    plan: WorkerPlan,
    *,
    resource_ids: Mapping[str, pulumi.Input[str]],
    clients_value: pulumi.Input[str],
    observability: dict[str, Any],
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
) -> Worker:
    """`resource_ids`: the id of each resource a binding names, by binding name (Storage.binding_ids)."""
    inputs = ScriptInputs({**resource_ids, CLIENTS_SECRET: pulumi.Output.secret(clients_value)})
    bindings = script_bindings(plan, inputs)
    script = cloudflare.WorkersScript(
        "worker",
        account_id=account_id,
        script_name=plan.script_name,
        # The bundle `guruai-cache worker build` made with the pinned wrangler: the same bytes
        # `wrangler dev` runs locally (wrangler.toml: no_bundle). The provider uploads `content`
        # as one multipart part named `main_module`, type application/javascript+module.
        content=WORKER_BUNDLE.read_text(),
        main_module=MAIN_MODULE,
        compatibility_date=plan.compatibility_date,
        observability=observability_args(observability),
        bindings=[_binding_args(binding) for binding in bindings],
        # The D1 migrations: a new script may read a column they add.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )
    cron_trigger = cloudflare.WorkersCronTrigger(
        "worker-cron",
        account_id=account_id,
        # An Output of the script: the trigger waits for the upload.
        script_name=script.script_name,
        schedules=[cloudflare.WorkersCronTriggerScheduleArgs(cron=plan.cron)],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return Worker(script=script, cron_trigger=cron_trigger)
