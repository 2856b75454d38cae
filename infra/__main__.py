"""The Pulumi program: validate the stack's settings, then build its CacheStack."""

import pulumi

from infra import program
from infra.component import CacheStack

settings, service_token = program.settings_or_exit()
program.report_expected_cost(settings)
cache = CacheStack(settings, pulumi.get_stack(), service_token)
for name, value in cache.outputs.items():
    pulumi.export(name, value)
