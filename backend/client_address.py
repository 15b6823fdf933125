"""Who a request comes from: the one answer the login throttle, the API rate limit and the session records use.

X-Forwarded-For is written by whoever sends the request, so it is believed only from a proxy the operator named
in TRUSTED_PROXIES; each proxy appends the address that connected to it, so the client is the rightmost address
that is not one of those proxies. `python -m backend serve` gives uvicorn the same list, so the address uvicorn
logs and the one the app counts agree.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from litestar import Request

from backend.config import IPNetwork


def client_address(request: Request[Any, Any, Any]) -> str:
    """The address of the person (or program) behind `request`, as far as the app can tell."""
    peer = request.client.host if request.client else ""
    trusted: Sequence[IPNetwork] = request.app.state["settings"].trusted_proxies
    return forwarded_client(peer, request.headers.getall("x-forwarded-for", []), trusted)


def forwarded_client(peer: str, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> str:
    """The rightmost address of the chain (the `forwarded_for` headers, then `peer`) that is not a trusted proxy.

    When every address is a trusted proxy, the leftmost (a proxy calling the app itself). An entry that is not
    an IP address cannot be checked: the trusted proxy that passed it on is taken as the client instead.
    """
    if not _is_trusted(peer, trusted):
        return peer
    hops = [entry.strip() for header in forwarded_for for entry in header.split(",") if entry.strip()]
    client = peer
    for entry in reversed(hops):
        address = _address_of(entry)
        if address is None:
            return client
        client = address
        if not _is_trusted(address, trusted):
            return address
    return client


def is_trusted_proxy(address: str, trusted: Sequence[IPNetwork]) -> bool:
    """True when `address` (the peer that connected) is one of the proxies named in TRUSTED_PROXIES: what it says
    about the request (X-Forwarded-For, X-Request-ID) may be believed."""
    return _is_trusted(address, trusted)


def _is_trusted(address: str, trusted: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def _address_of(entry: str) -> str | None:
    """The IP address of one X-Forwarded-For entry: `203.0.113.7`, `203.0.113.7:51234`, `2001:db8::1` or
    `[2001:db8::1]:51234` (some proxies add the port); None for anything else."""
    if entry.startswith("["):
        entry = entry[1:].partition("]")[0]
    elif entry.count(":") == 1:
        entry = entry.partition(":")[0]
    try:
        return str(ipaddress.ip_address(entry))
    except ValueError:
        return None
