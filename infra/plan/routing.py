"""Where the deployed Worker answers, as plain data: its workers.dev address and the app's own.

An upload through the API (unlike `wrangler deploy`) does not turn the workers.dev address
on, so the stack manages it explicitly (`WorkersScriptSubdomain`, preview URLs off: every
version would otherwise get a public address of its own). The URL users and `verify` call
is the app's own domain when one is set, else the workers.dev address.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.settings import Settings


@dataclass(frozen=True)
class OwnDomain:
    zone_id: str
    hostname: str
    route_pattern: str | None = None  # None: a Custom Domain; else a route on the zone


@dataclass(frozen=True)
class RoutingPlan:
    workers_dev: bool
    previews: bool
    own_domain: OwnDomain | None


def routing_plan(settings: Settings) -> RoutingPlan:
    own: OwnDomain | None = None
    if settings.custom_domain is not None:
        own = OwnDomain(zone_id=settings.custom_domain.zone_id, hostname=settings.custom_domain.hostname)
    elif settings.route is not None:
        own = OwnDomain(
            zone_id=settings.route.zone_id, hostname=settings.route.hostname, route_pattern=settings.route.pattern
        )
    return RoutingPlan(workers_dev=settings.workers_dev, previews=False, own_domain=own)


def own_domain_url(plan: RoutingPlan) -> str | None:
    """https://<hostname> of the app's own domain, or None when the Worker has none."""
    return f"https://{plan.own_domain.hostname}" if plan.own_domain else None


def workers_dev_url(script_name: str, account_subdomain: str) -> str:
    """The script's workers.dev address, from the account's subdomain (`<name>.workers.dev`)."""
    return f"https://{script_name}.{account_subdomain.removesuffix('.workers.dev')}.workers.dev"
