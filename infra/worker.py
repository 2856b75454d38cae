"""The Worker script, bound to the stack's storage, and its cron trigger."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_cloudflare as cloudflare

from infra.bindings import BoundResources, script_bindings
from infra.settings import Settings

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
WORKER_SOURCE = TEMPLATES / "worker.js"
MAIN_MODULE = "worker.js"


@dataclass(frozen=True)
class Worker:
    script: cloudflare.WorkersScript
    cron_trigger: cloudflare.WorkersCronTrigger


def create_worker(
    settings: Settings,
    environment: str,
    script_name: str,
    bound: BoundResources,
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource] | None = None,
) -> Worker:
    script = cloudflare.WorkersScript(
        "worker",
        account_id=settings.account_id,
        script_name=script_name,
        content=WORKER_SOURCE.read_text(),
        main_module=MAIN_MODULE,
        compatibility_date=settings.compatibility_date,
        observability=cloudflare.WorkersScriptObservabilityArgs(enabled=True),
        bindings=script_bindings(settings, environment, bound),
        # The D1 migrations: a new script may read a column they add.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
    )
    cron_trigger = cloudflare.WorkersCronTrigger(
        "worker-cron",
        account_id=settings.account_id,
        script_name=script.script_name,
        # script.script_name is an Output of the script: the trigger waits for the upload.
        schedules=[cloudflare.WorkersCronTriggerScheduleArgs(cron=settings.cron)],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return Worker(script=script, cron_trigger=cron_trigger)
