"""The Pulumi program: read the stack's settings, build its CacheStack, export its outputs."""

import pulumi

from infra.stack.component import CacheStack, CacheStackArgs
from infra.stack.config import load_stack_settings
from infra.stack.cost_warning import report_expected_cost

run = load_stack_settings()
report_expected_cost(run.settings, run.stack)
args = CacheStackArgs.from_settings(run.settings, run.stack, api_token=run.api_token, service_token=run.service_token)
cache = CacheStack(args.names.component, args)

# Every output the component declares (infra/plan/outputs.py), under its camelCase name.
for name, value in cache.outputs.exports().items():
    pulumi.export(name, value)
