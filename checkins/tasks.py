from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings

from checkins.services.enrichment_lifecycle import (
    enrichment_sweep,
    journey_enrich,
    journey_enrichment_failed,
)
from checkins.services.imports import journey_import_fail, journey_import_run
from checkins.services.moderation import journeys_make_private_by_age
from checkins.services.realtime import realtime_apply
from checkins.timetable.realtime import RealtimeError, fetch
from checkins.timetable.services import feed_import_fail, feed_import_run
from trainy.celery import FILE_TASK, OUTAGE_RETRIES
from trainy.tasks import RecordsFailure

logger = logging.getLogger(__name__)


class EnrichmentTask(RecordsFailure):
    """Records on the journey why its enrichment gave up: after the last retry of an outage,
    or at once for an error that retrying cannot mend (a bug in building the document)."""

    subject = "checkin_id"

    def record_failure(self, subject_id: Any, exc: BaseException) -> None:
        journey_enrichment_failed(
            checkin_id=subject_id, error=f"{type(exc).__name__}: {exc}".strip()
        )


@shared_task(
    base=EnrichmentTask,
    **OUTAGE_RETRIES,
)
def enrich_journey(checkin_id: int) -> None:
    journey_enrich(checkin_id=checkin_id)


@shared_task(acks_late=True, ignore_result=True)
def sweep_enrichment() -> int:
    """Periodic (Celery beat): re-queue journeys whose enrichment got lost in an outage."""
    return enrichment_sweep()


@shared_task(acks_late=True, ignore_result=True)
def refresh_realtime() -> int:
    """Periodic (Celery beat): fetch and apply each configured GTFS-Realtime source. A source
    that fails is logged and skipped; the next run tries again. Returns the trips stored."""
    stored = 0
    for feed, url in settings.TRAINY_REALTIME_FEEDS.items():
        try:
            stored += realtime_apply(feed=feed, data=fetch(url), source=url).stored
        except RealtimeError as error:
            logger.warning("realtime %s: %s", feed, error)
    return stored


class ImportTask(RecordsFailure):
    """Marks the import failed when the task stops on an error of its own (a bug, the time
    limit, the database away); a bad feed is recorded by feed_import_run itself."""

    subject = "feed_import_id"

    def record_failure(self, subject_id: Any, exc: BaseException) -> None:
        feed_import_fail(
            feed_import_id=subject_id,
            error=f"The import stopped unexpectedly ({type(exc).__name__}: {exc}).",
        )


@shared_task(
    base=ImportTask,
    acks_late=True,
    ignore_result=True,
    # A national feed takes minutes, far past the default limits of a task.
    soft_time_limit=3600,
    time_limit=3660,
)
def import_timetable(feed_import_id: int) -> None:
    """Run an import queued from the admin. On the ``default`` queue (the settings' default):
    a long import does not hold up enrichment, which has a queue of its own. Not retried: a
    failed import is shown as failed, and started again by a person."""
    feed_import_run(feed_import_id=feed_import_id)


@shared_task(acks_late=True, ignore_result=True)
def make_old_journeys_private() -> int:
    """Periodic (Celery beat): apply each traveller's "private after N days" setting."""
    return journeys_make_private_by_age()


class JourneyImportTask(RecordsFailure):
    """Marks a traveller's import failed once the task gives up (a bug, the time limit, an
    outage outlasting the retries), so its page says so instead of a bar that never moves."""

    subject = "import_id"

    def record_failure(self, subject_id: Any, exc: BaseException) -> None:
        journey_import_fail(
            import_id=subject_id,
            error="The import failed; please upload the file again. If it fails again, tell "
            "the admins.",
        )


@shared_task(base=JourneyImportTask, **FILE_TASK)
def run_journey_import(import_id: int) -> None:
    """Import a traveller's file too large to import in the request (queue ``exports``, with
    the other long work on one traveller's files). Retried through outages: an import cut off
    before it committed wrote nothing, and starts over."""
    journey_import_run(import_id=import_id)
