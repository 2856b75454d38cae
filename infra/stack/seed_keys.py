"""The seeded configuration keys in a KV namespace: one WorkersKv resource per key."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_cloudflare as cloudflare


def seed_namespace(
    prefix: str,
    account_id: str,
    namespace: cloudflare.WorkersKvNamespace,
    entries: Mapping[str, str],
    parent: pulumi.Resource,
    *,
    production: bool = False,
) -> list[cloudflare.WorkersKv]:
    """No expiration: configuration keys live until the stack changes them.

    In production they are protected and retained: other readers (the app, dashboards,
    scripts) rely on them, so neither `pulumi destroy --exclude-protected` nor a setting
    dropped by mistake may delete one (docs/deploying.md says how to retire the per-flag keys).
    """
    opts = pulumi.ResourceOptions(parent=parent, protect=production, retain_on_delete=production)
    return [
        cloudflare.WorkersKv(
            f"{prefix}-{key}", account_id=account_id, namespace_id=namespace.id, key_name=key, value=value, opts=opts
        )
        for key, value in entries.items()
    ]
