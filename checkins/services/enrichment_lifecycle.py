"""The enrichment of journeys, from queueing to the result: queueing it (and again, by the
sweeper or a person), running it (journey_enrich: the document, built by checkins.enrichment,
stored, and its summary written back to the check-in) and recording a failure for good."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import Task
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from checkins.enrichment import build_document
from checkins.models import CheckIn
from trainy import metrics
from trainy.documents import journey_store
from trainy.generations import STATS
from trainy.tasks import enqueue, enqueue_on_commit

logger = logging.getLogger(__name__)

# Journeys not enriched this long after check-in are queued again by the sweeper...
ENRICHMENT_GRACE = timedelta(minutes=3)
# ...unless queued less than this long ago (the task's own retries span about 20 minutes).
ENRICHMENT_RETRY_WINDOW = timedelta(minutes=30)


def checkins_enrich_again(*, checkin_ids: list[int]) -> int:
    """Queue enrichment again for these journeys (a person asked: an admin's "re-run" or a
    failure's "retry"), forgetting any recorded failure. Returns how many were queued.

    If the broker refuses, the marks are cleared so that the sweeper takes the journeys up
    later, and the broker's error (BrokerUnavailable) is raised.
    """
    ids = list(CheckIn.objects.filter(id__in=checkin_ids).values_list("id", flat=True))
    CheckIn.objects.filter(id__in=ids).update(
        enrichment_queued_at=timezone.now(), enrichment_error="", enrichment_failed_at=None
    )
    # A person is there to be told that nothing was queued (the admin says so).
    enqueue_on_commit(_task(), ids, on_refused=_unmark_and_raise)
    return len(ids)


def journey_enrichment_failed(*, checkin_id: int, error: str) -> None:
    """Record that enrichment of the journey gave up with ``error`` (called by the task once
    it will not retry). The sweeper skips the journey from now on: it waits for a person to
    fix the cause and retry it from the admin."""
    logger.error("enrichment of journey %s failed: %s", checkin_id, error)
    CheckIn.objects.filter(id=checkin_id).update(
        enrichment_error=error, enrichment_failed_at=timezone.now(), enrichment_queued_at=None
    )


def enrichment_queue(*, checkin_ids: list[int]) -> None:
    """Queue enrichment, once the transaction commits, for journeys the caller has marked as
    queued (``enrichment_queued_at``). A broker that refuses is logged, not raised: the
    journey is saved either way and, its mark cleared, queued again by the sweeper."""
    enqueue_on_commit(_task(), checkin_ids, on_refused=_unmark)


def _unmark(checkin_ids: list[int], error: BrokerUnavailable) -> None:
    CheckIn.objects.filter(id__in=checkin_ids).update(enrichment_queued_at=None)


def _unmark_and_raise(checkin_ids: list[int], error: BrokerUnavailable) -> None:
    _unmark(checkin_ids, error)
    raise error


def _task() -> Task:
    # Imported here: the tasks module imports these services.
    from checkins.tasks import enrich_journey

    return enrich_journey


def journey_enrich(*, checkin_id: int) -> CheckIn | None:
    """Build and store the journey document, then write its summary back to the check-in.

    Idempotent: the document replaces any earlier one and the summary is overwritten. Returns
    None if the check-in no longer exists. Raises DocumentStoreUnavailable if the store is down
    (the task retries).
    """
    checkin = CheckIn.objects.filter(id=checkin_id).first()
    if checkin is None:
        return None
    document = build_document(checkin)
    store = journey_store()
    store.put(checkin.id, document)
    times = document["times"]
    summary = {
        "distance_m": document["distance"]["meters"],
        "distance_method": document["distance"]["method"],
        "duration_s": document["duration_s"],
        "departure_real": _moment(times["departure_real"]),
        "arrival_real": _moment(times["arrival_real"]),
        "enriched_at": timezone.now(),
        # A success after a recorded failure (a retry, or the cause fixed) closes it.
        "enrichment_error": "",
        "enrichment_failed_at": None,
    }
    updated = CheckIn.objects.filter(id=checkin.id).update(**summary)
    if not updated:
        # Deleted while this ran: checkin_delete found no document to remove yet, so the one
        # just stored must go, or a deleted journey's details would stay behind.
        store.delete(checkin.id)
        return None
    metrics.journey_enriched(checkin, enriched_at=summary["enriched_at"])
    for name, value in summary.items():
        setattr(checkin, name, value)
    STATS.changed(checkin.user_id)
    return checkin


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def enrichment_sweep(*, older_than: timedelta = ENRICHMENT_GRACE, limit: int = 500) -> int:
    """Queue enrichment again for journeys still unenriched ``older_than`` after check-in (a
    broker, worker or document-store outage lost their task). Returns how many were queued.

    Journeys whose enrichment failed for good (journey_enrichment_failed) are skipped: queued
    again every minute they would fail again, and fill the batch before the journeys that can
    still be saved.
    """

    now = timezone.now()
    # A journey whose task is still retrying (the document store is away) is left alone until
    # that task's retries must have run out: sweeping it every minute would pile up copies.
    stale = list(
        CheckIn.objects.filter(
            enriched_at__isnull=True,
            enrichment_failed_at__isnull=True,
            created_at__lt=now - older_than,
        )
        .filter(
            Q(enrichment_queued_at__isnull=True)
            | Q(enrichment_queued_at__lt=now - ENRICHMENT_RETRY_WINDOW)
        )
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    CheckIn.objects.filter(id__in=stale).update(enrichment_queued_at=now)
    enrichment_queue_now(checkin_ids=stale)
    return len(stale)


def enrichment_queue_now(*, checkin_ids: list[int]) -> None:
    """Queue enrichment at once for journeys the caller has marked as queued (the sweeper,
    realtime updates: periodic tasks, outside a transaction). If the broker refuses, the marks
    are cleared so that the sweeper takes the journeys up later, and the broker's error is
    raised (the periodic task fails, and says why)."""
    enqueue(_task(), checkin_ids, on_refused=_unmark_and_raise)
