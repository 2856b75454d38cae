"""The tier config and feature flags as the Worker reads them: one `json` binding, `CATALOG`.

A binding changes with the script upload, atomically, and a rollback of the script rolls it
back too; the KV seeds (`config:tiers`, `flags:*`) stay for other readers. `version` names
the content, so `GET /health` tells which catalog a Worker serves.
"""

from __future__ import annotations

import hashlib
from typing import Any

from infra.settings import Settings
from infra.worker_contract import canonical_json, tiers_document


def catalog_document(settings: Settings) -> dict[str, Any]:
    """{"version", "tiers": name -> tier, "flags": name -> flag, "fallbackTier"}."""
    body = {
        "tiers": tiers_document(settings.tiers),
        "flags": {
            name: flag.model_dump(by_alias=True, mode="json", exclude_none=True)
            for name, flag in sorted(settings.feature_flags.items())
        },
        "fallbackTier": settings.effective_fallback_tier,
    }
    version = hashlib.sha256(canonical_json(body).encode()).hexdigest()[:12]
    return {"version": version, **body}


def features_of(catalog: dict[str, Any], tier: str) -> list[str]:
    """What a user on `tier` has: the tier's features, plus each enabled flag that covers the tier."""
    features = set(catalog["tiers"][tier].get("features", ()))
    for name, flag in catalog["flags"].items():
        if flag.get("enabled", True) and (flag.get("tiers") is None or tier in flag["tiers"]):
            features.add(name)
    return sorted(features)
