"""Writes of the accounts: a traveller's settings, who may sign in, what admins change, and the
browsers a traveller is signed in on."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

# The domain core (checkins is no social feature, STYLE.md 6a).
from checkins.models import CheckIn, Visibility
from checkins.services.moderation import checkins_delete, journeys_make_private_by_age
from trainy.accounts.models import User, UserSession
from trainy.accounts.selectors import ended_sessions
from trainy.accounts.signals import profile_made_public
from trainy.generations import FEED
from trainy.services import model_update


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
    return user


@transaction.atomic
def users_delete(*, users: QuerySet[User]) -> int:
    """Delete travellers (an admin's doing) with their journeys and the journeys' documents,
    which the database's cascade alone would leave in the document store; their follows, likes
    and notifications go by that cascade. Cached pages are let go after the commit. Returns
    how many travellers went."""
    ids = list(users.values_list("pk", flat=True))
    checkins_delete(
        checkin_ids=list(CheckIn.objects.filter(user__in=ids).values_list("id", flat=True))
    )
    User.objects.filter(pk__in=ids).delete()
    FEED.changed()
    return len(ids)


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
