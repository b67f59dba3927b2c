"""Reads of the accounts."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.db.models import Q
from django.utils import timezone

from trainy.accounts.models import AccessToken, User, UserSession


def _live(keys: list[str]) -> set[str]:
    """Which of the Django sessions ``keys`` have not ended (signed out, expired)."""
    return set(
        Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now()).values_list(
            "session_key", flat=True
        )
    )


def browser_sessions(*, user: User) -> list[UserSession]:
    """The browsers the traveller is signed in on, most recently used first. Rows of sessions
    that have ended meanwhile (signed out, expired) are left out
    (services.sessions_forget_ended deletes them)."""
    rows = list(UserSession.objects.filter(user=user).order_by("-last_seen"))
    live = _live([row.session_key for row in rows])
    return [row for row in rows if row.session_key in live]


def ended_sessions(*, user: User) -> list[int]:
    """The ids of the traveller's browser rows whose Django session has ended."""
    rows = list(UserSession.objects.filter(user=user).values_list("pk", "session_key"))
    live = _live([key for _, key in rows])
    return [pk for pk, key in rows if key not in live]


def access_tokens(*, user: User) -> list[AccessToken]:
    """The traveller's personal access tokens, newest first, revoked and expired ones included
    (the settings page shows them as such)."""
    return list(AccessToken.objects.filter(user=user).order_by("-created_at", "-id"))


def access_token_for(*, secret_hash: str) -> AccessToken | None:
    """The live token with this hash, with its user: not revoked, not expired, of a traveller
    whose sign-in is not blocked. None for anything else, alike."""
    return (
        AccessToken.objects.select_related("user")
        .filter(secret_hash=secret_hash, revoked_at__isnull=True, user__is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .first()
    )
