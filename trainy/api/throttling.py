"""The API's rate limits: per personal access token and per traveller, counted in the cache.

A fixed window of one minute per identity: one atomic increment in Redis per request and limit
(DRF's own throttles keep a list of every request's time and rewrite it each time). Past the
limit the answer is 429 with ``Retry-After`` (the seconds left in the window).

While the cache is down the API keeps answering without limits, and says so in the log: the
cache is optional, the API is not (as RATELIMIT_FAIL_OPEN for the pages). django-redis is set to
swallow connection errors (DJANGO_REDIS_IGNORE_EXCEPTIONS) and answers None then, which is how
an outage shows here. RATELIMIT_ENABLE=False turns these limits off with the pages' ones.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from oauth2_provider.models import AbstractAccessToken
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from trainy.accounts.models import AccessToken

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60


class _MinuteThrottle(BaseThrottle):
    """At most ``limit()`` requests per minute per ``identity()``; None: not limited here."""

    kind = ""

    def __init__(self) -> None:
        self.retry_after: int | None = None

    def identity(self, request: Request) -> str | None:
        raise NotImplementedError

    def limit(self) -> int:
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        if not getattr(settings, "RATELIMIT_ENABLE", True):
            return True
        identity = self.identity(request)
        if identity is None:
            return True
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"api-rate:{self.kind}:{identity}:{window}"
        count = _increment(key)
        if count is None:
            logger.warning(
                "API rate limits are relaxed: the cache cannot be reached",
                extra={"limit": self.kind},
            )
            return True
        if count <= self.limit():
            return True
        # Whole seconds, rounded up: asking again after Retry-After always succeeds.
        self.retry_after = math.ceil((window + 1) * WINDOW_SECONDS - now)
        return False

    def wait(self) -> int | None:
        return self.retry_after


def _increment(key: str) -> int | None:
    """Count one more request under ``key`` (created for two windows, so that it outlives its
    minute under clock skew); None when the cache cannot be reached."""
    try:
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        return cache.incr(key)
    except ValueError:
        # The key expired between add and incr: this request is the window's first.
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        return 1


class TokenRateThrottle(_MinuteThrottle):
    """TRAINY_API_RATE_TOKEN requests a minute for each personal access token, and for each
    OAuth2 app a traveller allowed. An app's access token changes at every refresh (each is
    an hour's), so the app is counted per traveller: refreshing does not start a new count."""

    kind = "token"

    def identity(self, request: Request) -> str | None:
        auth = request.auth
        if isinstance(auth, AccessToken):
            return str(auth.pk)
        if isinstance(auth, AbstractAccessToken):
            return f"app-{auth.application_id}-{auth.user_id}"
        return None

    def limit(self) -> int:
        return settings.TRAINY_API_RATE_TOKEN


class UserRateThrottle(_MinuteThrottle):
    """TRAINY_API_RATE_USER requests a minute for each traveller, over all their tokens and the
    site's own JavaScript."""

    kind = "user"

    def identity(self, request: Request) -> str | None:
        user = request.user
        return str(user.pk) if user is not None and user.is_authenticated else None

    def limit(self) -> int:
        return settings.TRAINY_API_RATE_USER
