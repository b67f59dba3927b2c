"""Log records with the request they belong to.

Production logs are JSON lines on stdout (one event per line, for VictoriaLogs); development logs
are human-readable. Both carry the request id, and the user id once the request knows its user.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from django.http import HttpRequest
from django.utils.functional import empty
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "current_request", default=None
)
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_request_id", default="-"
)


def _loaded_user_id(request: HttpRequest | None) -> int | None:
    """The signed-in user's id, only if the request has already loaded its user.

    ``request.user`` is lazy; evaluating it here would run a session and user query from inside
    a log call (possibly one reporting a database error), so a record logged before the view
    touched the user simply has no user id.
    """
    user = getattr(request, "user", None)
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is None or wrapped is empty:
        return None
    return getattr(wrapped, "pk", None)


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        record.user_id = _loaded_user_id(current_request.get())
        return True


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line: timestamp, level, logger, message, request_id, user_id."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timestamp", "timestamp")
        kwargs.setdefault(
            "rename_fields", {"levelname": "level", "name": "logger", "message": "message"}
        )
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s")
        super().__init__(*args, **kwargs)

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data["request_id"] = getattr(record, "request_id", "-")
        if log_data.get("user_id") is None:
            log_data.pop("user_id", None)
        # The request object Django attaches to request errors is not serialisable and the
        # request id already identifies it.
        log_data.pop("request", None)
        log_data.pop("server_time", None)
