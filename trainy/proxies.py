"""What the proxies in front of Trainy say, and how much of it to believe.

Behind the chart's Gateway every request reaches gunicorn from the Gateway's address, so
``REMOTE_ADDR`` alone would make every visitor one client: one attacker who trips the sign-in
rate limit would lock everybody out. The client's address is in ``X-Forwarded-For``, which each
proxy extends with the address it received the request from, but a client can send the header
too, with anything in it. Only the entries appended by proxies we run can be believed, and they
are the rightmost ones. The rule (README, "Security"):

- Neither setting: ``X-Forwarded-For`` is ignored; the client is the peer (``REMOTE_ADDR``).
- ``TRAINY_TRUSTED_PROXIES`` (addresses or CIDR networks of our proxies): if the peer is not one
  of them the header is ignored. Otherwise the header is read from the right, skipping our
  proxies' addresses; the first other address is the client. If an entry is not an address,
  nothing left of it is believed and the last proxy seen is taken as the client. If every entry
  is one of our proxies, the leftmost is the client (a request from inside the network).
- ``TRAINY_PROXY_HOPS`` (how many proxies are in front, each appending one entry): the entry
  that many places from the right is the client. With fewer entries than that (a request that
  did not pass every proxy) or a malformed entry, the client is the peer.

``ClientAddressMiddleware`` works this out once per request and puts the client's address in
``REMOTE_ADDR``, where Django, allauth's and django-ratelimit's rate limits, the session list and
the logs all read it; the peer's own address stays in ``META["TRAINY_PEER_ADDR"]``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

PEER_ADDR = "TRAINY_PEER_ADDR"
# Headers by which a proxy says it forwarded a request.
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-Ip")
# A real chain of proxies is a handful of hops; entries further left are never read, so a
# header stuffed with thousands of entries costs no more than a short one.
MAX_HOPS = 16
# The longest address with a port: "[ffff:…:ffff]:65535" is 47 characters.
MAX_ENTRY = 64

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_address(text: str) -> Address | None:
    """An address as proxies write it in X-Forwarded-For (``192.0.2.1``, ``192.0.2.1:4711``,
    ``2001:db8::1``, ``[2001:db8::1]:4711``), or None for anything else."""
    text = text.strip()
    if not text or len(text) > MAX_ENTRY:
        return None
    port = ""
    if text.startswith("["):
        text, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:]
    elif text.count(":") == 1:
        text, _, port = text.partition(":")
    if port and not (port.isascii() and port.isdigit() and len(port) <= 5):
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 client seen by an IPv6 socket is the IPv4 client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def is_trusted_proxy(address: Address | None, trusted: tuple[str, ...]) -> bool:
    return address is not None and any(address in net for net in _networks(trusted))


def client_address(peer: str, forwarded_for: str, *, trusted: tuple[str, ...], hops: int) -> str:
    """The client's address for a request from ``peer`` with this X-Forwarded-For (see the
    module's docstring for the rule). Never raises: a malformed header falls back to an address
    a proxy of ours vouched for, or to the peer."""
    if not forwarded_for or not (trusted or hops):
        return peer
    entries = forwarded_for.rsplit(",", MAX_HOPS)[::-1]  # nearest proxy's entry first
    if hops:
        if len(entries) < hops:
            return peer
        address = parse_address(entries[hops - 1])
        return str(address) if address is not None else peer
    last = parse_address(peer)
    if not is_trusted_proxy(last, trusted):
        return peer
    for entry in entries[:MAX_HOPS]:
        address = parse_address(entry)
        if address is None:
            break
        last = address
        if not is_trusted_proxy(address, trusted):
            break
    return str(last)


def came_through_proxy(request: HttpRequest) -> bool:
    """Whether the request came through a proxy in front (the Gateway) rather than from inside
    the cluster: it carries a forwarding header, or its peer is one of TRAINY_TRUSTED_PROXIES."""
    if any(header in request.headers for header in PROXY_HEADERS):
        return True
    trusted = tuple(settings.TRAINY_TRUSTED_PROXIES)
    peer = request.META.get(PEER_ADDR, request.META.get("REMOTE_ADDR", ""))
    return bool(trusted) and is_trusted_proxy(parse_address(peer), trusted)


def cluster_only(
    public_setting: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A view for the cluster (probes, scrapers): a request that came through the proxy gets a
    404, as if the path did not exist, unless the setting named ``public_setting`` is on."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not getattr(settings, public_setting) and came_through_proxy(request):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
