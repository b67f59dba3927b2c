from __future__ import annotations

from celery import shared_task

from feed.services import journeys_make_private_by_age


@shared_task(acks_late=True, ignore_result=True)
def make_old_journeys_private() -> int:
    """Periodic (Celery beat): apply each traveller's "private after N days" setting."""
    return journeys_make_private_by_age()
