"""Error pages and the refusal of input no view can use.

Every error a visitor can cause answers with a page in Trainy's layout that says what is wrong
(the message of a BadRequest or Http404 a view raised), never a traceback; a server error gets a
page that needs nothing but its template, as the database may be what failed.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
)
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.urls import Resolver404, resolve
from django_ratelimit.exceptions import Ratelimited

from trainy.api.errors import api_error_response, is_api_request

# Django's admin looks up the field named in `_to_field` before it checks it, and an empty
# name fails that lookup with an exception instead of a 400.
ADMIN_TO_FIELD = "_to_field"


def _message(exception: Exception | None) -> str:
    """The exception's text when a view raised it for the visitor to read (a plain string);
    Django's own 404 for an unknown path carries a dict of patterns, which stays private."""
    if isinstance(exception, RequestDataTooBig):
        return (
            f"The form sent more than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024} kB; "
            "a file belongs in an upload field."
        )
    if isinstance(exception, TooManyFieldsSent):
        return f"The form sent more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields."
    if isinstance(exception, BadRequest | Http404 | PermissionDenied):  # PayloadTooLarge too
        args = exception.args
        if args and isinstance(args[0], str):
            return args[0]
    return ""


# The API's error codes of the errors these handlers answer (trainy/api/errors.py).
API_CODES = {400: "bad_request", 403: "permission_denied", 404: "not_found", 413: "too_large"}


def _page(
    request: HttpRequest, status: int, title: str, exception: Exception | None
) -> HttpResponse:
    if is_api_request(request):
        # Outside a DRF view (an unknown URL, input refused by middleware): the API's format.
        return api_error_response(status, API_CODES[status], _message(exception) or title)
    context = {"status": status, "title": title, "message": _message(exception)}
    return render(request, "error.html", context, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 400, "This request cannot be answered", exception)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, Ratelimited):
        return too_many_requests(request)
    return _page(request, 403, "Not yours to see", exception)


def too_many_requests(request: HttpRequest) -> HttpResponse:
    """django-ratelimit's ``@ratelimit(block=True)`` raises Ratelimited, a PermissionDenied, once a
    rate is spent; the visitor is told to slow down (429), not that the page is not theirs. The
    page names what they did too much of when the view says (``rate_limit_group``)."""
    match = request.resolver_match
    what = getattr(match.func, "rate_limit_group", "requests") if match else "requests"
    response = render(request, "slow_down.html", {"what": what}, status=429)
    # Every rate is counted per minute.
    response["Retry-After"] = "60"
    return response


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 404, "Not found", exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return api_error_response(500, "server_error", "Something went wrong on our side.")
    # No request context: its processors read the database and the session, which may be down.
    return HttpResponse(loader.get_template("500.html").render(), status=500)


def body_limit(max_bytes: int, message: str) -> Callable[[Callable], Callable]:
    """Declare the largest body a view takes (an upload's): RefuseOversizedBodies answers a
    longer one with 413 and ``message`` before anything reads it. For an API view, set
    ``max_body_bytes`` and ``max_body_message`` on its class instead."""

    def declare(view: Callable) -> Callable:
        view.max_body_bytes = max_bytes  # type: ignore[attr-defined]
        view.max_body_message = message  # type: ignore[attr-defined]
        return view

    return declare


class RefuseOversizedBodies:
    """A 413 for a body longer than its view declares it takes (body_limit), from its
    Content-Length, before any middleware reads the body (parsing a 200 MB upload spools it to
    disk first). Bodies Django keeps in memory are bounded by DATA_UPLOAD_MAX_MEMORY_SIZE
    already; only longer ones are looked at."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH") or ""
        if length.isdigit() and int(length) > (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0):
            try:
                view = resolve(request.path_info).func
            except Resolver404:
                return self.get_response(request)
            owner = getattr(view, "view_class", view)
            limit = getattr(view, "max_body_bytes", None) or getattr(owner, "max_body_bytes", None)
            if limit is not None and int(length) > limit:
                message = getattr(view, "max_body_message", None) or getattr(
                    owner, "max_body_message", ""
                )
                return _page(request, 413, "Too large", PayloadTooLarge(message))
        return self.get_response(request)


class PayloadTooLarge(BadRequest):
    """A body longer than its view takes (its message says the limit)."""


class RefuseMalformedInput:
    """Answer 400 to input that no view can use and that would otherwise fail deep inside one:
    a NUL character in the path, the query or a form field (PostgreSQL's text cannot hold it),
    and an empty admin `_to_field`. One rule for every view, present and future."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        fields = [(key, value) for key, values in request.GET.lists() for value in values]
        if request.method == "POST":
            fields += [(key, value) for key, values in request.POST.lists() for value in values]
        if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in fields):
            raise BadRequest("The address or a form field contains a NUL character.")
        if any(key == ADMIN_TO_FIELD and not value for key, value in fields):
            raise BadRequest("_to_field names no field.")
        return self.get_response(request)
