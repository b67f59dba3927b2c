"""Webhooks: a traveller's endpoints, the events emitted to them, and their deliveries.

An event is emitted inside the write that caused it (``webhooks_emit``): a delivery row per
endpoint that wants it, queued once the transaction commits (trainy.tasks.enqueue_on_commit and
its broker policy), so a rolled-back check-in sends nothing. A worker then tries it
(``webhook_delivery_attempt``, from feed.tasks.deliver_webhook) until it is answered with a
2xx or has used its TRAINY_WEBHOOKS_MAX_ATTEMPTS tries; after TRAINY_WEBHOOKS_FAILURES_TO_DISABLE
deliveries in a row that failed, the endpoint is switched off and its owner notified.

Deliveries are at least once: a worker lost mid-request hands the delivery to another, so a
receiver may see one twice and should ignore a ``Trainy-Delivery`` id it has seen.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from feed.models import (
    DeliveryStatus,
    Notification,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSubscription,
)
from trainy import fetch
from trainy.accounts.models import User
from trainy.services import model_update
from trainy.tasks import enqueue, enqueue_on_commit

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Trainy-Signature"
# The receiver's answer is not waited for longer than this to connect.
CONNECT_TIMEOUT_S = 5
# The longest error kept on a delivery (the column's length).
ERROR_MAX_LENGTH = 500

Payload = Mapping[str, Any]


# --- Endpoints ---------------------------------------------------------------------------------


def _new_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def _check_url(url: str) -> str:
    """The URL stripped, or ValidationError: https (http too, and private addresses, only when
    TRAINY_WEBHOOKS_ALLOW_PRIVATE is on). A host name is checked again, on its address, at
    each delivery (trainy.fetch); an address written out is refused here already, with a
    clearer message than a failed delivery would give."""
    url = url.strip()
    allow_private = settings.TRAINY_WEBHOOKS_ALLOW_PRIVATE
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_private and scheme == "http"):
        raise ValidationError({"url": "The URL must start with https://."})
    host = (parts.hostname or "").lower()
    if allow_private:
        return url
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise ValidationError({"url": "The URL must be on a public address."}) from None
        return url
    if not address.is_global:
        raise ValidationError({"url": "The URL must be on a public address."})
    return url


def _check_events(events: Collection[str]) -> list[str]:
    chosen = sorted(set(events))
    if not chosen:
        raise ValidationError({"events": "Choose at least one event."})
    unknown = [event for event in chosen if event not in WebhookEvent.values]
    if unknown:
        raise ValidationError({"events": f"Unknown event: {', '.join(unknown)}."})
    return chosen


@transaction.atomic
def webhook_endpoint_create(*, owner: User, url: str, events: Collection[str]) -> WebhookEndpoint:
    """Register an endpoint of ``owner``'s for ``events``, with a new secret (its
    ``secret``: the caller shows it once). Raises ValidationError (per field) for a URL that
    is not https or not public, no or unknown events, or an owner who has
    TRAINY_WEBHOOKS_MAX_ENDPOINTS already."""
    # The owner's row, locked: two requests at once cannot both pass the count below (nor
    # a delete of the last endpoint clear has_webhooks under this one).
    locked = User.objects.select_for_update().get(pk=owner.pk)
    limit = settings.TRAINY_WEBHOOKS_MAX_ENDPOINTS
    if WebhookEndpoint.objects.filter(owner=owner).count() >= limit:
        raise ValidationError(
            f"The most webhooks one may have is {limit}: delete one to add another."
        )
    endpoint = WebhookEndpoint(owner=owner, url=_check_url(url), secret=_new_secret())
    chosen = _check_events(events)
    endpoint.full_clean(exclude=["owner"])
    endpoint.save()
    WebhookSubscription.objects.bulk_create(
        WebhookSubscription(endpoint=endpoint, event=event) for event in chosen
    )
    if not locked.has_webhooks:
        model_update(instance=locked, data={"has_webhooks": True}, validate_constraints=False)
    owner.has_webhooks = True
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: Collection[str] | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given: the URL, the events, or pause (``active=False``) and resume. A
    resumed endpoint starts again with no failures counted (and no longer shows why it was
    switched off). Raises ValidationError as webhook_endpoint_create does. The owner keeps
    ``has_webhooks``: it says whether they have endpoints, paused or not."""
    data: dict[str, Any] = {}
    if url is not None:
        data["url"] = _check_url(url)
    if active is not None:
        data["active"] = active
        if active and not endpoint.active:
            data |= {"consecutive_failures": 0, "disabled_at": None, "disabled_reason": ""}
    if events is not None:
        chosen = _check_events(events)
        endpoint.subscriptions.exclude(event__in=chosen).delete()
        WebhookSubscription.objects.bulk_create(
            [WebhookSubscription(endpoint=endpoint, event=event) for event in chosen],
            ignore_conflicts=True,
        )
    model_update(instance=endpoint, data=data)
    return endpoint


