from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from checkins.services import enrichment_sweep, journey_enrich
from trainy.documents import DocumentStoreUnavailable


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
