"""The guruai-cache guardrails: a CrossGuard policy pack, run by `pulumi preview/up --policy-pack policy`.

This file only builds the pack (PolicyPack starts a gRPC server and never returns);
the rules are pure functions in guardrails.py, unit-tested without it.
"""

import datetime as dt

import guardrails
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)


def _resource(args) -> guardrails.Resource:
    return guardrails.Resource(
        type=args.resource_type,
        name=args.name,
        props=args.props,
        protect=args.opts.protect,
        # The SDK's PolicyResourceOptions has no retain_on_delete yet (the engine does not send
        # it): read it when a later SDK does, so the live check gets it without a change here.
        retain_on_delete=getattr(args.opts, "retain_on_delete", None),
    )


def _reporting(check):
    """Adapt a pure rule (resource, config) -> messages to the SDK's validate(args, report_violation)."""

    def validate(args: ResourceValidationArgs, report_violation) -> None:
        for message in check(_resource(args), args.urn, args.get_config()):
            report_violation(message)

    return validate


def _preview_storage(args: StackValidationArgs, report_violation) -> None:
    suffix = args.get_config().get("previewSuffix", guardrails.DEFAULT_PREVIEW_SUFFIX)
    for message in guardrails.preview_storage_bound([_resource(r) for r in args.resources], suffix):
        report_violation(message)


PolicyPack(
    name="guruai-cache-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="production-storage-protected",
            description="KV namespaces, D1 databases and seeded keys of production stacks are protected and retained on delete.",
            validate=_reporting(
                lambda resource, urn, config: guardrails.unguarded_stateful(
                    resource,
                    guardrails.stack_of(urn),
                    config.get("productionStacks", guardrails.DEFAULT_PRODUCTION_STACKS),
                )
            ),
            config_schema=PolicyConfigSchema(
                properties={
                    "productionStacks": {
                        "type": "array",
                        "items": {"type": "string"},
                        "default": list(guardrails.DEFAULT_PRODUCTION_STACKS),
                    }
                }
            ),
        ),
        StackValidationPolicy(
            name="no-preview-storage-in-production-bindings",
            description="A Worker never binds the preview KV namespace or preview D1 database.",
            validate=_preview_storage,
            config_schema=PolicyConfigSchema(
                properties={"previewSuffix": {"type": "string", "default": guardrails.DEFAULT_PREVIEW_SUFFIX}}
            ),
        ),
        ResourceValidationPolicy(
            name="no-secret-in-plain-text-binding",
            description="No plain_text binding whose name says it holds a secret (TOKEN, SECRET, KEY, PASSWORD...).",
            validate=_reporting(lambda resource, urn, config: guardrails.secret_in_plain_text(resource)),
        ),
        ResourceValidationPolicy(
            name="kv-entries-within-limits",
            description="Seeded KV keys, values and metadata within Workers KV's limits.",
            validate=_reporting(lambda resource, urn, config: guardrails.kv_entry_problems(resource)),
        ),
        ResourceValidationPolicy(
            name="compatibility-date-recent",
            description="The Worker's compatibility date is not older than maxAgeDays.",
            enforcement_level=EnforcementLevel.ADVISORY,
            validate=_reporting(
                lambda resource, urn, config: guardrails.stale_compatibility_date(
                    resource,
                    int(config.get("maxAgeDays", guardrails.DEFAULT_MAX_COMPATIBILITY_AGE_DAYS)),
                    dt.date.today(),
                )
            ),
            config_schema=PolicyConfigSchema(
                properties={
                    "maxAgeDays": {
                        "type": "integer",
                        "minimum": 1,
                        "default": guardrails.DEFAULT_MAX_COMPATIBILITY_AGE_DAYS,
                    }
                }
            ),
        ),
    ],
)
