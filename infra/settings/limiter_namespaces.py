"""One account, one namespace per limiter: the `ratelimit` binding's namespace id is account-wide.

Cloudflare: the namespace id is "an identifier you define, that is unique to your Cloudflare
account". Each stack has two limiters (burstRateLimit, clientRateLimit); two of them in one
account with the same id share their counters, so dev's test traffic spends production users'
budget, or one limiter's spends the other's. Pure: the caller hands in the other stacks'
settings (sources.committed_stack_settings reads them from the committed stack files).
"""

from __future__ import annotations

from collections.abc import Mapping

from infra.settings.errors import SettingIssue
from infra.settings.model import Settings

KEY = "burstRateLimit.namespaceId"
CLIENT_KEY = "clientRateLimit.namespaceId"


def limiter_namespaces(stack: str, settings: Settings) -> dict[str, str]:
    """Each limiter's setting key -> its namespace id, for one stack."""
    return {KEY: settings.limiter_namespace_id(stack), CLIENT_KEY: settings.client_limiter_namespace_id(stack)}


def shared_limiter_issues(stack: str, settings: Settings, others: Mapping[str, Settings]) -> list[SettingIssue]:
    """An issue for each limiter of this stack whose namespace is another limiter's, of this
    stack or of another in the same account.

    Stacks whose files name two different accounts cannot clash; a stack without an account
    id (it comes from the environment at deploy time) is taken to share the account.
    """
    mine = limiter_namespaces(stack, settings)
    issues = []
    if mine[KEY] == mine[CLIENT_KEY]:
        issues.append(
            SettingIssue(
                key=CLIENT_KEY,
                problem="the same namespace as burstRateLimit's: the two limiters would count each other's requests",
                got=mine[CLIENT_KEY],
                fix=f"remove `{CLIENT_KEY}` (each limiter then gets its own, derived), or give it another number",
            )
        )
    for other in sorted(others):
        theirs = others[other]
        if other == stack or (settings.account_id and theirs.account_id and settings.account_id != theirs.account_id):
            continue
        their_ids = limiter_namespaces(other, theirs)
        for key, namespace in mine.items():
            clashes = [their_key for their_key, theirs_id in their_ids.items() if theirs_id == namespace]
            if not clashes:
                continue
            which = "the same rate-limiter namespace" if clashes == [key] else f"the same namespace for {clashes[0]}"
            issues.append(
                SettingIssue(
                    key=key,
                    problem=(
                        f"stack {other!r} (Pulumi.{other}.yaml) uses {which}: the id is unique per Cloudflare "
                        "account, so the two stacks would spend each other's budget"
                    ),
                    got=namespace,
                    fix=(
                        f"remove `{key}` from the stack that sets it (each stack then gets its own, derived from "
                        f"appName and the stack name), or give one another number: "
                        f"`pulumi config set --path {key} <number> --stack {stack}`"
                    ),
                )
            )
    return issues
