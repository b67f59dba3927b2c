from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from trainy.accounts.gitlab import Recheck, admin_suspended, recheck_if_due
from trainy.accounts.models import User
from trainy.accounts.services import session_seen

# How often a signed-in browser's "last seen" is written: often enough to tell which one is in
# use, rarely enough to cost nothing.
SEEN_EVERY = timedelta(minutes=5)
SEEN_KEY = "_trainy_seen"
# Set on a request whose user's admin rights are on hold (the admin's sign-in page says so).
ADMIN_SUSPENDED = "gitlab_admin_suspended"
# What a traveller signed out by the GitLab re-check reads.
SIGNED_OUT = {
    Recheck.REVOKED: "GitLab no longer lets {site} use your account (the access was revoked or "
    "the account blocked), so you have been signed out on every browser.",
    Recheck.REFUSED: "Your GitLab account is no longer in a group that may use {site}, so you "
    "have been signed out on every browser.",
    Recheck.SIGN_IN_AGAIN: "Please sign in with GitLab again: {site} has to confirm your account "
    "with GitLab from time to time.",
}


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


class GitLabRecheckMiddleware:
    """Keeps GitLab's word current for signed-in GitLab users (accounts.gitlab.recheck_if_due): once
    a re-check is due, this request asks GitLab. If GitLab takes its grant back or the allowed
    groups no longer include the user, every session of theirs has ended and this request goes
    on signed out, with a message. While GitLab cannot be asked, the session goes on, but admin
    rights GitLab has not confirmed within the grace period are withheld from this request
    (the stored flags stay, for GitLab's next answer). Local accounts pass untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if isinstance(user, User) and user.gitlab_checked_at is not None:
            outcome = recheck_if_due(request, user)
            if outcome.signed_out:
                logout(request)
                messages.error(request, SIGNED_OUT[outcome].format(site=settings.TRAINY_SITE_NAME))
            elif admin_suspended(user, now=timezone.now()):
                user.is_staff = user.is_superuser = False
                setattr(request, ADMIN_SUSPENDED, True)
        return self.get_response(request)