def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new secret and return it (the caller shows it once). Deliveries
    tried from now on are signed with it, retries of earlier ones included."""
    secret = _new_secret()
    model_update(instance=endpoint, data={"secret": secret})
    return secret


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its deliveries; a delivery in a worker's hands finds no row and
    is dropped. The owner's last endpoint gone, ``has_webhooks`` is cleared."""
    # The owner's row locked first, as webhook_endpoint_create does: an endpoint made meanwhile
    # is committed before the count below, so the flag is never cleared under it.
    owner = User.objects.select_for_update().get(pk=endpoint.owner_id)
    endpoint.delete()
    if not WebhookEndpoint.objects.filter(owner=owner).exists():
        model_update(instance=owner, data={"has_webhooks": False}, validate_constraints=False)
    if WebhookEndpoint.owner.is_cached(endpoint):
        endpoint.owner.has_webhooks = owner.has_webhooks


# --- Emitting ----------------------------------------------------------------------------------


def webhooks_emit(
    *, event: str, owner: User, payload: Payload | Callable[[], Payload | None]
) -> list[int]:
    """Emit ``event`` to the active endpoints of ``owner`` that want it (and to nobody
    else's): a pending delivery for each, queued after the commit. Call inside the write that
    caused the event. ``payload`` may be a function, called only when some endpoint wants the
    event; one returning None emits nothing. Returns the deliveries' ids.

    Most travellers have no endpoint: ``owner.has_webhooks`` says so, and then this costs no
    query at all (it is asked on every check-in)."""
    if not owner.has_webhooks:
        return []
    endpoint_ids = list(
        WebhookEndpoint.objects.filter(
            owner=owner, active=True, subscriptions__event=event
        ).values_list("id", flat=True)
    )
    if not endpoint_ids:
        return []
    data = payload() if callable(payload) else payload
    if data is None:
        return []
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint_id=endpoint_id, event=event, payload=dict(data), queued_at=now)
        for endpoint_id in endpoint_ids
    )
    ids = [delivery.pk for delivery in deliveries]
    from feed.tasks import deliver_webhook  # the tasks module imports this one

    enqueue_on_commit(deliver_webhook, ids, on_refused=_not_queued)
    return ids


def _not_queued(ids: list[int], error: BrokerUnavailable) -> None:
    # Left pending for webhooks_sweep, which queues them once the broker is back.
    WebhookDelivery.objects.filter(id__in=ids, status=DeliveryStatus.PENDING).update(queued_at=None)


def webhooks_sweep() -> int:
    """Queue again the pending deliveries the broker refused, and delete deliveries older than
    TRAINY_WEBHOOKS_KEEP_DAYS. Returns how many were queued. Run by beat every minute."""
    cutoff = timezone.now() - timedelta(days=settings.TRAINY_WEBHOOKS_KEEP_DAYS)
    WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(
        status=DeliveryStatus.PENDING
    ).delete()
    ids = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, queued_at__isnull=True)
        .order_by("created_at")
        .values_list("id", flat=True)[:1000]
    )
    if not ids:
        return 0
    WebhookDelivery.objects.filter(id__in=ids).update(queued_at=timezone.now())
    from feed.tasks import deliver_webhook

    enqueue(deliver_webhook, ids, on_refused=_not_queued)
    return len(ids)


