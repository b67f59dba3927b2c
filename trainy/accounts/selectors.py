"""Reads of the accounts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any, TypeVar

from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import Field, Model, OuterRef, Q, Subquery
from django.utils import timezone
from oauth2_provider.models import AccessToken as OAuthAccessToken
from oauth2_provider.models import Application, RefreshToken
from oauth2_provider.settings import oauth2_settings

from trainy.accounts.models import AccessToken, User, UserSession

M = TypeVar("M", bound=Model)


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
    whose sign-in is not blocked. None for anything else, alike.

    Every API request asks, so this is one plain query for both rows: building the same ORM
    query (two tables, some forty columns) each time cost twice what running it did."""
    sql, token_fields, user_fields = _token_lookup()
    with connection.cursor() as cursor:
        cursor.execute(sql, [secret_hash, connection.ops.adapt_datetimefield_value(timezone.now())])
        row = cursor.fetchone()
    if row is None:
        return None
    token = _from_row(AccessToken, token_fields, row[: len(token_fields)])
    token.user = _from_row(User, user_fields, row[len(token_fields) :])
    return token


@cache
def _token_lookup() -> tuple[str, list[Field[Any, Any]], list[Field[Any, Any]]]:
    """access_token_for's SQL and the fields of its columns, in order (built once)."""
    quote = connection.ops.quote_name
    token_fields = list(AccessToken._meta.concrete_fields)
    user_fields = list(User._meta.concrete_fields)
    columns = [f"t.{quote(field.column)}" for field in token_fields] + [
        f"u.{quote(field.column)}" for field in user_fields
    ]
    # Names from the models' metadata only; the values are parameters.
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(AccessToken._meta.db_table)} t "  # noqa: S608
        f"JOIN {quote(User._meta.db_table)} u ON u.{quote(User._meta.pk.column)} = t."
        f"{quote(AccessToken._meta.get_field('user').column)} "
        "WHERE t.secret_hash = %s AND t.revoked_at IS NULL AND u.is_active "
        "AND (t.expires_at IS NULL OR t.expires_at > %s)"
    )
    return sql, token_fields, user_fields


def _from_row(model: type[M], fields: list[Field[Any, Any]], values: Sequence[Any]) -> M:
    """An instance of ``model`` from its columns as the database sent them, converted as the
    ORM converts them (a JSON column arrives as text, SQLite's times as text too)."""
    converted = []
    for field, value in zip(fields, values, strict=True):
        column = field.cached_col
        for converter in [
            *connection.ops.get_db_converters(column),
            *column.get_db_converters(connection),
        ]:
            value = converter(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


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
