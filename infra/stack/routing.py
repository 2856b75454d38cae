"""Where the deployed Worker answers: its workers.dev address (managed, previews off), the
app's own domain when one is set, and the URL that results (the `workerUrl` output)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

from infra.plan.routing import RoutingPlan, own_domain_url


@dataclass(frozen=True)
class Exposure:
    subdomain: cloudflare.WorkersScriptSubdomain
    own_domain: cloudflare.WorkersCustomDomain | cloudflare.WorkersRoute | None
    url: pulumi.Output[str]


def expose(account_id: str, script: cloudflare.WorkersScript, plan: RoutingPlan, parent: pulumi.Resource) -> Exposure:
    opts = pulumi.ResourceOptions(parent=parent)
    subdomain = cloudflare.WorkersScriptSubdomain(
        "worker-subdomain",
        account_id=account_id,
        script_name=script.script_name,
        enabled=plan.workers_dev,
        previews_enabled=plan.previews,
        opts=opts,
    )
    own: cloudflare.WorkersCustomDomain | cloudflare.WorkersRoute | None = None
    domain = plan.own_domain
    if domain is not None and domain.route_pattern is None:
        own = cloudflare.WorkersCustomDomain(
            "worker-domain",
            account_id=account_id,
            zone_id=domain.zone_id,
            hostname=domain.hostname,
            service=script.script_name,
            # Its create is an upsert by hostname (PUT /workers/domains; terraform-provider-cloudflare
            # v5.22 workers_custom_domain/resource.go:76), so on a replace the new attachment can be
            # the old one: created first, the old one's DELETE would then detach the Worker.
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=True)),
        )
    elif domain is not None:
        own = cloudflare.WorkersRoute(
            "worker-route", zone_id=domain.zone_id, pattern=domain.route_pattern, script=script.script_name, opts=opts
        )
    own_url = own_domain_url(plan)
    url = pulumi.Output.from_input(own_url) if own_url else _workers_dev_address(account_id, script, subdomain, parent)
    return Exposure(subdomain=subdomain, own_domain=own, url=url)


def _workers_dev_address(
    account_id: str,
    script: cloudflare.WorkersScript,
    subdomain: cloudflare.WorkersScriptSubdomain,
    parent: pulumi.Resource,
) -> pulumi.Output[str]:
    """Asked of the API (the Worker's `subdomain.url`, which needs the account's workers.dev
    subdomain). On a first `pulumi preview` the script does not exist yet: the engine then
    leaves the invoke unanswered and the URL unknown until `pulumi up`."""
    found = cloudflare.get_worker_output(
        account_id=account_id,
        worker_id=script.script_name,
        opts=pulumi.InvokeOutputOptions(parent=parent, depends_on=[subdomain]),
    )
    return found.subdomain.url.apply(_address)


def _address(reported: str | None) -> str:
    """The Worker's address as the API reports it, with its scheme."""
    if not reported:
        raise ValueError(
            "the account has no workers.dev subdomain yet: open Workers & Pages in the dashboard once "
            "(it asks for one), or set customDomain"
        )
    address = reported.rstrip("/")
    return address if address.startswith(("https://", "http://")) else f"https://{address}"
