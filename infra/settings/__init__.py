"""Layer 1: every setting, validated (the model), reported (errors) and loaded (sources).

Imports only the bottom layer (paths, platform, names, worker_contract): never plan, cost,
stack or tools.
"""

from infra.settings.errors import SettingIssue, SettingsError
from infra.settings.limiter_namespaces import shared_limiter_issues
from infra.settings.model import Settings
from infra.settings.sources import (
    PROJECT,
    StackFileError,
    committed_stack_settings,
    load_settings,
    parse_config_values,
    stack_file_deprecations,
    stack_file_settings,
    stack_file_token_issues,
)

__all__ = [
    "PROJECT",
    "SettingIssue",
    "Settings",
    "SettingsError",
    "StackFileError",
    "committed_stack_settings",
    "load_settings",
    "parse_config_values",
    "shared_limiter_issues",
    "stack_file_deprecations",
    "stack_file_settings",
    "stack_file_token_issues",
]
