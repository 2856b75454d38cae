"""The configuration keys seeded into KV, as pure data.

One source of truth: the cloud seeds (WorkersKv resources) and the local
seeds (`wrangler kv bulk put --local`) are both made here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

TIERS_KEY = "config:tiers"
FLAG_KEY_PREFIX = "flags:"


class _Dumpable(Protocol):
    name: str

    def model_dump(self, **kwargs: Any) -> dict[str, Any]: ...


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces: the provider compares strings, so any other form never settles."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def flag_key(flag_name: str) -> str:
    return f"{FLAG_KEY_PREFIX}{flag_name}"


def tiers_document(tiers: Iterable[_Dumpable]) -> dict[str, dict[str, Any]]:
    """`config:tiers` as the Worker reads it: tier name -> tier."""
    return {tier.name: tier.model_dump(by_alias=True, mode="json") for tier in tiers}


def tiers_value(tiers: Iterable[_Dumpable]) -> str:
    return canonical_json(tiers_document(tiers))


def flag_value(flag: Any) -> str:
    return canonical_json(flag.model_dump(by_alias=True, mode="json", exclude_none=True))


def seed_entries(tiers: Iterable[_Dumpable], flags: Mapping[str, Any]) -> dict[str, str]:
    """Every seeded key and its value, in a stable order (tiers first, then flags by name)."""
    entries = {TIERS_KEY: tiers_value(tiers)}
    for name in sorted(flags):
        entries[flag_key(name)] = flag_value(flags[name])
    return entries
