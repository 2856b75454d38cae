"""Cloudflare resource names, derived from the app name and the stack.

Every name carries the stack so `dev` and `prod` coexist in one account
(KV titles and D1 names must be unique per account). Renaming a D1 database
REPLACES it, so these functions are the one place names are made. Local development
uses LOCAL in place of a stack name (its names never leave the machine).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from infra import platform

LOCAL = "local"

# Lowercase letters, digits and inner hyphens: what Worker script names,
# D1 names and workers.dev labels all accept.
NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


@dataclass(frozen=True)
class ResourceNames:
    """The Cloudflare-side names of one stack's resources."""

    component: str
    kv_namespace: str
    kv_preview_namespace: str
    database: str
    preview_database: str
    worker_script: str
    # The Analytics Engine dataset (a table of the SQL API): an SQL identifier, so underscores.
    metrics_dataset: str

    def problems(self) -> list[str]:
        """Why Cloudflare would reject these names; empty when it would accept them."""
        found = []
        for label, value, ceiling in (
            ("Worker script name", self.worker_script, platform.WORKER_NAME_MAX_CHARS),
            ("D1 database name", self.preview_database, platform.D1_NAME_MAX_CHARS),
            ("KV namespace title", self.kv_preview_namespace, platform.KV_TITLE_MAX_CHARS),
        ):
            if not NAME_PATTERN.match(value):
                found.append(f"{label} {value!r} may hold only lowercase letters, digits and inner hyphens")
            if len(value) > ceiling:
                found.append(f"{label} {value!r} is {len(value)} characters, over Cloudflare's {ceiling}")
        return found


def resource_names(app_name: str, stack: str) -> ResourceNames:
    base = f"{app_name}-{stack}"
    return ResourceNames(
        component=f"{base}-cache",
        kv_namespace=f"{app_name}-cache-{stack}",
        kv_preview_namespace=f"{app_name}-cache-{stack}-preview",
        database=f"{app_name}-db-{stack}",
        preview_database=f"{app_name}-db-{stack}-preview",
        worker_script=f"{app_name}-worker-{stack}",
        metrics_dataset=f"{app_name}_requests_{stack}".replace("-", "_"),
    )
