"""Fetching outside URLs: the one module that makes HTTP requests to an address someone gave
Trainy (a GTFS feed to import, a GTFS-Realtime source, a traveller's webhook endpoint).

Such a URL is fetched by a worker inside the cluster, where it could reach what the outside
cannot: the cluster's own services, or the cloud's metadata service at 169.254.169.254. So
every request, the first and each redirect, must

- be http or https (a redirect to ``file:`` or ``ftp:`` is refused, whatever the address), and
- connect to a public address: requests-hardened resolves the host, refuses a loopback,
  private, link-local, multicast, shared or reserved address before any connection, and then
  connects to the very address it checked, so a DNS answer that changes between the check and
  the connection (DNS rebinding) cannot slip through.

``TRAINY_IMPORT_ALLOW_PRIVATE=true`` lifts the address rule (a feed mirror inside the cluster;
the tests' servers on 127.0.0.1); the scheme rule and the redirect limit stay.

Webhook deliveries (``post``) follow the same address rule, lifted by their own setting,
``TRAINY_WEBHOOKS_ALLOW_PRIVATE``: an admin may trust feed mirrors inside the cluster without
letting every traveller's endpoint reach it. A delivery follows no redirect (a 3xx is an answer
like any other, and a failed delivery): re-sending a signed body elsewhere is the receiver's
business, not ours.

Redirects are followed here, one request at a time, rather than by requests: requests reads a
redirect's whole body into memory (however large a hostile server makes it), and its errors
would not say which hop was refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from requests.utils import requote_uri
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import InvalidIPAddress

SCHEMES = ("http", "https")
MAX_REDIRECTS = 5
# Seconds to connect, and to wait for each next piece of the answer (not for the whole of it:
# a national feed takes minutes to download; a task's time limit bounds the whole).
TIMEOUT_S = (10, 30)
CHUNK = 1 << 20
USER_AGENT = "Trainy (GTFS fetch)"
WEBHOOK_USER_AGENT = "Trainy-Webhooks"
# The most of a receiver's answer read (its status is what counts; the start of the body goes
# into the delivery's error to help its owner).
ANSWER_BYTES = 1024


class FetchError(Exception):
    """The URL was not fetched. The message says why (and names the redirect refused, if it
    was one); callers put the URL they were given in front of it."""


def size_text(count: int) -> str:
    """A byte count as a person reads it: "512.0 MB" (1024-based, as the admin shows sizes)."""
    return str(filesizeformat(count)).replace("\xa0", " ")


def read(url: str, *, max_bytes: int, limit: str, allow_loopback: bool = False) -> bytes:
    """The body of ``url`` (fetched under the rules above), at most ``max_bytes`` long.

    ``limit`` names the limit in the message of a refusal (a setting's name, say).
    ``allow_loopback`` admits 127.0.0.1 and ::1 even while private addresses are refused: for a
    source on this very machine. Raises FetchError.
    """
    body = bytearray()
    with _get(url, allow_loopback=allow_loopback) as response:
        for chunk in _chunks(response, max_bytes=max_bytes, limit=limit):
            body += chunk
    return bytes(body)


def download(
    url: str,
    target: Path,
    *,
    max_bytes: int,
    limit: str,
    on_start: Callable[[int], None] | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> None:
    """Write the body of ``url`` into ``target`` as it arrives, stopping as soon as it passes
    ``max_bytes`` (and before reading anything when the server announces more).

    ``on_start`` gets the announced size (0 when the server does not say), ``on_chunk`` each
    chunk's length. Raises FetchError; ``target`` may then hold a part of the body.
    """
    with _get(url) as response:
        announced = _announced_size(response)
        if on_start is not None:
            on_start(announced)
        with target.open("wb") as handle:
            for chunk in _chunks(response, max_bytes=max_bytes, limit=limit):
                handle.write(chunk)
                if on_chunk is not None:
                    on_chunk(len(chunk))


def _announced_size(response: requests.Response) -> int:
    try:
        return max(int(response.headers.get("Content-Length") or 0), 0)
    except ValueError:
        return 0


def _chunks(response: requests.Response, *, max_bytes: int, limit: str) -> Iterator[bytes]:
    allowed = f"the limit of {size_text(max_bytes)} ({limit})"
    announced = _announced_size(response)
    if announced > max_bytes:
        raise FetchError(f"refused: the file is {size_text(announced)}, more than {allowed}")
    received = 0
    try:
        for chunk in response.iter_content(CHUNK):
            received += len(chunk)
            if received > max_bytes:
                raise FetchError(f"refused: the file is larger than {allowed}")
            yield chunk
    except requests.RequestException as exc:
        raise FetchError(f"download failed: {exc}") from None


@contextmanager
def _get(url: str, *, allow_loopback: bool = False) -> Iterator[requests.Response]:
    """The answer to GET ``url`` after its redirects, its body not read yet. Raises FetchError
    for a refused URL or redirect, a server that cannot be reached, or an HTTP error."""
    session = HTTPSession(
        Config(
            ip_filter_enable=not settings.TRAINY_IMPORT_ALLOW_PRIVATE,
            ip_filter_allow_loopback_ips=allow_loopback,
            never_redirect=True,
            default_timeout=TIMEOUT_S,
            user_agent_override=USER_AGENT,
        )
    )
    with session:
        response = _send(session, url, hop=None)
        try:
            redirects = 0
            while response.is_redirect:
                if redirects == MAX_REDIRECTS:
                    raise FetchError(f"refused: more than {MAX_REDIRECTS} redirects")
                redirects += 1
                target = session.get_redirect_target(response) or ""
                # Not read: the body of a redirect says nothing we need, and could be endless.
                response.close()
                url = requote_uri(urljoin(response.url, target))
                response = _send(session, url, hop=url)
            try:
                response.raise_for_status()
            except requests.HTTPError as exc:
                raise FetchError(f"download failed: {exc}") from None
            yield response
        finally:
            response.close()


def _send(session: requests.Session, url: str, *, hop: str | None) -> requests.Response:
    """One request, not following its redirect. ``hop`` is the URL a redirect led to."""
    where = f"redirected to {hop}: " if hop else ""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise FetchError(f"refused: {where}not a URL ({exc})") from None
    if parts.scheme.lower() not in SCHEMES:
        raise FetchError(
            f"refused: {where}only http and https URLs are fetched, not {parts.scheme or 'this'}"
        )
    try:
        request = session.prepare_request(requests.Request("GET", url))
        environment = session.merge_environment_settings(url, {}, True, None, None)
        # The adapter rather than session.send: see the module's docstring on redirects.
        return session.get_adapter(url).send(
            request,
            stream=True,
            timeout=TIMEOUT_S,
            verify=environment["verify"] if environment["verify"] is not None else True,
            cert=environment["cert"],
            proxies=environment["proxies"],
        )
    except InvalidIPAddress as exc:
        address, host = exc.args[0], parts.hostname
        named = str(address) if host == str(address) else f"{host} is at {address}, which"
        raise FetchError(
            f"refused: {where}{named} is {_kind(address)}; only public addresses are fetched "
            "unless TRAINY_IMPORT_ALLOW_PRIVATE is true"
        ) from None
    except requests.RequestException as exc:
        raise FetchError(f"{where}download failed: {exc}") from None


def _kind(address: IPv4Address | IPv6Address) -> str:
    for kind in ("loopback", "link_local", "multicast", "reserved", "private"):
        if getattr(address, f"is_{kind}", False):
            return f"a {kind.replace('_', '-')} address"
    return "not a public address"


@dataclass(frozen=True)
class Answer:
    status: int
    # The start of the body, decoded leniently (shown to the endpoint's owner on failure).
    text: str
    duration_ms: int


def post(
    url: str, *, body: bytes, headers: Mapping[str, str], timeout_s: tuple[float, float]
) -> Answer:
    """POST ``body`` to ``url`` once, under the address rule of the module's docstring
    (lifted by TRAINY_WEBHOOKS_ALLOW_PRIVATE), following no redirect. ``timeout_s`` is (to
    connect, to wait for the answer). Any answer is returned, whatever its status; raises
    FetchError when none came (refused address, connection error, timeout)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise FetchError(f"refused: not a URL ({exc})") from None
    if parts.scheme.lower() not in SCHEMES:
        raise FetchError(f"refused: only http and https URLs are called, not {parts.scheme}")
    session = _webhook_session(settings.TRAINY_WEBHOOKS_ALLOW_PRIVATE)
    started = time.monotonic()
    try:
        response = session.post(
            url, data=body, headers=dict(headers), timeout=timeout_s, stream=True,
            allow_redirects=False,
        )  # fmt: skip
    except InvalidIPAddress as exc:
        address, host = exc.args[0], parts.hostname
        named = str(address) if host == str(address) else f"{host} is at {address}, which"
        raise FetchError(
            f"refused: {named} is {_kind(address)}; only public addresses are called "
            "unless TRAINY_WEBHOOKS_ALLOW_PRIVATE is true"
        ) from None
    except requests.RequestException as exc:
        raise FetchError(f"no answer: {exc}") from None
    with response:
        try:
            start = next(response.iter_content(ANSWER_BYTES), b"")
        except requests.RequestException:
            start = b""
    return Answer(
        status=response.status_code,
        text=start.decode("utf-8", "replace"),
        duration_ms=round((time.monotonic() - started) * 1000),
    )


@cache
def _webhook_session(allow_private: bool) -> HTTPSession:
    """One session per worker process (and setting): its connection pool keeps a receiver's
    connection open between deliveries, which is most of the cost of a delivery. Each new
    connection is still checked against the address rule before it is made.

    Deliveries go straight to the receiver, not through the HTTP(S)_PROXY of the environment:
    the address rule checks the address actually connected to, which through a proxy would be
    the proxy's, not the receiver's; and reading the environment's proxy settings again for
    every request cost a tenth of a delivery (bench/webhooks.py)."""
    session = HTTPSession(
        Config(
            ip_filter_enable=not allow_private,
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,
            default_timeout=TIMEOUT_S,
            user_agent_override=WEBHOOK_USER_AGENT,
        )
    )
    session.trust_env = False
    return session
