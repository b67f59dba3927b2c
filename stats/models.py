"""Exports too large to answer at once: made by a Celery task (queue ``exports``), kept for
download by their owner."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from trainy.models import TimeStampedModel


# Outside Export so that its Meta can build the constraint from it (a class body does not see
# the names of the class around it); code names it Export.Status.
class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class Export(TimeStampedModel):
    Status = ExportStatus

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports"
    )
    # "csv", "xlsx", "pdf", "json", "gpx", "geojson", "report-pdf", "report-xlsx", or "archive"
    # (stats.exports.archive: all the owner's data)
    format = models.CharField(max_length=20)
    # What was asked for: date range, purposes, modes, columns, CSV separator (JSON-ready).
    options = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    # The finished file. In the database, not on a disk: every web pod can serve it, and it
    # goes with the user's data.
    filename = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    content = models.BinaryField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # After this the file is gone (a periodic task deletes it): set for the Trainy archive,
    # which holds everything about its owner and should not lie around.
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ExportStatus.values),
                name="export_status_valid",
            )
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="export_user_recent")]

    def __str__(self) -> str:
        return f"{self.format} export {self.id} of {self.user_id} ({self.status})"

    @property
    def percent(self) -> int:
        return round(100 * self.rows_done / self.rows_total) if self.rows_total else 0
