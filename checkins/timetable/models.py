"""Feeds and their versions. The timetable rows themselves live in the ``tt_*`` tables that
checkins.timetable.schema creates: one partition per feed version on PostgreSQL, so that a new
version is loaded beside the active one and the old one is dropped in an instant."""

from __future__ import annotations

from django.conf import settings
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


# Outside FeedImport so that its Meta can build the constraint from it (a class body does not
# see the names of the class around it); code names it FeedImport.Status.
class FeedImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class FeedImport(TimeStampedModel):
    """An import started from the admin, run by the task ``import_timetable``: what to import,
    and how far it got. Written by checkins.timetable.services."""

    Status = FeedImportStatus

    feed_name = models.SlugField(max_length=64)
    # Either a URL to fetch or an uploaded file. The file is kept in the database, not on a
    # disk, so that whichever worker pod runs the task can read it; it is let go once the
    # import has finished.
    source_url = models.URLField(max_length=1000, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    upload = models.BinaryField(null=True, blank=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=300, blank=True)
    # Of the current step: the download, then the feed's files together.
    bytes_read = models.BigIntegerField(default=0)
    bytes_total = models.BigIntegerField(default=0)
    rows = models.BigIntegerField(default=0)
    # Why the feed was not imported (its problems, file, line and column), or why the task
    # stopped; and what an import that went through left out or worked around.
    error = models.TextField(blank=True)
    warnings = models.TextField(blank=True)
    version = models.ForeignKey(
        FeedVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=FeedImportStatus.values),
                name="feedimport_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(source_url="") | Q(upload__isnull=True),
                name="feedimport_url_or_upload",
            ),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"import {self.id} of {self.feed_name} ({self.status})"

    @property
    def source(self) -> str:
        return self.source_url or self.filename

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.bytes_total:
            return 0
        return min(100, round(100 * self.bytes_read / self.bytes_total))


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
