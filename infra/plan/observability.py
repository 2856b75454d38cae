"""The Worker's `observability` block as the provider stores it, every field declared.

pulumi-cloudflare's `WorkersScript.observability` is optional and not computed upstream, and
a read copies the API's whole block into the state. A field the program leaves out is
therefore a change on every refresh that never settles. So the block names every field of
the SDK's output type (`WorkersScriptObservability` and its logs, traces and issues parts,
checked by tests/test_program.py): the settings give the choices, this module the rest. The
exception is a computed field an account may lack the feature for (SENT_ONLY_WHEN_SET): sent
only when its setting is set.
"""

from __future__ import annotations

from typing import Any

from infra.settings.observability import Observability

# Exporting to OpenTelemetry destinations needs destinations set up in the dashboard first.
NO_DESTINATIONS: list[str] = []
# Fields sent only when a setting asks: `traces.propagation_policy` "requires the trace
# propagation feature to be enabled" on the account, and is Optional+Computed (provider v5.22
# workers_script/schema.go:719-724), so left out it keeps the API's value and shows no diff.
SENT_ONLY_WHEN_SET = ("traces.propagation_policy",)


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
            **({"propagation_policy": traces.propagation_policy} if traces.propagation_policy else {}),
        },
        "issues": {"enabled": settings.issues.enabled},
    }
