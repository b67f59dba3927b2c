"""What connects travellers: follows, blocks, mutes, likes and notifications (the travellers
themselves are trainy.accounts.models.User)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from trainy.models import TimeStampedModel


def _pair_constraints(a: str, b: str, name: str) -> list[models.BaseConstraint]:
    return [
        models.UniqueConstraint(fields=[a, b], name=f"{name}_once"),
        models.CheckConstraint(condition=~Q(**{a: F(b)}), name=f"{name}_not_self"),
    ]


class Follow(TimeStampedModel):
    """``follower`` follows ``followee``; a follow of a private profile waits for acceptance."""

    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following"
    )
    followee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followers"
    )
    accepted = models.BooleanField(default=True)

    class Meta:
        constraints = _pair_constraints("follower", "followee", "follow")
        indexes = [
            # Who follows me (profile counts, requests to answer); the unique constraint's
            # index serves "whom do I follow".
            models.Index(fields=["followee", "accepted"], name="follow_followee"),
        ]

    def __str__(self) -> str:
        return f"{self.follower} → {self.followee}{'' if self.accepted else ' (requested)'}"


class Block(TimeStampedModel):
    """``blocker`` blocked ``blocked``: neither sees the other's journeys; no follows between
    them."""

    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks"
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocked_by"
    )

    class Meta:
        constraints = _pair_constraints("blocker", "blocked", "block")
        indexes = [models.Index(fields=["blocked"], name="block_blocked")]

    def __str__(self) -> str:
        return f"{self.blocker} blocks {self.blocked}"


class Mute(TimeStampedModel):
    """``muter`` does not want ``muted``'s journeys in their feeds (``muted`` is not told)."""

    muter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mutes"
    )
    muted = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = _pair_constraints("muter", "muted", "mute")

    def __str__(self) -> str:
        return f"{self.muter} mutes {self.muted}"


class Like(TimeStampedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    checkin = models.ForeignKey("checkins.CheckIn", on_delete=models.CASCADE, related_name="likes")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["checkin", "user"], name="like_once")]
        indexes = [models.Index(fields=["user"], name="like_user")]

    def __str__(self) -> str:
        return f"{self.user} likes {self.checkin_id}"


# Outside Notification so that its Meta can build the constraint from it (a class body does not
# see the names of the class around it); code names it Notification.Kind.
class NotificationKind(models.TextChoices):
    FOLLOW = "follow", "started following you"
    FOLLOW_REQUEST = "follow_request", "asked to follow you"
    FOLLOW_ACCEPTED = "follow_accepted", "accepted your follow request"
    LIKE = "like", "liked your journey"


class Notification(TimeStampedModel):
    Kind = NotificationKind

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    checkin = models.ForeignKey(
        "checkins.CheckIn", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values),
                name="notification_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox"),
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_kind_display()} ({self.recipient})"
