"""Writes of the social side: follows, blocks, mutes, likes, notifications and settings."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from checkins.models import CheckIn, Visibility
from checkins.selectors import checkin_get
from feed.models import Block, Follow, Like, Mute, Notification, User, UserSession
from feed.selectors import FEED_GENERATION_KEY

logger = logging.getLogger(__name__)


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


def _blocked_between(a: User, b: User) -> bool:
    return Block.objects.filter(Q(blocker=a, blocked=b) | Q(blocker=b, blocked=a)).exists()


@transaction.atomic
def follow_create(*, follower: User, followee: User) -> Follow:
    """Follow ``followee``, or ask to when their profile is private. Following twice changes
    nothing. Raises ValidationError for oneself or across a block."""
    if follower.pk == followee.pk:
        raise ValidationError("You cannot follow yourself.")
    if _blocked_between(follower, followee):
        raise ValidationError(f"You cannot follow {followee.name}.")
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
        request.accepted = True
        request.save(update_fields=["accepted", "updated_at"])
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


def notifications_mark_read(*, recipient: User) -> int:
    return Notification.objects.filter(recipient=recipient, read_at__isnull=True).update(
        read_at=timezone.now()
    )


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
    user.default_visibility = default_visibility
    user.private_profile = private_profile
    user.likes_enabled = likes_enabled
    user.private_after_days = private_after_days
    user.leaderboard_opt_out = leaderboard_opt_out
    user.full_clean(exclude=["password"])
    user.save(
        update_fields=[
            "default_visibility",
            "private_profile",
            "likes_enabled",
            "private_after_days",
        ]
    )
    if was_private and not private_profile:
        Follow.objects.filter(followee=user, accepted=False).update(accepted=True)
    feed_changed()
    if private_after_days is not None:
        journeys_make_private_by_age(users=[user])
    return user


def journeys_make_private_by_age(*, users: list[User] | None = None) -> int:
    """Make private the journeys older than their traveller's "private after N days" setting
    (all such travellers, or ``users``). Returns how many journeys changed."""
    travellers = users or User.objects.filter(private_after_days__isnull=False)
    changed = 0
    now = timezone.now()
    for traveller in travellers:
        if traveller.private_after_days is None:
            continue
        cutoff = now - timedelta(days=traveller.private_after_days)
        changed += (
            CheckIn.objects.filter(user=traveller, arrival_planned__lt=cutoff)
            .exclude(visibility=Visibility.PRIVATE)
            .update(visibility=Visibility.PRIVATE, updated_at=now)
        )
    if changed:
        feed_changed()
        logger.info("made %d journeys private by age", changed)
    return changed


# --- Sign-in ----------------------------------------------------------------------------------


def sign_in_allow(*, users: QuerySet[User], allowed: bool, by: User) -> int:
    """Block or allow sign-in for ``users``; how many changed. Django and allauth refuse an
    inactive user at every sign-in, local or through GitLab, and ModelBackend no longer finds
    one for an existing session, so a blocked traveller is signed out at their next request.
    Nobody blocks their own sign-in (``by`` is left out)."""
    return users.exclude(pk=by.pk).filter(is_active=not allowed).update(is_active=allowed)


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
