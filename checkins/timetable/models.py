"""Feeds and their versions. The timetable rows themselves live in the ``tt_*`` tables that
checkins.timetable.schema creates: one partition per feed version on PostgreSQL, so that a new
version is loaded beside the active one and the old one is dropped in an instant."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from trainy.models import TimeStampedModel


class Feed(TimeStampedModel):
    """A named timetable source (e.g. "db-fv"), replaced independently of other feeds."""

    name = models.SlugField(max_length=64, unique=True)
    active_version = models.OneToOneField(
        "FeedVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    def __str__(self) -> str:
        return self.name


class FeedVersion(TimeStampedModel):
    class Status(models.TextChoices):
        LOADING = "loading", "Loading"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"
        FAILED = "failed", "Failed"

    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="versions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.LOADING)
    source = models.CharField(max_length=1000)
    # The first agency's zone: GTFS requires every agency of a feed to share it.
    timezone = models.CharField(max_length=64, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    # The latest departure_time in seconds: how many service days back a board has to look
    # (57:xx in the DB feed means two days).
    max_departure_s = models.PositiveIntegerField(default=0)
    row_counts = models.JSONField(default=dict, blank=True)
    info = models.JSONField(default=dict, blank=True, help_text="feed_info.txt and agencies")
    seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["feed"], condition=Q(status="active"), name="one_active_version_per_feed"
            )
        ]
        indexes = [models.Index(fields=["status"], name="feedversion_status")]

    def __str__(self) -> str:
        return f"{self.feed.name} v{self.id}"


class RealtimeTrip(TimeStampedModel):
    """What a GTFS-Realtime feed last said about one trip on one service day, resolved against
    the timetable: the real time at each stop it reported (or that a reported delay carries
    on to), as the latest TripUpdate left it. Written by checkins.timetable.realtime."""

    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="realtime_trips")
    trip_id = models.CharField(max_length=255)
    service_date = models.DateField()
    canceled = models.BooleanField(default=False)
    # One entry per stop with a real time, in trip order: {"seq": 3, "arrival": 1699405504,
    # "departure": 1699405534, "skipped": false, "carried": false}; times are Unix seconds,
    # "carried" marks a delay carried on from an earlier stop rather than reported for this one.
    stops = models.JSONField(default=list)
    # The feed's own timestamp of the message this came from.
    observed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["feed", "trip_id", "service_date"], name="realtime_trip_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.feed.name} {self.trip_id} {self.service_date}"
