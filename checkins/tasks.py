from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from checkins.services import (
    enrichment_sweep,
    journey_enrich,
    journey_enrichment_failed,
    realtime_apply,
)
from checkins.timetable.realtime import RealtimeError, fetch
from checkins.timetable.services import feed_import_fail, feed_import_run
from trainy.celery import OUTAGES

logger = logging.getLogger(__name__)


def _first_argument(args: Any, kwargs: Any, name: str) -> Any:
    return args[0] if args else (kwargs or {}).get(name)


class EnrichmentTask(Task):
    """Records on the journey why its enrichment gave up: after the last retry of an outage,
    or at once for an error that retrying cannot mend (a bug in building the document). Not
    called for a worker lost mid-task: that message is delivered again."""

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        checkin_id = _first_argument(args, kwargs, "checkin_id")
        try:
            journey_enrichment_failed(
                checkin_id=checkin_id, error=f"{type(exc).__name__}: {exc}".strip()
            )
        except (OperationalError, InterfaceError):
            # PostgreSQL itself is away: the journey stays unmarked, and the sweeper tries it
            # again later, which is the best that can be done then.
            logger.exception("enrichment of %s failed and could not be recorded", checkin_id)


@shared_task(
    base=EnrichmentTask,
    autoretry_for=OUTAGES,
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=12,
    acks_late=True,
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


class ImportTask(Task):
    """Marks the import failed when the task stops on an error of its own (a bug, the time
    limit, the database away); a bad feed is recorded by feed_import_run itself."""

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        feed_import_id = _first_argument(args, kwargs, "feed_import_id")
        try:
            feed_import_fail(
                feed_import_id=feed_import_id,
                error=f"The import stopped unexpectedly ({type(exc).__name__}: {exc}).",
            )
        except (OperationalError, InterfaceError):
            logger.exception("import %s failed and could not be marked failed", feed_import_id)


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