# --- Delivering --------------------------------------------------------------------------------


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The ``Trainy-Signature`` header's value: ``t=<unix time>,v1=<hex HMAC-SHA256 of
    "<t>.<body>" keyed with the secret>``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """What is POSTed: the same bytes on every try of one delivery."""
    envelope = {
        "id": str(delivery.pk),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


def retry_delay(attempts: int) -> int:
    """Seconds before the next try after ``attempts`` tries: TRAINY_WEBHOOKS_RETRY_SECONDS,
    doubled after each."""
    return int(settings.TRAINY_WEBHOOKS_RETRY_SECONDS * 2 ** (attempts - 1))


def webhook_delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> int | None:
    """Try a pending delivery once, and record the outcome on it. Returns the seconds to wait
    before trying again, or None when it is settled: delivered, failed for good (after its last
    try; then counted against the endpoint, which may be switched off), or nothing to do (not
    pending, endpoint gone, paused or switched off: then it fails without being counted).

    Runs outside any transaction: the request may take TRAINY_WEBHOOKS_TIMEOUT seconds."""
    delivery = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(id=delivery_id, status=DeliveryStatus.PENDING)
        .first()
    )
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    if not endpoint.active:
        _settle(
            delivery,
            status=DeliveryStatus.FAILED,
            error="Not sent: the webhook is off.",
            attempted=False,
        )
        return None
    body = delivery_body(delivery)
    stamp = int((now or timezone.now()).timestamp())
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret=endpoint.secret, timestamp=stamp, body=body),
        "Trainy-Event": delivery.event,
        "Trainy-Delivery": str(delivery.pk),
    }
    timeout = (CONNECT_TIMEOUT_S, settings.TRAINY_WEBHOOKS_TIMEOUT)
    status: int | None = None
    duration: int | None = None
    try:
        answer = fetch.post(endpoint.url, body=body, headers=headers, timeout_s=timeout)
    except fetch.FetchError as exc:
        error = str(exc)
    else:
        status, duration = answer.status, answer.duration_ms
        if 200 <= status < 300:
            _settle(delivery, status=DeliveryStatus.DELIVERED, response=(status, duration))
            if endpoint.consecutive_failures:
                WebhookEndpoint.objects.filter(id=endpoint.pk).update(consecutive_failures=0)
            return None
        error = f"Answered {status}: {answer.text}".strip()
    attempts = delivery.attempts + 1
    if attempts < settings.TRAINY_WEBHOOKS_MAX_ATTEMPTS:
        WebhookDelivery.objects.filter(id=delivery.pk).update(
            attempts=attempts,
            response_status=status,
            duration_ms=duration,
            error=error[:ERROR_MAX_LENGTH],
            updated_at=timezone.now(),
        )
        return retry_delay(attempts)
    webhook_delivery_failed(delivery_id=delivery.pk, error=error, response=(status, duration))
    return None


def _settle(
    delivery: WebhookDelivery,
    *,
    status: str,
    error: str = "",
    response: tuple[int | None, int | None] = (None, None),
    attempted: bool = True,
) -> None:
    now = timezone.now()
    WebhookDelivery.objects.filter(id=delivery.pk).update(
        status=status,
        attempts=F("attempts") + int(attempted),
        response_status=response[0],
        duration_ms=response[1],
        error=error[:ERROR_MAX_LENGTH],
        delivered_at=now if status == DeliveryStatus.DELIVERED else None,
        updated_at=now,
    )


@transaction.atomic
def webhook_delivery_failed(
    *, delivery_id: int, error: str, response: tuple[int | None, int | None] = (None, None)
) -> None:
    """Mark the delivery failed for good after its last try, and count it against its
    endpoint: the TRAINY_WEBHOOKS_FAILURES_TO_DISABLE-th failure in a row switches the endpoint
    off and notifies its owner (once: an endpoint already off stays as it is)."""
    delivery = (
        WebhookDelivery.objects.select_for_update()
        .filter(id=delivery_id, status=DeliveryStatus.PENDING)
        .first()
    )
    if delivery is None:
        return
    WebhookDelivery.objects.filter(id=delivery_id).update(
        status=DeliveryStatus.FAILED,
        attempts=F("attempts") + 1,
        response_status=response[0],
        duration_ms=response[1],
        error=error[:ERROR_MAX_LENGTH],
        updated_at=timezone.now(),
    )
    endpoint = WebhookEndpoint.objects.select_for_update().get(id=delivery.endpoint_id)
    data: dict[str, Any] = {"consecutive_failures": endpoint.consecutive_failures + 1}
    threshold = settings.TRAINY_WEBHOOKS_FAILURES_TO_DISABLE
    switch_off = endpoint.active and data["consecutive_failures"] >= threshold
    if switch_off:
        data |= {
            "active": False,
            "disabled_at": timezone.now(),
            "disabled_reason": f"Switched off after {threshold} failed deliveries in a row.",
        }
    model_update(instance=endpoint, data=data)
    if switch_off:
        from feed.services.social import notification_create  # it emits through this module

        notification_create(
            recipient=endpoint.owner, actor=endpoint.owner, kind=Notification.Kind.WEBHOOK_DISABLED
        )
        logger.info("webhook %s switched off after %d failures", endpoint.pk, threshold)
