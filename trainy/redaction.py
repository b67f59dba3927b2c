"""What must never reach a log line: secrets in URL paths, and passwords in service URLs.

A URL that carries a secret (the calendar feed's token: whoever has the URL reads the journeys;
allauth's password-reset and e-mail confirmation keys) is declared here once, as a
``SecretPath``; Trainy's own URL patterns are built from it (stats/exports/urls.py), and
``redact`` hides the secret wherever the path shows up in text:
Trainy's own log records (trainy/logging.py: "Not Found: /calendar/…", tracebacks, any message
or argument) and gunicorn's access and error logs (docker/gunicorn.conf.py: path, query string,
referer). A new URL with a token in it is declared here as well; tests/trainy/test_redaction.py
fails for a URL pattern with a ``token`` that is not.

This module imports nothing but the standard library: gunicorn's master process loads it by
file path, without the application.
"""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

# Tokens are secrets.token_urlsafe(32): 43 characters of [A-Za-z0-9_-]; the pattern allows some
# room either way.
TOKEN_PATTERN = r"[A-Za-z0-9_-]{16,64}"  # noqa: S105 -- a pattern, not a secret
REDACTED = "[redacted]"


class SecretPath(NamedTuple):
    """A URL whose path, after ``prefix`` (from the site root, no leading slash), is a secret
    up to ``suffix``."""

    prefix: str
    suffix: str = ""

    @property
    def route(self) -> str:
        """The pattern for ``django.urls.re_path``, with the secret as the ``token`` group."""
        return rf"^{re.escape(self.prefix)}(?P<token>{TOKEN_PATTERN}){re.escape(self.suffix)}$"


CALENDAR_FEED = SecretPath("calendar/", ".ics")
SECRET_PATHS: tuple[SecretPath, ...] = (
    CALENDAR_FEED,
    # allauth's links in account mail: whoever has the password-reset key signs in
    # (ACCOUNT_LOGIN_ON_PASSWORD_RESET); the e-mail confirmation key confirms an address.
    SecretPath("accounts/password/reset/key/"),
    SecretPath("accounts/confirm-email/"),
)

# Logs show paths as requested, not as routed: the secret is whatever follows the prefix up to
# the next delimiter, even if it is no valid token (a mistyped token is nearly the token). The
# prefix's slashes may be percent-encoded (a path inside a query string or a referer).
_SLASH = r"(?:/|%2[fF])"
_SECRET_IN_PATH = re.compile(
    "(?P<prefix>"
    + "|".join(
        _SLASH + _SLASH.join(re.escape(part) for part in path.prefix.strip("/").split("/")) + _SLASH
        for path in SECRET_PATHS
    )
    + r")[^/?#&;,\s\"'<>\\]+"
)
# scheme://user:password@host: the password goes, the rest helps whoever reads the log.
_PASSWORD_IN_URL = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)[^@\s]+@")


def redact(text: str) -> str:
    """``text`` with every secret in a URL path and every password in a URL replaced."""
    if "://" in text:
        text = _PASSWORD_IN_URL.sub(rf"\g<head>{REDACTED}@", text)
    return _SECRET_IN_PATH.sub(rf"\g<prefix>{REDACTED}", text)


# Attributes every LogRecord has; anything else on a record came in through ``extra``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class RedactSecretsFilter(logging.Filter):
    """A handler filter: what ``redact`` hides never reaches the line, whether it is in the
    message, its arguments, the traceback or an ``extra`` field.

    Django logs every 4xx and 5xx as "Not Found: /calendar/<token>.ics" and the like, with the
    path as an argument, so the message is redacted once it is put together.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[0] is not None:
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            if redact(text) != text:
                # Formatters print exc_text as it is when there is no exc_info to format.
                record.exc_text, record.exc_info = redact(text), None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        for name, value in list(vars(record).items()):
            if name not in _RECORD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, redact(value))
        return True
