"""The Worker's `observability` block as the provider stores it, every field declared.

pulumi-cloudflare's `WorkersScript.observability` is optional and not computed upstream, and
a read copies the API's whole block into the state. A field the program leaves out is
therefore a change on every refresh that never settles. So the block names every field of
the SDK's output type (`WorkersScriptObservability` and its logs, traces and issues parts,
checked by tests/test_program.py): the settings give the choices, this module the rest.
"""

from __future__ import annotations

from typing import Any

from infra.settings.observability import Observability

# Exporting to OpenTelemetry destinations needs destinations set up in the dashboard first.
NO_DESTINATIONS: list[str] = []
# Cloudflare's default: inbound trace context is honoured only with a valid trace auth token.
TRACE_PROPAGATION_POLICY = "authenticated"


def observability_block(settings: Observability) -> dict[str, Any]:
    """The whole block, in the provider's (snake_case) field names."""
    logs, traces = settings.logs, settings.traces
    return {
        "enabled": settings.enabled,
        "head_sampling_rate": settings.head_sampling_rate,
        "logs": {
            "enabled": logs.enabled,
            "invocation_logs": logs.invocation_logs,
            "head_sampling_rate": logs.head_sampling_rate,
            "persist": logs.persist,
            "destinations": list(NO_DESTINATIONS),
        },
        "traces": {
            "enabled": traces.enabled,
            "head_sampling_rate": traces.head_sampling_rate,
            "persist": traces.persist,
            "destinations": list(NO_DESTINATIONS),
            "propagation_policy": TRACE_PROPAGATION_POLICY,
        },
        "issues": {"enabled": settings.issues.enabled},
    }
