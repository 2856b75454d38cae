"""The configuration keys seeded into KV, as pure data.

One source: the cloud seeds (WorkersKv resources) and the local seeds
(`wrangler kv bulk put --local`) are both made here.
"""

from __future__ import annotations

from infra.settings import Settings
from infra.worker_contract import TIERS_KEY, flag_key, flag_value, tiers_value


def seed_entries(settings: Settings) -> dict[str, str]:
    """Every seeded key and its value, in a stable order (tiers first, then flags by name)."""
    entries = {TIERS_KEY: tiers_value(settings.tiers)}
    for name in sorted(settings.feature_flags):
        entries[flag_key(name)] = flag_value(settings.feature_flags[name])
    return entries
