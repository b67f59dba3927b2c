"""Writes of the accounts: a traveller's settings, who may sign in, what admins change, the
browsers a traveller is signed in on, their API tokens and their OAuth2 apps."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken as OAuthAccessToken
from oauth2_provider.models import Application, Grant, RefreshToken

# The domain core (checkins is no social feature, STYLE.md 6a).
from checkins.models import CheckIn, Visibility
from checkins.services.moderation import journeys_make_private_by_age
from trainy.accounts.models import AccessToken, Scope, User, UserSession
from trainy.accounts.selectors import ended_sessions
from trainy.accounts.signals import profile_made_public
from trainy.documents import journey_store
from trainy.generations import FEED, RANKS, STATS
from trainy.services import model_update

logger = logging.getLogger(__name__)


@transaction.atomic
def settings_update(
    *,
    user: User,
    default_visibility: str,
    private_profile: bool,
    likes_enabled: bool,
    private_after_days: int | None,
    leaderboard_opt_out: bool = False,
) -> User:
    """Change the traveller's settings. Making a private profile public accepts the follow
    requests that were waiting, as nothing is left to ask permission for (the feed app does,
    on signals.profile_made_public)."""
    if default_visibility not in Visibility.values:
        raise ValidationError({"default_visibility": "Pick one of the visibilities offered."})
    was_private = user.private_profile
    changed = model_update(
        instance=user,
        data={
            "default_visibility": default_visibility,
            "private_profile": private_profile,
            "likes_enabled": likes_enabled,
            "private_after_days": private_after_days,
            "leaderboard_opt_out": leaderboard_opt_out,
        },
    )
    if was_private and not private_profile:
        profile_made_public.send(sender=User, user=user)
    if changed:
        FEED.changed()
        RANKS.changed()
    if private_after_days is not None:
        journeys_make_private_by_age(users=[user])
    return user


# --- Sign-in ----------------------------------------------------------------------------------


def sign_in_allow(*, users: QuerySet[User], allowed: bool, by: User) -> int:
    """Block or allow sign-in for ``users``; how many changed. Django and allauth refuse an
    inactive user at every sign-in, local or through GitLab, and ModelBackend no longer finds
    one for an existing session, so a blocked traveller is signed out at their next request.
    Their journeys and their name leave every other traveller's pages (checkins_visible_to),
    cached ones included. Nobody blocks their own sign-in (``by`` is left out)."""
    changed = users.exclude(pk=by.pk).filter(is_active=not allowed).update(is_active=allowed)
    if changed:
        FEED.changed()
        RANKS.changed()
    return changed


# --- What admins change -------------------------------------------------------------------------


@transaction.atomic
def user_admin_save(*, user: User, by: User) -> User:
    """Save a traveller as an admin's form left them (the form has set and validated the
    fields; ``user`` may be new). Blocking or allowing sign-in there goes through
    sign_in_allow, as the admin's actions do. Names, avatars and private profiles are on
    cached pages, which are let go after the commit."""
    stored = User.objects.filter(pk=user.pk).values_list("is_active", flat=True).first()
    allowed = user.is_active
    if stored is not None:
        user.is_active = stored
    user.save()
    if stored is not None and stored != allowed:
        sign_in_allow(users=User.objects.filter(pk=user.pk), allowed=allowed, by=by)
        user.refresh_from_db(fields=["is_active"])
    FEED.changed()
    RANKS.changed()
    return user


@transaction.atomic
def users_delete(*, users: QuerySet[User], by: User) -> int:
    """An admin deletes travellers at once: each as account_delete deletes a traveller who
    left (their journeys' documents first, then everything of theirs, their browser sessions),
    logged with the admin's name. Returns how many travellers went."""
    deleted = 0
    for user in users:
        account_delete(user=user, by=by)
        deleted += 1
    return deleted


# --- Leaving ------------------------------------------------------------------------------------


def account_deletion_request(*, user: User) -> datetime:
    """The traveller asks for their account to be deleted (they have confirmed who they are):
    it goes TRAINY_ACCOUNT_DELETION_GRACE_DAYS from now, unless they sign in before. They are
    signed out on every browser, so that signing in again is a deliberate change of mind.
    When it will go."""
    due = timezone.now() + timedelta(days=settings.TRAINY_ACCOUNT_DELETION_GRACE_DAYS)
    User.objects.filter(pk=user.pk).update(deletion_due_at=due)
    user.deletion_due_at = due
    sessions_end_all(user=user)
    logger.info("account %s: deletion asked for, due %s", user.pk, due.isoformat())
    return due


def account_deletion_cancel(*, user: User) -> bool:
    """Keep the account after all (the traveller signed in during the grace period); False if
    no deletion was waiting."""
    cancelled = User.objects.filter(pk=user.pk, deletion_due_at__isnull=False).update(
        deletion_due_at=None
    )
    user.deletion_due_at = None
    if cancelled:
        logger.info("account %s: deletion cancelled by signing in", user.pk)
    return bool(cancelled)


def account_delete(*, user: User, by: User | None = None) -> None:
    """Delete the traveller and everything of theirs: their journeys' documents in the
    document store first (an outage raises DocumentStoreError, and nothing is deleted yet:
    the periodic task tries again), then the account with its journeys, likes, follows,
    blocks, mutes, notifications, tokens, OAuth2 grants, webhooks, exports and imports (the
    database's cascade), and their browser sessions. Feeds and statistics forget them at
    once."""
    checkin_ids = list(CheckIn.objects.filter(user=user).values_list("id", flat=True))
    journey_store().delete_many(checkin_ids)
    sessions = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    with transaction.atomic():
        User.objects.filter(pk=user.pk).delete()
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for session_key in sessions:
        store(session_key=session_key).delete()
    FEED.changed()
    RANKS.changed()
    STATS.changed(user.pk)
    if by is None:
        logger.info("account %s deleted with %d journeys", user.pk, len(checkin_ids))
    else:
        logger.info(
            "account %s deleted with %d journeys by admin %s",
            user.pk,
            len(checkin_ids),
            by.get_username(),
        )


def accounts_delete_due() -> int:
    """Delete the accounts whose grace period has ended (periodic); how many went."""
    due = User.objects.filter(deletion_due_at__lte=timezone.now())
    deleted = 0
    for user in due:
        account_delete(user=user)
        deleted += 1
    return deleted


# --- Signed-in browsers -------------------------------------------------------------------------


def session_seen(*, user: User, session_key: str, ip: str | None, user_agent: str) -> None:
    UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={
            "user": user,
            "ip": ip or None,
            "user_agent": user_agent[:300],
            "last_seen": timezone.now(),
        },
    )


