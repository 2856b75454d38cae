"""docs/configuration.md's recipes: each YAML fragment, read as a stack file is, is valid settings."""

import re

import pytest
import yaml

from infra import paths
from infra.settings import PROJECT, Settings, load_settings
from infra.settings.catalog import DEFAULT_TIERS
from infra.settings.local_data import DEFAULT_DEV_SUBSCRIPTIONS
from infra.settings.sources import plain_config, stack_text_entries

PAGE = paths.ROOT / "docs" / "configuration.md"


def recipes() -> dict[str, str]:
    """Recipe title -> its YAML block, from the page's "## Recipes" section."""
    section = PAGE.read_text().split("\n## Recipes\n", 1)[1].split("\n## ", 1)[0]
    found = {}
    for part in section.split("\n### ")[1:]:
        title, _, body = part.partition("\n")
        blocks = re.findall(r"```yaml\n(.*?)```", body, re.DOTALL)
        if blocks:
            (found[title],) = blocks
    return found


def recipe_settings(title: str) -> Settings:
    text = recipes()[title]
    document = yaml.safe_load(text)
    assert set(document) == {"config"} and all(key.startswith(f"{PROJECT}:") for key in document["config"])
    return load_settings(plain_config(stack_text_entries(text)), stack="dev", require_account=False, env={})


def test_the_page_has_the_recipes():
    assert set(recipes()) == {
        "Add a tier",
        "Add a flag for some tiers",
        "Add a client with chosen scopes",
        "Give a local user a tier",
    }


@pytest.mark.parametrize("title", sorted(recipes()))
def test_each_recipe_is_valid_settings_that_change_something(title):
    assert recipe_settings(title) != load_settings({}, stack="dev", require_account=False, env={})


def test_the_tier_recipe_keeps_the_default_tiers_and_adds_one():
    defaults = [tier.name for tier in DEFAULT_TIERS]
    names = [tier.name for tier in recipe_settings("Add a tier").tiers]
    assert names[: len(defaults)] == defaults and len(names) == len(defaults) + 1


def test_the_flag_client_and_local_user_recipes_do_what_their_titles_say():
    flags = recipe_settings("Add a flag for some tiers").feature_flags
    assert any(flag.enabled and flag.tiers for flag in flags.values())
    (client,) = recipe_settings("Add a client with chosen scopes").clients.values()
    assert client.scopes == ("read",)
    users = recipe_settings("Give a local user a tier").dev_subscriptions
    assert set(users) > set(DEFAULT_DEV_SUBSCRIPTIONS)
