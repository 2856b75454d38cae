"""At `pulumi preview`/`up`: a warning when the stack's expected traffic crosses a free-plan daily limit."""

from __future__ import annotations

import pulumi

from infra.cost.estimate import estimate
from infra.cost.free_plan import capacity_warning, preview_warning
from infra.cost.operations import OperationsTableError
from infra.cost.verdict import verdict_lines
from infra.settings import Settings


def report_expected_cost(settings: Settings, stack: str) -> None:
    """On Workers Paid (`traffic.workersPlan: paid`) say what the traffic costs instead. The
    estimate never stops a deployment: a missing operations table is itself only a warning."""
    try:
        result = estimate(settings)
    except OperationsTableError as error:
        pulumi.log.warn(f"cost estimate skipped: {error}")
        return
    full = capacity_warning(result, stack)
    if full:
        pulumi.log.warn(full)
    if settings.traffic.workers_plan == "paid":
        pulumi.log.info(
            f"stack {stack!r}, expected traffic: "
            + "; ".join(verdict_lines(result))
            + f" (`guruai-cache estimate --stack {stack}`)"
        )
        return
    warning = preview_warning(result, stack)
    if warning:
        pulumi.log.warn(warning)
