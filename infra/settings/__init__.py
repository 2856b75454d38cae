"""Layer 1: every setting, validated (the model), reported (errors) and loaded (sources).

Imports only the bottom layer (paths, platform, names, worker_contract): never plan, cost,
stack or tools.
"""

from infra.settings.errors import SettingIssue, SettingsError
from infra.settings.model import Settings
from infra.settings.sources import PROJECT, StackFileError, load_settings, parse_config_values, stack_file_settings

__all__ = [
    "PROJECT",
    "SettingIssue",
    "Settings",
    "SettingsError",
    "StackFileError",
    "load_settings",
    "parse_config_values",
    "stack_file_settings",
]
