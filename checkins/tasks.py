from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from checkins.services import enrichment_sweep, journey_enrich, realtime_apply
from checkins.timetable.realtime import RealtimeError, fetch
from trainy.documents import DocumentStoreUnavailable

logger = logging.getLogger(__name__)


@shared_task(
    # Outages only: a programming error (say, a missing column) must fail, not retry forever.
    autoretry_for=(DocumentStoreUnavailable, OperationalError, InterfaceError),
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