def sessions_forget_ended(*, user: User) -> int:
    """Delete the traveller's browser rows whose Django session has ended (signed out, expired):
    they are never shown again. How many."""
    ended = ended_sessions(user=user)
    if ended:
        UserSession.objects.filter(pk__in=ended).delete()
    return len(ended)


def session_end(*, user: User, session_key: str) -> bool:
    """Sign the traveller out on one of their browsers; False if it is not theirs (or gone)."""
    row = UserSession.objects.filter(user=user, session_key=session_key).first()
    if row is None:
        return False
    import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key).delete()
    row.delete()
    return True


def sessions_end_others(*, user: User, keep: str) -> int:
    """Sign the traveller out on every browser but the one with session ``keep``; how many."""
    ended = 0
    for key in (
        UserSession.objects.filter(user=user)
        .exclude(session_key=keep)
        .values_list("session_key", flat=True)
    ):
        ended += session_end(user=user, session_key=key)
    return ended


def sessions_end_all(*, user: User) -> int:
    """Sign ``user`` out on every browser at once, the current request's included; how many."""
    return sessions_end_others(user=user, keep="")


# --- Personal access tokens ---------------------------------------------------------------------

# What a secret starts with: a leaked one is recognisable (secret scanners, logs) and cannot be
# mistaken for another service's.
TOKEN_PREFIX = "trainy_pat_"  # noqa: S105 -- a prefix, not a secret
# A traveller's live tokens: more is a script making tokens in a loop, not a traveller.
MAX_TOKENS = 50
# last_used_at is written at most this often per token.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: AccessToken
    secret: str  # shown once; only its hash is stored


