"""Writes of the social side: follows, blocks, mutes, likes and notifications."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from checkins.models import CheckIn
from checkins.selectors import checkin_get
from feed.models import Block, Follow, Like, Mute, Notification, WebhookEvent
from feed.selectors import FEED_GENERATION, webhook_notification_payload
from feed.services.webhooks import webhooks_emit
from trainy.accounts.models import User
from trainy.services import model_update


def notification_create(
    *, recipient: User, actor: User, kind: str, checkin: CheckIn | None = None
) -> Notification:
    """Notify ``recipient``, and emit ``notification.created`` to their webhooks (with what
    their notifications page would show, or nothing if it would not show it)."""
    notification = Notification.objects.create(
        recipient=recipient, actor=actor, kind=kind, checkin=checkin
    )
    webhooks_emit(
        event=WebhookEvent.NOTIFICATION_CREATED,
        owner=recipient,
        payload=lambda: webhook_notification_payload(notification=notification),
    )
    return notification


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
        notification_create(recipient=followee, actor=follower, kind=kind)
        FEED_GENERATION.changed()
    return follow


def follow_delete(*, follower: User, followee: User) -> None:
    """Unfollow, or withdraw a follow request."""
    Follow.objects.filter(follower=follower, followee=followee).delete()
    FEED_GENERATION.changed()


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
        notification_create(
            recipient=request.follower, actor=owner, kind=Notification.Kind.FOLLOW_ACCEPTED
        )
    else:
        request.delete()
    FEED_GENERATION.changed()


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
    FEED_GENERATION.changed()


def block_delete(*, blocker: User, blocked: User) -> None:
    Block.objects.filter(blocker=blocker, blocked=blocked).delete()
    FEED_GENERATION.changed()


def mute_create(*, muter: User, muted: User) -> None:
    if muter.pk == muted.pk:
        raise ValidationError("You cannot mute yourself.")
    Mute.objects.get_or_create(muter=muter, muted=muted)
    FEED_GENERATION.changed()


def mute_delete(*, muter: User, muted: User) -> None:
    Mute.objects.filter(muter=muter, muted=muted).delete()
    FEED_GENERATION.changed()


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
        notification_create(
            recipient=checkin.user, actor=user, kind=Notification.Kind.LIKE, checkin=checkin
        )
        FEED_GENERATION.changed()
    return checkin


def like_delete(*, user: User, checkin_id: int) -> None:
    Like.objects.filter(user=user, checkin_id=checkin_id).delete()
    FEED_GENERATION.changed()


def follow_requests_accept_all(*, owner: User) -> int:
    """Accept every follow request waiting for ``owner`` (their profile went public: nothing is
    left to ask permission for); how many. Runs on trainy.accounts.signals.profile_made_public,
    in the transaction that made the profile public."""
    return Follow.objects.filter(followee=owner, accepted=False).update(accepted=True)


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
        FEED_GENERATION.changed()
    return changed
