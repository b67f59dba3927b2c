from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from feed.services import session_seen

# How often a signed-in browser's "last seen" is written: often enough to tell which one is in
# use, rarely enough to cost nothing.
SEEN_EVERY = timedelta(minutes=5)
SEEN_KEY = "_trainy_seen"


class SessionTrackingMiddleware:
    """Keeps the list of browsers each traveller is signed in on (Settings → Sessions)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is None or session is None or not user.is_authenticated:
            return response
        now = timezone.now()
        seen = session.get(SEEN_KEY)
        if session.session_key and (
            seen is None or now.timestamp() - seen > SEEN_EVERY.total_seconds()
        ):
            session_seen(
                user=user,
                session_key=session.session_key,
                ip=request.META.get("REMOTE_ADDR"),
                user_agent=request.headers.get("User-Agent", ""),
            )
            session[SEEN_KEY] = now.timestamp()
        return response
