"""docs/configuration.md's settings table against the settings model: every setting has a row, and
each default the table spells as a plain value is the model's own (so a setting added, or a default
changed, without its row fails here)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from infra import paths
from infra.settings import load_settings
from infra.settings.base import SettingModel, snake_case

PAGE = paths.ROOT / "docs" / "configuration.md"
# Settings the table describes in words of their own (not a leaf default), by their key prefix.
COMPOUND = ("tiers", "featureFlags", "devSubscriptions", "clients")


def table_rows() -> dict[str, str]:
    """Each documented key -> its default cell (`a.b` / `.c` rows split into `a.b`, `a.c`)."""
    section = PAGE.read_text().split("| key | default | what it does |", 1)[1].split("\n\n", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines()[1:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) < 3:
            continue
        keys = re.findall(r"`([^`]+)`", cells[0].split("(")[0])
        defaults = [d.strip() for d in cells[1].split(" / ")] if len(keys) > 1 else [cells[1]]
        prefix = ""
        for index, key in enumerate(keys):
            full = prefix + key if key.startswith(".") else key
            prefix = full.rsplit(".", 1)[0] if "." in full else ""
            rows[full] = defaults[index] if index < len(defaults) else ""
    return rows


def leaf_settings(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every setting's key, nested models walked (as `pulumi config set --path` spells them)."""
    found = []
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        inner = field.annotation
        candidates = [
            a for a in getattr(inner, "__args__", (inner,)) if isinstance(a, type) and issubclass(a, SettingModel)
        ]
        if candidates and not key.startswith(COMPOUND):
            found += leaf_settings(candidates[0], key + ".")
        else:
            found.append(key)
    return found


def default_of(key: str) -> Any:
    value: Any = load_settings({}, stack="dev", require_account=False)
    for part in key.split("."):
        value = getattr(value, snake_case(part))
    return value


def test_every_setting_has_a_row():
    from infra.settings import Settings

    documented = table_rows()
    deprecated = {"ttls.tierConfig", "ttls.rateLimit", "ttls.usage"}  # in the deprecated table below it
    missing = [key for key in leaf_settings(Settings) if key not in documented and key not in deprecated]
    assert missing == []


def test_each_plain_default_in_the_table_is_the_models():
    checked = 0
    for key, cell in table_rows().items():
        plain = re.fullmatch(r"`([^`]+)`", cell)
        if not plain or key.startswith(COMPOUND) or key in ("serviceToken",):
            continue
        expected = default_of(key)
        text = str(expected).lower() if isinstance(expected, bool) else str(expected)
        if isinstance(expected, float) and expected.is_integer():
            text = str(int(expected))
        assert plain.group(1) == text, f"{key}: the table says {plain.group(1)}, the model {text}"
        checked += 1
    assert checked > 30
