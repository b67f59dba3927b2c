"""Reads of the accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from oauth2_provider.models import AccessToken as OAuthAccessToken
from oauth2_provider.models import Application, RefreshToken
from oauth2_provider.settings import oauth2_settings

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


# --- OAuth2 apps --------------------------------------------------------------------------------


def oauth_apps(*, user: User) -> list[Application]:
    """The apps ``user`` registered, newest first."""
    return list(Application.objects.filter(user=user).order_by("-created", "-id"))


@dataclass(frozen=True)
class AuthorizedApp:
    app: Application
    scopes: list[tuple[str, str]]  # (scope, what it allows) the traveller granted


def authorized_apps(*, user: User) -> list[AuthorizedApp]:
    """The apps that can act for ``user`` now: with a live access token or refresh token of
    theirs, whoever registered the app. With the scopes of the newest token: what the
    traveller allowed the last time."""
    now = timezone.now()
    live_access = OAuthAccessToken.objects.filter(user=user, expires__gt=now)
    live_refresh = RefreshToken.objects.filter(user=user, revoked__isnull=True)
    if oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS:
        seconds = oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS
        live_refresh = live_refresh.filter(created__gt=now - timedelta(seconds=seconds))
    newest = OAuthAccessToken.objects.filter(user=user, application=OuterRef("pk")).order_by(
        "-created", "-id"
    )
    apps = (
        Application.objects.filter(
            Q(pk__in=live_access.values("application_id"))
            | Q(pk__in=live_refresh.values("application_id"))
        )
        .select_related("user")
        .annotate(granted=Subquery(newest.values("scope")[:1]))
        .order_by("name", "id")
    )
    described = oauth2_settings.SCOPES
    return [
        AuthorizedApp(
            app=app,
            scopes=[(scope, described.get(scope, scope)) for scope in (app.granted or "").split()],
        )
        for app in apps
    ]
