"""What connects travellers: follows, blocks, mutes, likes and notifications (the travellers
themselves are trainy.accounts.models.User), and the webhooks that tell a traveller's own
programs what happened."""

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
    # The actor is the recipient: nobody else did it (feed/services/webhooks.py).
    WEBHOOK_DISABLED = "webhook_disabled", "webhook switched off"


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


# --- Webhooks ----------------------------------------------------------------------------------


class WebhookEvent(models.TextChoices):
    CHECKIN_CREATED = "checkin.created", "A journey was checked in"
    CHECKIN_UPDATED = "checkin.updated", "A journey was changed"
    CHECKIN_DELETED = "checkin.deleted", "A journey was deleted"
    NOTIFICATION_CREATED = "notification.created", "A notification came in"


# Long enough for any real endpoint (browsers take about 2,000 characters); bounded because it
# is shown on the page and sent on every delivery.
WEBHOOK_URL_MAX_LENGTH = 500


class WebhookEndpoint(TimeStampedModel):
    """A URL of ``owner``'s that Trainy POSTs the subscribed events to (feed/tasks.py), signed
    with ``secret``. The secret is kept as it is (not hashed): signing needs it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=WEBHOOK_URL_MAX_LENGTH)
    secret = models.CharField(max_length=64)
    # Off when its owner paused it or after too many failed deliveries (then disabled_at is
    # set): nothing is sent to it.
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            # Every check-in asks which of its traveller's endpoints want the event.
            models.Index(fields=["owner"], condition=Q(active=True), name="webhook_owner_active"),
        ]

    def __str__(self) -> str:
        return f"{self.url} ({self.owner})"


class WebhookSubscription(models.Model):
    """One event an endpoint wants: a row per event (rather than a list in one column) keeps
    "which endpoints want this event" one indexed join on every database Trainy runs on."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="subscriptions"
    )
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_event_once"),
            models.CheckConstraint(
                condition=Q(event__in=WebhookEvent.values), name="webhook_event_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.event


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(TimeStampedModel):
    """One event sent (or being sent) to one endpoint; its tries are counted in ``attempts``,
    the last one's answer is kept."""

    Status = DeliveryStatus

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    # Set when it was handed to the broker; None for a pending delivery the broker refused, which
    # the sweep queues again.
    queued_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(event__in=WebhookEvent.values), name="webhook_delivery_event_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="webhook_delivery_status_valid"
            ),
        ]
        indexes = [
            # The webhooks page: the last deliveries of each endpoint.
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_recent"),
            # The sweep: pending deliveries the broker refused.
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending", queued_at__isnull=True),
                name="webhook_delivery_unqueued",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"
