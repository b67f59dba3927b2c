"""Writes of the social side: follows, blocks, mutes, likes, notifications and settings."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from checkins.models import CheckIn, Visibility
from checkins.selectors import checkin_get
from feed.models import Block, Follow, Like, Mute, Notification, User, UserSession
from feed.selectors import FEED_GENERATION_KEY
from trainy.services import model_update


def feed_changed() -> None:
    """Say that what feeds show may have changed (a journey added, edited, deleted or made
    private; a profile or a traveller's settings changed; a follow, block, mute or like):
    cached feed pages are built anew on their next read. Takes effect when the transaction
    commits, so no reader caches the old state again in between. A cache outage is fine:
    nothing is cached then either."""
    transaction.on_commit(_next_feed_generation)


def _next_feed_generation() -> None:
    try:
        cache.incr(FEED_GENERATION_KEY)
    except ValueError:  # not there yet (or evicted): any new value differs from the old
        cache.set(FEED_GENERATION_KEY, time.time_ns(), None)


def _notify(recipient: User, actor: User, kind: str, checkin: CheckIn | None = None) -> None:
    Notification.objects.create(recipient=recipient, actor=actor, kind=kind, checkin=checkin)


@transaction.atomic
def follow_create(*, follower: User, followee: User) -> Follow:
    """Follow ``followee``, or ask to when their profile is private. Following twice changes
    nothing. Raises User.DoesNotExist when ``followee`` blocked the follower (the caller answers
    as for an unknown user, so the block does not show), ValidationError for oneself or someone
    the follower blocked."""
    if follower.pk == followee.pk:
        raise ValidationError("You cannot follow yourself.")
    if Block.objects.filter(blocker=followee, blocked=follower).exists():
        raise User.DoesNotExist
    if Block.objects.filter(blocker=follower, blocked=followee).exists():
        raise ValidationError(f"You blocked {followee.name}: unblock them to follow them.")
    follow, created = Follow.objects.get_or_create(
        follower=follower, followee=followee, defaults={"accepted": not followee.private_profile}
    )
    if created:
        kind = Notification.Kind.FOLLOW if follow.accepted else Notification.Kind.FOLLOW_REQUEST
        _notify(followee, follower, kind)
        feed_changed()
    return follow


def follow_delete(*, follower: User, followee: User) -> None:
    """Unfollow, or withdraw a follow request."""
    Follow.objects.filter(follower=follower, followee=followee).delete()
    feed_changed()


@transaction.atomic
def follow_request_answer(*, owner: User, follower_id: int, accept: bool) -> None:
    """Accept or decline a request to follow ``owner``; a request already answered (or
    withdrawn) is left as it is."""
    request = (
        Follow.objects.select_for_update()
        .filter(followee=owner, follower_id=follower_id, accepted=False)
        .select_related("follower")
        .first()
    )
    if request is None:
        return
    if accept:
        model_update(instance=request, data={"accepted": True})
        _notify(request.follower, owner, Notification.Kind.FOLLOW_ACCEPTED)
    else:
        request.delete()
    feed_changed()


@transaction.atomic
def block_create(*, blocker: User, blocked: User) -> None:
    """Block ``blocked``: follows between the two end (either way), and neither sees the
    other's journeys from now on."""
    if blocker.pk == blocked.pk:
        raise ValidationError("You cannot block yourself.")
    try:
        with transaction.atomic():
            Block.objects.create(blocker=blocker, blocked=blocked)
    except IntegrityError:
        return  # blocked already
    Follow.objects.filter(
        Q(follower=blocker, followee=blocked) | Q(follower=blocked, followee=blocker)
    ).delete()
    Like.objects.filter(
        Q(user=blocked, checkin__user=blocker) | Q(user=blocker, checkin__user=blocked)
    ).delete()
    feed_changed()


def block_delete(*, blocker: User, blocked: User) -> None:
    Block.objects.filter(blocker=blocker, blocked=blocked).delete()
    feed_changed()


def mute_create(*, muter: User, muted: User) -> None:
    if muter.pk == muted.pk:
        raise ValidationError("You cannot mute yourself.")
    Mute.objects.get_or_create(muter=muter, muted=muted)
    feed_changed()


def mute_delete(*, muter: User, muted: User) -> None:
    Mute.objects.filter(muter=muter, muted=muted).delete()
    feed_changed()


@transaction.atomic
def like_create(*, user: User, checkin_id: int) -> CheckIn:
    """Like a journey the user may see. Liking twice changes nothing. Raises CheckIn.DoesNotExist
    for a journey the user may not see (the caller answers 404), PermissionDenied when its
    owner has switched likes off or it is the user's own."""
    checkin = checkin_get(viewer=user, checkin_id=checkin_id)
    if checkin is None:
        raise CheckIn.DoesNotExist
    if checkin.user_id == user.pk:
        raise PermissionDenied("You cannot like your own journey.")
    if not checkin.user.likes_enabled:
        raise PermissionDenied(f"{checkin.user.name} does not take likes.")
    _, created = Like.objects.get_or_create(user=user, checkin=checkin)
    if created:
        _notify(checkin.user, user, Notification.Kind.LIKE, checkin)
        feed_changed()
    return checkin


def like_delete(*, user: User, checkin_id: int) -> None:
    Like.objects.filter(user=user, checkin_id=checkin_id).delete()
    feed_changed()


def notifications_mark_read(*, recipient: User, up_to: int | None = None) -> int:
    """Mark the recipient's notifications read: those up to the id ``up_to`` (the newest they
    were shown: one that came in after the page was drawn stays unread), or all. Returns how
    many changed. Pages kept rendered show the unread count in their header, so they are let
    go."""
    unread = Notification.objects.filter(recipient=recipient, read_at__isnull=True)
    if up_to is not None:
        unread = unread.filter(id__lte=up_to)
    changed = unread.update(read_at=timezone.now())
    if changed:
        feed_changed()
    return changed


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
    requests that were waiting, as nothing is left to ask permission for."""
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
        Follow.objects.filter(followee=user, accepted=False).update(accepted=True)
    if changed:
        feed_changed()
    if private_after_days is not None:
        # Imported here: checkins.services imports this module (for feed_changed).
        from checkins.services.moderation import journeys_make_private_by_age

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
        feed_changed()
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
    feed_changed()
    return user


@transaction.atomic
def users_delete(*, users: QuerySet[User]) -> int:
    """Delete travellers (an admin's doing) with their journeys and the journeys' documents,
    which the database's cascade alone would leave in the document store; their follows, likes
    and notifications go by that cascade. Cached pages are let go after the commit. Returns
    how many travellers went."""
    # Imported here: checkins.services imports this module (for feed_changed).
    from checkins.services.moderation import checkins_delete

    ids = list(users.values_list("pk", flat=True))
    checkins_delete(
        checkin_ids=list(CheckIn.objects.filter(user__in=ids).values_list("id", flat=True))
    )
    User.objects.filter(pk__in=ids).delete()
    feed_changed()
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


def session_end(*, user: User, session_key: str) -> bool:
    """Sign the traveller out on one of their browsers; False if it is not theirs (or gone)."""
    from importlib import import_module

    from django.conf import settings

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
