"""One account, one limiter per stack: the `ratelimit` binding's namespace id is account-wide.

Cloudflare: the namespace id is "an identifier you define, that is unique to your Cloudflare
account". Two stacks in one account with the same id share their counters, so dev's test
traffic spends production users' burst budget. Pure: the caller hands in the other stacks'
settings (sources.committed_stack_settings reads them from the committed stack files).
"""

from __future__ import annotations

from collections.abc import Mapping

from infra.settings.errors import SettingIssue
from infra.settings.model import Settings

KEY = "burstRateLimit.namespaceId"


def shared_limiter_issues(stack: str, settings: Settings, others: Mapping[str, Settings]) -> list[SettingIssue]:
    """An issue for each other stack whose limiter namespace is this stack's, in the same account.

    Stacks whose files name two different accounts cannot clash; a stack without an account
    id (it comes from the environment at deploy time) is taken to share the account.
    """
    mine = settings.limiter_namespace_id(stack)
    issues = []
    for other in sorted(others):
        theirs = others[other]
        if other == stack or theirs.limiter_namespace_id(other) != mine:
            continue
        if settings.account_id and theirs.account_id and settings.account_id != theirs.account_id:
            continue
        issues.append(
            SettingIssue(
                key=KEY,
                problem=(
                    f"stack {other!r} (Pulumi.{other}.yaml) uses the same rate-limiter namespace: "
                    "the id is unique per Cloudflare account, so the two stacks would spend each other's burst budget"
                ),
                got=mine,
                fix=(
                    f"remove `{KEY}` from the stack that sets it (each stack then gets its own, derived from "
                    f"appName and the stack name), or give one another number: "
                    f"`pulumi config set --path {KEY} <number> --stack {stack}`"
                ),
            )
        )
    return issues
