"""The tier config and feature flags as the Worker reads them: the `json` binding `CATALOG`.

A binding changes with the script upload, atomically, and a rollback of the script rolls it
back too. A variable holds at most 5 KB, so a larger catalog (hundreds of flags) is bound in
parts: `CATALOG` says how many, `CATALOG_PART_1..n` hold its JSON text in pieces, which the
Worker joins once per isolate. The same document is seeded into KV as `config:catalog` for other readers
(infra/plan/seeds.py); `version` names the content, so `GET /health` tells which catalog a
Worker serves.
"""

from __future__ import annotations

from typing import Any

from infra import worker_contract
from infra.plan.bindings import Json, PlainText
from infra.settings import Settings
from infra.worker_contract import CATALOG_BINDING, CATALOG_PART_PREFIX, catalog_parts


def catalog_document(settings: Settings) -> dict[str, Any]:
    """{"version", "tiers": name -> tier, "flags": name -> flag, "fallbackTier"}."""
    return worker_contract.catalog_document(settings.tiers, settings.feature_flags, settings.effective_fallback_tier)


def catalog_bindings(document: dict[str, Any]) -> list[Json | PlainText]:
    """`CATALOG` itself when it fits one variable; else `{"version", "parts"}` and the parts."""
    parts = catalog_parts(document)
    if len(parts) == 1:
        return [Json(CATALOG_BINDING, document)]
    header = Json(CATALOG_BINDING, {"version": document["version"], "parts": len(parts)})
    return [header, *(PlainText(f"{CATALOG_PART_PREFIX}{n}", part) for n, part in enumerate(parts, start=1))]
