"""Realtime data for journeys: a GTFS-Realtime message stored, and its journeys enriched again."""

from __future__ import annotations

import logging

from django.utils import timezone

from checkins.models import CheckIn
from checkins.services.enrichment_lifecycle import enrichment_queue_now
from checkins.timetable.realtime import RealtimeResult, realtime_ingest

logger = logging.getLogger(__name__)


def realtime_apply(*, feed: str, data: bytes, source: str = "") -> RealtimeResult:
    """Store a GTFS-Realtime TripUpdates message for ``feed`` and enrich again the journeys on
    the trips it reported, so their pages and figures show the real times. Raises
    RealtimeError when the message or the feed is unusable."""
    result = realtime_ingest(feed=feed, data=data, source=source)
    changed = set(result.changed)
    if not changed:
        return result
    candidates = CheckIn.objects.filter(
        feed_name=feed,
        trip_id__in={trip_id for trip_id, _ in changed},
        service_date__in={day for _, day in changed},
    ).values_list("id", "trip_id", "service_date")
    ids = [pk for pk, trip_id, day in candidates if (trip_id, day) in changed]
    if ids:
        CheckIn.objects.filter(id__in=ids).update(enrichment_queued_at=timezone.now())
        enrichment_queue_now(checkin_ids=ids)
    logger.info("realtime %s: %s; %d journeys to enrich again", feed, result.describe(), len(ids))
    return result