@transaction.atomic
def token_create(
    *, user: User, name: str, scopes: list[str], expires_at: datetime | None = None
) -> NewToken:
    """Make a personal access token for ``user``. The secret is in the answer and nowhere else:
    the database keeps its SHA-256 only. Raises ValidationError for an empty name, no scope or
    an unknown one, an expiry in the past, or a traveller who has MAX_TOKENS live tokens."""
    name = name.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Give the token a name, to tell it from your others."
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        errors["scopes"] = f"Unknown scope: {', '.join(unknown)}."
    elif not scopes:
        errors["scopes"] = "Pick at least one scope."
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = "The expiry must be in the future."
    if errors:
        raise ValidationError(errors)
    # Locks the traveller's row, so two requests at once cannot both pass the count.
    User.objects.select_for_update().filter(pk=user.pk).first()
    live = AccessToken.objects.filter(user=user, revoked_at__isnull=True).exclude(
        expires_at__lte=timezone.now()
    )
    if live.count() >= MAX_TOKENS:
        raise ValidationError(
            f"You have {MAX_TOKENS} tokens already; revoke one you no longer use first."
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken(
        user=user,
        name=name,
        secret_hash=token_hash(secret),
        hint=secret[-4:],
        # In the enum's order, each once, whatever order they came in.
        scopes=[scope for scope in Scope.values if scope in scopes],
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    return NewToken(token=token, secret=secret)


def token_revoke(*, user: User, token_id: int) -> bool:
    """Revoke one of ``user``'s tokens: every later request with it is refused (401). False if
    it is not theirs or was revoked already."""
    return bool(
        AccessToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def tokens_revoke(*, tokens: QuerySet[AccessToken]) -> int:
    """Revoke ``tokens`` (an admin's doing, e.g. for a leaked one); how many were still live."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def token_used(*, token: AccessToken) -> None:
    """Note that ``token`` was just used. Written at most once per TOKEN_USE_RESOLUTION, and
    by a conditional UPDATE, so concurrent requests with one token write once between them."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < TOKEN_USE_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOKEN_USE_RESOLUTION)
    AccessToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


# --- OAuth2 apps (django-oauth-toolkit's models) ------------------------------------------------

# A traveller's registered apps, and the redirect URIs of one: bounds, not quotas.
MAX_APPS = 20
MAX_REDIRECT_URIS = 10


@dataclass(frozen=True)
class NewApp:
    app: Application
    secret: str | None  # a confidential app's, shown once; only its hash is stored


@transaction.atomic
def oauth_app_create(
    *, user: User, name: str, redirect_uris: list[str], confidential: bool
) -> NewApp:
    """Register an OAuth2 app of ``user``'s: the authorization code grant (with PKCE, as every
    app here), for these exact redirect URIs. A confidential app (one with a server to keep a
    secret) gets a client secret, which is in the answer and nowhere else: the toolkit stores
    it hashed. Raises ValidationError for an empty name, no redirect URI, more than
    MAX_REDIRECT_URIS, one the toolkit refuses (scheme not in TRAINY_OAUTH_REDIRECT_SCHEMES, a
    fragment, ...), or a traveller who has MAX_APPS apps."""
    name = name.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Give the app a name: travellers see it when it asks for access."
    if not redirect_uris:
        errors["redirect_uris"] = "Give at least one redirect URI."
    elif len(redirect_uris) > MAX_REDIRECT_URIS:
        errors["redirect_uris"] = f"At most {MAX_REDIRECT_URIS} redirect URIs."
    if errors:
        raise ValidationError(errors)
    # Locks the traveller's row, so two requests at once cannot both pass the count.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if Application.objects.filter(user=user).count() >= MAX_APPS:
        raise ValidationError(f"You have {MAX_APPS} apps already; delete one first.")
    secret = generate_client_secret()
    app = Application(
        user=user,
        name=name,
        redirect_uris=" ".join(redirect_uris),
        client_type=Application.CLIENT_CONFIDENTIAL if confidential else Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        client_secret=secret,
        hash_client_secret=True,
        skip_authorization=False,
    )
    app.full_clean()
    app.save()
    return NewApp(app=app, secret=secret if confidential else None)


def oauth_app_delete(*, user: User, app_id: int) -> bool:
    """Delete one of ``user``'s apps, and with it every token and code it was given (the
    toolkit's foreign keys cascade): it stops working at once for everyone. False if it is not
    theirs."""
    deleted, _ = Application.objects.filter(pk=app_id, user=user).delete()
    return bool(deleted)


@transaction.atomic
def oauth_access_revoke(*, user: User, app_id: int) -> bool:
    """Take back the access ``user`` gave an app: its refresh tokens are revoked (the toolkit's
    RefreshToken.revoke, which deletes the access token each was issued with), its other access
    tokens and unused codes deleted. Later requests with them get 401. False if the app had no
    live token of theirs."""
    refresh_tokens = list(
        RefreshToken.objects.filter(user=user, application_id=app_id, revoked__isnull=True)
    )
    for refresh_token in refresh_tokens:
        refresh_token.revoke()
    access_tokens = OAuthAccessToken.objects.filter(user=user, application_id=app_id)
    had_access = bool(refresh_tokens) or access_tokens.filter(expires__gt=timezone.now()).exists()
    access_tokens.delete()
    Grant.objects.filter(user=user, application_id=app_id).delete()
    return had_access
