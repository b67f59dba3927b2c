"""The one error format of the API: ``{"error": {"code", "message", "fields"}}``.

``code`` is a stable word for programs (``invalid``, ``not_authenticated``,
``authentication_failed``, ``permission_denied``, ``not_found``, ``method_not_allowed``,
``throttled``, ``parse_error``, ``unsupported_media_type``, ``server_error``, …), ``message`` a
sentence for people, ``fields`` the messages per input field (query parameter or body field;
a nested one as ``parent.child``), empty when the error is about no field.

DRF's exceptions, Django's Http404 and PermissionDenied, and a service's ValidationError (the
services the pages use raise Django's, with messages per field) all answer in it. Errors that
happen outside a DRF view under /api/ (an unknown URL, a NUL byte in the query, a server error)
get it too, from trainy/errors.py's handlers (``api_error_response``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

API_PREFIX = "/api/"
INVALID_MESSAGE = "Some of the input is not valid; see the messages per field."


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def api_error_response(status: int, code: str, message: str) -> JsonResponse:
    """An error in the API's format from a plain Django view or handler."""
    return JsonResponse(error_body(code, message), status=status)


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Per-field messages of a ValidationError's detail, nested fields joined with dots."""
    if isinstance(detail, dict):
        found: dict[str, list[str]] = {}
        for key, value in detail.items():
            found.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return found
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        found = {}
        for index, item in enumerate(detail):
            found.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return found
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix: [str(message) for message in messages]} if messages else {}


def _validation_body(detail: Any) -> dict:
    fields = _flatten(detail if isinstance(detail, dict) else {"": detail})
    # Messages about no field: DRF's key, Django's (a service's ValidationError), or a bare list.
    general = [
        message
        for key in (api_settings.NON_FIELD_ERRORS_KEY, NON_FIELD_ERRORS, "")
        for message in fields.pop(key, [])
    ]
    return error_body("invalid", " ".join(general) or INVALID_MESSAGE, fields)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (status, ``WWW-Authenticate``, ``Retry-After``, the transaction rolled
    back) with the body in the API's format. Anything else is a bug: None lets it become a 500
    (its body from trainy.errors.server_error)."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc.detail)
        return response
    codes = exc.get_codes()
    response.data = error_body(
        codes if isinstance(codes, str) else exc.default_code, str(exc.detail)
    )
    return response
