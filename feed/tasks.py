"""Webhook deliveries (queue ``webhooks``, see settings) and their sweep."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from feed.services.webhooks import webhook_delivery_attempt, webhook_delivery_failed, webhooks_sweep
from trainy.celery import OUTAGE_RETRIES
from trainy.tasks import RecordsFailure


class DeliveryTask(RecordsFailure):
    """Records on the delivery why it gave up: after the last retry of an outage of the
    database, or at once for an error retrying cannot mend. (A receiver's failures are not
    errors of the task: the service records them and asks for the next try.)"""

    subject = "delivery_id"

    def record_failure(self, subject_id: Any, exc: BaseException) -> None:
        webhook_delivery_failed(delivery_id=subject_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(
    bind=True,
    base=DeliveryTask,
    **OUTAGE_RETRIES,
)
def deliver_webhook(self: Task, delivery_id: int) -> None:
    """Try the delivery; if the receiver failed and tries are left, try again after the
    service's backoff. The tries are counted on the row (TRAINY_WEBHOOKS_MAX_ATTEMPTS), not
    here, so they are bounded however often the message is delivered."""
    delay = webhook_delivery_attempt(delivery_id=delivery_id)
    if delay is not None:
        raise self.retry(countdown=delay, max_retries=None)


@shared_task(acks_late=True, ignore_result=True)
def sweep_webhooks() -> int:
    """Periodic (Celery beat): queue again deliveries the broker refused; forget old ones."""
    return webhooks_sweep()
