"""What the Worker tells about itself: Cloudflare's `observability` block (Workers Logs,
traces and Issues, with their sampling), and beside it the Worker's own choices: which of
its log lines it writes (`requestLog`) and its Analytics Engine data points (`metrics`).

Every field the Cloudflare API stores for a script is a setting of `Observability` (or a
fixed value in infra/plan/observability.py), because the provider copies the whole block back
on a read: a field left out would show as a change on every `pulumi refresh` and never settle.

Defaults: Cloudflare records every request (sampling 1) with its invocation log; traces and
Issues are off. The Worker writes its own line for every miss, error, denial and write and
for 1 % of routine answers (cache hits, /health, /tiers, a counted use), and counts every
request in Analytics Engine. At the guide's traffic (100,000 lookups a day, 90 % hits) that
is about 111,000 Workers Logs events a day where a line per request made 200,000, the Free
plan's whole allowance (`guruai-cache estimate` prices them; docs/observability.md).
"""

from __future__ import annotations

from typing import Any, Literal

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
    # How inbound trace context (traceparent) is handled. Unset: not sent, Cloudflare keeps its own
    # ("authenticated"); setting it needs the account's trace propagation feature, which most lack.
    propagation_policy: Literal["authenticated", "accept"] | None = None


class Issues(SettingModel):
    enabled: bool = False


# 1 %: routine answers are already counted, each one, by their Analytics Engine data point, so
# their line serves only as a sample of what a routine request looks like. At 1 % the guide's
# 90,000 hits a day write 900 lines instead of 90,000 (-89,100 events: 45 % of the Free plan's
# daily Workers Logs allowance; on Paid, 0.99 events less per hit, $0.59 per million hits once
# past the 20 million events included), and still one a minute at 100 hits a minute. Misses,
# errors, denials and writes are always logged whatever the rate. (Also the Worker's own
# default, should the variable be missing.)
ROUTINE_LOG_SAMPLE_RATE = 0.01


class RequestLog(SettingModel):
    """The Worker's own JSON log lines (beside Cloudflare's invocation log): one for every miss,
    error, denial and write, and for this share of routine answers."""

    # The share of routine answers (worker_contract.ROUTINE_OUTCOMES) that get a line: 1 logs
    # every request, 0 only misses, errors, denials and writes.
    routine_sample_rate: float = _rate(ROUTINE_LOG_SAMPLE_RATE)


class Metrics(SettingModel):
    """Workers Analytics Engine: one data point per request (infra/worker_contract.py says
    which fields), in a dataset per stack, read by `guruai-cache metrics`."""

    enabled: bool = True


class Observability(SettingModel):
    enabled: bool = True
    head_sampling_rate: float = _rate()
    logs: Logs = Logs()
    traces: Traces = Traces()
    issues: Issues = Issues()
