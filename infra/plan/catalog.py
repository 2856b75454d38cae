"""The tier config and feature flags as the Worker reads them: one `json` binding, `CATALOG`.

A binding changes with the script upload, atomically, and a rollback of the script rolls it
back too. The same document is seeded into KV as `config:catalog` for other readers
(infra/plan/seeds.py); `version` names the content, so `GET /health` tells which catalog a
Worker serves.
"""

from __future__ import annotations

from typing import Any

from infra import worker_contract
from infra.settings import Settings


def catalog_document(settings: Settings) -> dict[str, Any]:
    """{"version", "tiers": name -> tier, "flags": name -> flag, "fallbackTier"}."""
    return worker_contract.catalog_document(settings.tiers, settings.feature_flags, settings.effective_fallback_tier)
