"""The Pulumi program: validate the stack's settings, then build its CacheStack."""

import pulumi

from infra import program
from infra.component import CacheStack

run = program.settings_or_exit()
program.report_expected_cost(run.settings)
cache = CacheStack(run.settings, pulumi.get_stack(), api_token=run.api_token, service_token=run.service_token)
for name, value in cache.outputs.items():
    pulumi.export(name, value)
