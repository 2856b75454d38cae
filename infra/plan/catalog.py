"""The tier config and feature flags as the Worker reads them: one `json` binding, `CATALOG`.

A binding changes with the script upload, atomically, and a rollback of the script rolls it
back too; the KV seeds (`config:tiers`, `flags:*`) stay for other readers. `version` names
the content, so `GET /health` tells which catalog a Worker serves.
"""

from __future__ import annotations

import hashlib
from typing import Any

from infra.settings import Settings
from infra.worker_contract import canonical_json, flag_document, tiers_document


def catalog_document(settings: Settings) -> dict[str, Any]:
    """{"version", "tiers": name -> tier, "flags": name -> flag, "fallbackTier"}."""
    body = {
        "tiers": tiers_document(settings.tiers),
        "flags": {name: flag_document(flag) for name, flag in sorted(settings.feature_flags.items())},
        "fallbackTier": settings.effective_fallback_tier,
    }
    version = hashlib.sha256(canonical_json(body).encode()).hexdigest()[:12]
    return {"version": version, **body}
