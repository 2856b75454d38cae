"""Where the Worker answers: its workers.dev address, and optionally the app's own domain.

Production traffic belongs on the app's domain: a Custom Domain (Cloudflare creates the DNS
record and the certificate) or a route on a zone the account already proxies. Either needs
the zone's id; a WAF rate-limiting rule on that zone can then guard the Worker's routes.
"""

from __future__ import annotations

import re

from pydantic import field_validator

from infra.settings.base import SettingModel, problem

ZONE_ID = re.compile(r"^[0-9a-f]{32}$")
HOST_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
ZONE_ID_FIX = "copy it from the dashboard: the zone's Overview page, API section, `Zone ID`"


def hostname_problem(value: str) -> str | None:
    """Why `value` is not a hostname a Worker can answer on; None when it is one."""
    if "://" in value or "/" in value:
        return "a hostname only, without scheme or path"
    if "*" in value:
        return "no wildcards: the Worker needs one address it really answers on"
    labels = value.split(".")
    if len(labels) < 2 or len(value) > 253 or not all(HOST_LABEL.match(label) for label in labels):
        return "not a lowercase DNS hostname such as cache.example.com"
    return None


def _zone_id(value: str) -> str:
    if not ZONE_ID.match(value):
        raise problem("not a zone id (32 lowercase hex characters)", ZONE_ID_FIX)
    return value


class CustomDomain(SettingModel):
    """A Workers Custom Domain: the whole hostname serves the Worker."""

    hostname: str
    zone_id: str

    @field_validator("hostname")
    @classmethod
    def _hostname(cls, value: str) -> str:
        found = hostname_problem(value)
        if found:
            raise problem(found, "use e.g. cache.example.com, a name in the zone `zoneId` names")
        return value

    _zone = field_validator("zone_id")(_zone_id)


class Route(SettingModel):
    """A Workers route on a proxied zone: `pattern` must cover the whole host (`<host>/*`),
    because the Worker's paths (/health, /subscriptions/...) start at the root."""

    pattern: str
    zone_id: str

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        host, sep, path = value.partition("/")
        fix = "use `<host>/*`, e.g. api.example.com/*"
        if value.startswith(("http://", "https://")):
            raise problem("no scheme: Workers routes match both http and https", fix)
        if not sep or path != "*":
            raise problem("the route must send the whole host to the Worker (its paths start at /)", fix)
        found = hostname_problem(host)
        if found:
            raise problem(f"host: {found}", fix)
        return value

    _zone = field_validator("zone_id")(_zone_id)

    @property
    def hostname(self) -> str:
        return self.pattern.partition("/")[0]
