"""The address of the client behind a request: the one key of every rate limit and of login throttling.

Behind a reverse proxy REMOTE_ADDR is the proxy, so every citizen would share one bucket; but
X-Forwarded-For is a header anybody can send, so believing it blindly lets an attacker pick a fresh
address per request. The header is therefore read only when the request comes from a proxy listed in
IOC_TRUSTED_PROXIES, and only as far as the chain of trusted proxies goes: walking the hops from the
right (each proxy appends the address it saw), the first hop that is not a trusted proxy is the client.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "0.0.0.0"  # noqa: S104 - a placeholder address, never bound to


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(e, strict=False) for e in entries)


def trusted_networks() -> tuple[Network, ...]:
    """The proxies whose X-Forwarded-For is believed (settings.IOC_TRUSTED_PROXIES, validated at start)."""
    return _networks(tuple(getattr(settings, "IOC_TRUSTED_PROXIES", ()) or ()))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_ip(request: HttpRequest) -> str:
    """The client's IP address; X-Forwarded-For only through proxies listed in IOC_TRUSTED_PROXIES."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    if not _is_ip(remote):
        # Only synthetic requests (tests, force_login) lack an address; one shared bucket for them.
        remote = UNKNOWN
    networks = trusted_networks()
    if not networks or not _is_trusted(remote, networks):
        return remote
    hops = [h.strip() for h in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if h.strip()]
    client = remote
    for hop in reversed(hops):
        if not _is_ip(hop):
            break  # garbage the client wrote itself: stop at the last address a trusted proxy vouched for
        client = hop
        if not _is_trusted(hop, networks):
            break
    return client
