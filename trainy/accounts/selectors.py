"""Reads of the accounts."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.utils import timezone

from trainy.accounts.models import User, UserSession


def browser_sessions(*, user: User) -> list[UserSession]:
    """The browsers the traveller is signed in on, most recently used first. Rows of sessions
    that have ended meanwhile (signed out, expired) are dropped."""
    rows = list(UserSession.objects.filter(user=user).order_by("-last_seen"))
    live = set(
        Session.objects.filter(
            session_key__in=[row.session_key for row in rows], expire_date__gt=timezone.now()
        ).values_list("session_key", flat=True)
    )
    ended = [row.pk for row in rows if row.session_key not in live]
    if ended:
        UserSession.objects.filter(pk__in=ended).delete()
    return [row for row in rows if row.session_key in live]
