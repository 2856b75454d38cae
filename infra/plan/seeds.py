"""The configuration keys seeded into KV, as pure data.

One source: the cloud seeds (WorkersKv resources), the local seeds (`wrangler kv bulk put
--local`) and `guruai-cache verify`'s expectations are all made here. A fixed handful of keys
whatever the catalog holds (one resource per key and namespace, one API call each): the tiers
and the whole catalog as one document each; a key per flag only with the deprecated
`legacyFlagKeys`.
"""

from __future__ import annotations

from infra.plan.catalog import catalog_document
from infra.settings import Settings
from infra.worker_contract import CATALOG_KEY, TIERS_KEY, canonical_json, flag_key, flag_value, tiers_value


def seed_entries(settings: Settings) -> dict[str, str]:
    """Every seeded key and its value, in a stable order (tiers, catalog, then legacy flag keys by name)."""
    entries = {
        TIERS_KEY: tiers_value(settings.tiers),
        # The CATALOG binding's own JSON text (infra/plan/worker.py), byte for byte.
        CATALOG_KEY: canonical_json(catalog_document(settings)),
    }
    if settings.legacy_flag_keys:
        for name in sorted(settings.feature_flags):
            entries[flag_key(name)] = flag_value(settings.feature_flags[name])
    return entries
