"""The Worker's base URL: `https://`, or plain `http://` only to this machine (a local Worker).

Every call but /health carries a bearer token; over plain HTTP to another host anyone on the
path could read it and call the Worker as that client.
"""

from __future__ import annotations

import ipaddress

import httpx

# The path the Worker's API is under (worker/openapi.yaml's servers end in it; a test holds them equal).
API_BASE_PATH = "/v1"


def api_root(base_url: str) -> str:
    """Where the calls go for a Worker's base URL: under /v1 (a URL that ends in /v1 already is kept)."""
    return base_url if base_url.endswith(API_BASE_PATH) else base_url + API_BASE_PATH


class MissingURL(ValueError):
    """No base URL given, and no GURUAI_CACHE_URL in the environment."""


class InsecureURL(ValueError):
    """A base URL the client refuses to send a token to (plain HTTP to another machine, or no HTTP at all)."""


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1, `localhost`: names and addresses that never leave this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_base_url(base_url: str) -> str:
    """The base URL without its trailing slash, or InsecureURL naming the URL and the fix."""
    url = httpx.URL(base_url)
    if url.scheme == "https" and url.host:
        return base_url.rstrip("/")
    if url.scheme == "http" and is_loopback(url.host):
        return base_url.rstrip("/")
    if url.scheme == "http":
        raise InsecureURL(
            f"refusing {base_url!r}: plain http:// would send the bearer token unencrypted to {url.host!r}; "
            f"use {str(url.copy_with(scheme='https')).rstrip('/')!r} "
            "(plain http:// is only for a local Worker: 127.0.0.1, localhost, [::1])"
        )
    raise InsecureURL(f"refusing {base_url!r}: the Worker's base URL starts with https:// (or http:// on this machine)")
