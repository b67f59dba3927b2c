from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from trainy.models import TimeStampedModel

MESSAGE_MAX_LENGTH = 280
MAX_DURATION = timedelta(hours=72)


class Mode(models.TextChoices):
    """The small set of modes every GTFS route_type maps to."""

    LONG_DISTANCE = "long_distance", "Long-distance rail"
    REGIONAL = "regional", "Regional rail"
    SUBURBAN = "suburban", "Suburban rail"
    SUBWAY = "subway", "Subway"
    TRAM = "tram", "Tram"
    BUS = "bus", "Bus"
    FERRY = "ferry", "Ferry"
    OTHER = "other", "Other"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    UNLISTED = "unlisted", "Unlisted (anyone with the link)"
    FOLLOWERS = "followers", "Followers only"
    AUTHENTICATED = "authenticated", "Signed-in users only"
    PRIVATE = "private", "Private"


class Purpose(models.TextChoices):
    PRIVATE = "private", "Private"
    BUSINESS = "business", "Business"
    COMMUTE = "commute", "Commute"


class CheckIn(TimeStampedModel):
    """One journey of one traveller: the system of record (the detail is in the document store)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkins"
    )
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.OTHER)
    line_name = models.CharField(max_length=100)
    operator_name = models.CharField(max_length=200, blank=True)
    origin_name = models.CharField(max_length=200)
    origin_lat = models.FloatField(null=True, blank=True)
    origin_lon = models.FloatField(null=True, blank=True)
    destination_name = models.CharField(max_length=200)
    destination_lat = models.FloatField(null=True, blank=True)
    destination_lon = models.FloatField(null=True, blank=True)
    departure_planned = models.DateTimeField()
    arrival_planned = models.DateTimeField()
    message = models.CharField(max_length=MESSAGE_MAX_LENGTH, blank=True)
    visibility = models.CharField(
        max_length=20, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.PRIVATE)

    # Where a timetable journey came from. No foreign keys: feed versions are replaced and
    # dropped, the journey stays. Empty for journeys typed in by hand.
    feed_name = models.CharField(max_length=64, blank=True)
    feed_version_id = models.PositiveIntegerField(null=True, blank=True)
    trip_id = models.CharField(max_length=255, blank=True)
    service_date = models.DateField(null=True, blank=True)
    origin_stop_id = models.CharField(max_length=255, blank=True)
    origin_seq = models.IntegerField(null=True, blank=True)
    destination_stop_id = models.CharField(max_length=255, blank=True)
    destination_seq = models.IntegerField(null=True, blank=True)
    # The zone times are shown in: the feed's, or the traveller's for manual journeys.
    time_zone = models.CharField(max_length=64, blank=True)
    # One per form: a second submit of the same form finds the first journey.
    idempotency_key = models.UUIDField(null=True, blank=True, editable=False)

    # For business-trip reports: what the ticket cost (in settings.TRAINY_CURRENCY) and the
    # cost centre or project it is booked to.
    ticket_price = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    cost_centre = models.CharField(max_length=100, blank=True)

    # Written back by enrichment (checkins.services.enrichment_lifecycle.journey_enrich).
    distance_m = models.PositiveIntegerField(null=True, blank=True)
    duration_s = models.PositiveIntegerField(null=True, blank=True)
    distance_method = models.CharField(max_length=30, blank=True)
    # Real times at the entry and exit stops, when a realtime feed reported them.
    departure_real = models.DateTimeField(null=True, blank=True)
    arrival_real = models.DateTimeField(null=True, blank=True)
    enriched_at = models.DateTimeField(null=True, blank=True)
    # When enrichment was last queued: the sweeper leaves recently queued journeys alone.
    enrichment_queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Why the enrichment task gave up (a bug, or an outage outlasting its retries), and when.
    # Written by enrichment_lifecycle.journey_enrichment_failed, cleared by a later success. The
    # sweeper leaves such journeys to a person (the admin's "Enrichment failures").
    enrichment_error = models.TextField(blank=True, editable=False)
    enrichment_failed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Where an imported journey came from (checkins.services.imports): the source (a peer's
    # export format family) and the journey's id there, so that importing a file again adds
    # nothing. Empty for journeys checked in here.
    import_source = models.CharField(max_length=32, blank=True, editable=False)
    import_source_id = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(arrival_planned__gt=F("departure_planned")),
                name="checkin_arrival_after_departure",
                violation_error_message="The arrival must be after the departure.",
            ),
            models.CheckConstraint(
                condition=Q(arrival_planned__lt=F("departure_planned") + MAX_DURATION),
                name="checkin_shorter_than_72h",
                violation_error_message="A journey must be shorter than 72 hours.",
            ),
            models.CheckConstraint(
                condition=Q(origin_seq__isnull=True)
                | Q(destination_seq__isnull=True)
                | Q(destination_seq__gt=F("origin_seq")),
                name="checkin_exit_after_entry",
                violation_error_message="The exit stop must come after the entry stop.",
            ),
            models.UniqueConstraint(
                fields=["user", "import_source", "import_source_id"],
                name="checkin_imported_once",
                condition=~Q(import_source=""),
            ),
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                name="checkin_once_per_form",
                condition=Q(idempotency_key__isnull=False),
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=Visibility.values),
                name="checkin_visibility_valid",
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=Purpose.values), name="checkin_purpose_valid"
            ),
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="checkin_mode_valid"),
            models.CheckConstraint(
                condition=Q(ticket_price__isnull=True) | Q(ticket_price__gte=0),
                name="checkin_ticket_price_not_negative",
                violation_error_message="A ticket price cannot be negative.",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("message"), MESSAGE_MAX_LENGTH),
                name="checkin_message_length",
            ),
        ]
        indexes = [
            # "My journeys" and personal statistics: one traveller's journeys by time.
            models.Index(fields=["user", "-departure_planned", "-id"], name="checkin_user_time"),
            # The global feed: the journeys feeds list (public, signed-in users), newest first.
            models.Index(
                fields=["-departure_planned", "-id"],
                condition=Q(visibility__in=[Visibility.PUBLIC, Visibility.AUTHENTICATED]),
                name="checkin_feed",
            ),
            # The following feed: the newest few journeys of each person followed that feeds
            # may list (feed.selectors._following_ids), read from the index alone. With
            # checkin_user_time PostgreSQL fetches every row from the table to see its
            # visibility: thousands of random reads for someone who follows hundreds, more of
            # them from disk as the journeys outgrow memory.
            models.Index(
                fields=["user", "-departure_planned", "-id"],
                condition=Q(
                    visibility__in=[
                        Visibility.PUBLIC,
                        Visibility.AUTHENTICATED,
                        Visibility.FOLLOWERS,
                    ]
                ),
                name="checkin_following",
            ),
            # Journeys in progress ("on the move now", feed.selectors): those still to arrive,
            # by the real arrival where known, else the planned one. Together the two answer
            # `arrival_real > now OR (arrival_real IS NULL AND arrival_planned > now)` as one
            # bitmap of the few journeys not yet arrived; without them PostgreSQL reads every
            # journey (half a second at 1M journeys, growing with them).
            models.Index(
                fields=["arrival_planned"],
                condition=Q(arrival_real__isnull=True),
                name="checkin_arrival_planned",
            ),
            models.Index(
                fields=["arrival_real"],
                condition=Q(arrival_real__isnull=False),
                name="checkin_arrival_real",
            ),
            # Realtime updates find the journeys on the trips they report.
            models.Index(
                fields=["feed_name", "trip_id", "service_date"],
                condition=~Q(trip_id=""),
                name="checkin_trip",
            ),
            # The sweeper looks for journeys that enrichment has not reached yet (and skips
            # the few whose enrichment failed); the metrics count them.
            models.Index(
                fields=["created_at"],
                condition=Q(enriched_at__isnull=True),
                name="checkin_unenriched",
            ),
            # The admin's list of enrichment failures, newest first.
            models.Index(
                fields=["-enrichment_failed_at"],
                condition=Q(enrichment_failed_at__isnull=False),
                name="checkin_enrichment_failed",
            ),
        ]
        ordering = ["-departure_planned", "-id"]

    def __str__(self) -> str:
        return f"{self.line_name}: {self.origin_name} → {self.destination_name}"

    @property
    def planned_duration_s(self) -> int:
        return int((self.arrival_planned - self.departure_planned).total_seconds())

    @property
    def departure_delay_s(self) -> int | None:
        if self.departure_real is None:
            return None
        return int((self.departure_real - self.departure_planned).total_seconds())

    @property
    def arrival_delay_s(self) -> int | None:
        if self.arrival_real is None:
            return None
        return int((self.arrival_real - self.arrival_planned).total_seconds())


class EnrichmentFailure(CheckIn):
    """Journeys whose enrichment gave up: the admin lists them on a page of their own."""

    class Meta:
        proxy = True
        verbose_name = "enrichment failure"
        ordering = ["-enrichment_failed_at", "-id"]


class JourneyDocument(models.Model):
    """Journey documents for the embedded default, when no MongoDB is configured.

    Only trainy.documents.SqlJourneyStore reads or writes this table; it is keyed by check-in
    id without a foreign key, exactly like the MongoDB collection it stands in for.
    """

    checkin_id = models.BigIntegerField(primary_key=True)
    document = models.JSONField()
    version = models.IntegerField(null=True, blank=True)
    stored_at = models.DateTimeField(auto_now=True, db_index=True)

    def __str__(self) -> str:
        return f"journey document {self.checkin_id}"


# Outside JourneyImport so that its Meta can build the constraint from it; code names it
# JourneyImport.Status.
class JourneyImportStatus(models.TextChoices):
    CHECKED = "checked", "Checked"  # read and checked (the dry run); waiting for a yes
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class JourneyImport(TimeStampedModel):
    """A traveller's import of another service's export through the import page or the API:
    the file, what its dry run found, and how far the import got. Written by
    checkins.services.imports; the task ``run_journey_import`` imports large files."""

    Status = JourneyImportStatus

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="journey_imports"
    )
    filename = models.CharField(max_length=200)
    format = models.CharField(max_length=30)
    # For journeys whose file has none (the CSV exports).
    visibility = models.CharField(max_length=20, choices=Visibility.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CHECKED)
    # The file, in the database rather than on a disk so that whichever worker runs the task
    # can read it; let go once the import has finished or was cancelled.
    upload = models.BinaryField(null=True, blank=True, editable=False)
    # What the dry run found, then what the import did: counts, warnings, and the first
    # overlaps and refused rows with their line or entry (checkins.services.imports.summary).
    summary = models.JSONField(default=dict)
    phase = models.CharField(max_length=100, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=JourneyImportStatus.values),
                name="journeyimport_status_valid",
            )
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="journeyimport_user_recent")]

    def __str__(self) -> str:
        return f"import {self.id} of {self.user_id} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, round(100 * self.rows_done / self.rows_total)) if self.rows_total else 0


# The timetable's models live in their own module; importing them here registers them.
from checkins.timetable.models import (  # noqa: E402
    Feed,
    FeedImport,
    FeedVersion,
    RealtimeTrip,
)

__all__ = [
    "CheckIn",
    "EnrichmentFailure",
    "Feed",
    "FeedImport",
    "FeedVersion",
    "JourneyDocument",
    "JourneyImport",
    "Mode",
    "Purpose",
    "RealtimeTrip",
    "Visibility",
]
