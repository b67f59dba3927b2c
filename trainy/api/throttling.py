"""The API's rate limits: per personal access token and per traveller, counted in the cache.

A fixed window of one minute per identity: one atomic increment in Redis per request and limit,
both limits in one round trip (DRF's own throttles keep a list of every request's time and
rewrite it each time). Past a limit the answer is 429 with ``Retry-After`` (the seconds left in
the window).

While the cache is down the API keeps answering without limits, and says so in the log: the
cache is optional, the API is not (as RATELIMIT_FAIL_OPEN for the pages). RATELIMIT_ENABLE=False
turns these limits off with the pages' ones.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache
from oauth2_provider.models import AbstractAccessToken
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from trainy.accounts.models import AccessToken

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60


class RateThrottle(BaseThrottle):
    """At most TRAINY_API_RATE_TOKEN requests a minute for each personal access token (and for
    each OAuth2 app a traveller allowed), and TRAINY_API_RATE_USER for each traveller over all
    their tokens and the site's own JavaScript. Both counts go to the cache in one round trip.

    An app's access token changes at every refresh (each is an hour's), so the app is counted
    per traveller: refreshing does not start a new count."""

    def __init__(self) -> None:
        self.retry_after: int | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        if not getattr(settings, "RATELIMIT_ENABLE", True):
            return True
        limits = [
            (kind, identity, limit)
            for kind, identity, limit in (
                ("token", _token_identity(request), settings.TRAINY_API_RATE_TOKEN),
                ("user", _user_identity(request), settings.TRAINY_API_RATE_USER),
            )
            if identity is not None
        ]
        if not limits:
            return True
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        keys = [f"api-rate:{kind}:{identity}:{window}" for kind, identity, _ in limits]
        counts = _increment(keys)
        if counts is None:
            logger.warning(
                "API rate limits are relaxed: the cache cannot be reached",
                extra={"limit": ",".join(kind for kind, _, _ in limits)},
            )
            return True
        if all(count <= limit for count, (_, _, limit) in zip(counts, limits, strict=True)):
            return True
        # Whole seconds, rounded up: asking again after Retry-After always succeeds.
        self.retry_after = math.ceil((window + 1) * WINDOW_SECONDS - now)
        return False

    def wait(self) -> int | None:
        return self.retry_after


def _token_identity(request: Request) -> str | None:
    auth = request.auth
    if isinstance(auth, AccessToken):
        return str(auth.pk)
    if isinstance(auth, AbstractAccessToken):
        return f"app-{auth.application_id}-{auth.user_id}"
    return None


def _user_identity(request: Request) -> str | None:
    user = request.user
    return str(user.pk) if user is not None and user.is_authenticated else None


def _increment(keys: list[str]) -> list[int] | None:
    """Count one more request under each of ``keys`` (each kept for two windows, so that it
    outlives its minute under clock skew); None when the cache cannot be reached.

    On Redis, one pipelined round trip: INCR creates a missing key at 1, and EXPIRE NX sets
    the lifetime of a new key only. Another cache (the embedded defaults' local memory) counts
    through Django's cache API."""
    if not isinstance(caches["default"], RedisCache):
        counts = []
        for key in keys:
            count = _increment_one(key)
            if count is None:  # django-redis swallowing an outage (DJANGO_REDIS_IGNORE_EXCEPTIONS)
                return None
            counts.append(count)
        return counts
    try:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        for key in keys:
            pipe.incr(cache.make_key(key))
            pipe.expire(cache.make_key(key), WINDOW_SECONDS * 2, nx=True)
        return [int(count) for count in pipe.execute()[::2]]
    except RedisError:
        return None


def _increment_one(key: str) -> int | None:
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        return cache.incr(key)
    except ValueError:
        # The key expired between add and incr: this request is the window's first.
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        return 1
