"""The Worker's `observability` block: Workers Logs, traces and Issues, with their sampling.

Every field the Cloudflare API stores for a script is a setting here (or a fixed value in
infra/plan/observability.py), because the provider copies the whole block back on a read:
a field left out would show as a change on every `pulumi refresh` and never settle.

Defaults: everything logged (sampling 1), invocation logs on, traces and Issues off. The
Worker writes one JSON line per request, so with invocation logs a request is two log
events: the guide's 100,000 requests a day are 200,000 events, the Free plan's daily
Workers Logs allowance, and 6 million a month, within Paid's 20 million. Lower
`observability.logs.headSamplingRate` (say 0.1) when traffic outgrows that (docs/configuration.md).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from infra.settings.base import SettingModel


def _rate(default: float = 1.0) -> Any:
    """A head-sampling rate: the share of requests recorded, 0 to 1 (1 = all)."""
    return Field(default=default, ge=0, le=1, allow_inf_nan=False)


class Logs(SettingModel):
    enabled: bool = True
    # The per-request record Cloudflare writes itself (outcome, CPU time, an exception the
    # Worker never logged): what tells a crash from a slow request.
    invocation_logs: bool = True
    head_sampling_rate: float = _rate()
    # Keep logs in Cloudflare's dashboard (off only when they go to an OpenTelemetry destination).
    persist: bool = True


class Traces(SettingModel):
    enabled: bool = False
    head_sampling_rate: float = _rate()
    persist: bool = True


class Issues(SettingModel):
    enabled: bool = False


class Observability(SettingModel):
    enabled: bool = True
    head_sampling_rate: float = _rate()
    logs: Logs = Logs()
    traces: Traces = Traces()
    issues: Issues = Issues()
