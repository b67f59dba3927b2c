from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

from trainy.logging import current_request, current_request_id
from trainy.proxies import PEER_ADDR, client_address

# Accept an id from the proxy in front (Traefik's X-Request-Id) only if it looks like one, so a
# client cannot inject arbitrary text into the logs.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


def _forget_request(**kwargs: Any) -> None:
    current_request.set(None)
    current_request_id.set("-")


class RequestIdMiddleware:
    """Tag the request and every log record it causes with a request id; echo it back.

    The id stays bound until the response is closed (``request_finished``), not just until
    this middleware returns: Django logs 4xx responses ("Not Found: …") after the whole
    middleware chain has run, and those lines need the id too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        request_finished.connect(_forget_request, dispatch_uid="trainy.forget_request")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        current_request_id.set(request_id)
        current_request.set(request)
        response = self.get_response(request)
        response["X-Request-Id"] = request_id
        return response


class ClientAddressMiddleware:
    """Put the client's address, as the trusted proxies report it, into ``REMOTE_ADDR``.

    First in the chain (after the metrics timer), so everything after it (rate limits, the
    session list, log lines, the access log, which reads the same WSGI environ) sees the
    client, not the Gateway. The peer's own address is kept in ``META["TRAINY_PEER_ADDR"]``.
    See trainy/proxies.py for the rule.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        peer = request.META.get("REMOTE_ADDR", "")
        request.META[PEER_ADDR] = peer
        request.META["REMOTE_ADDR"] = client_address(
            peer,
            request.META.get("HTTP_X_FORWARDED_FOR", ""),
            trusted=tuple(settings.TRAINY_TRUSTED_PROXIES),
            hops=settings.TRAINY_PROXY_HOPS,
        )
        return self.get_response(request)
