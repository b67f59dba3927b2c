from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

from trainy.logging import current_request, current_request_id

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
