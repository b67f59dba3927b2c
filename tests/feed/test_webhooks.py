"""Webhooks: endpoints and their bounds, the events check-ins and notifications emit (to their
owner's endpoints only), and deliveries to a real HTTP server on 127.0.0.1 whose signature is
checked here, independently of the code that makes it."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from checkins.models import CheckIn, Visibility
from checkins.services.checkins import checkin_delete, checkin_update
from feed.models import (
    DeliveryStatus,
    Notification,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from feed.selectors import webhook_notification_payload
from feed.services.social import like_create
from feed.services.webhooks import (
    retry_delay,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhooks_emit,
    webhooks_sweep,
)
from feed.tasks import deliver_webhook
from tests.conftest import wait_for
from tests.factories import CheckInFactory, UserFactory, manual_checkin
from tests.receiver import Receiver, receiver

pytestmark = pytest.mark.django_db

ALL_EVENTS = WebhookEvent.values


@pytest.fixture
def allow_private(settings):
    settings.TRAINY_WEBHOOKS_ALLOW_PRIVATE = True  # the receiver is on 127.0.0.1
    settings.TRAINY_WEBHOOKS_MAX_ATTEMPTS = 3
    return settings


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as server:
        yield server


def endpoint_for(user, url: str, events=ALL_EVENTS) -> WebhookEndpoint:
    return webhook_endpoint_create(owner=user, url=url, events=events)


def verify(secret: str, header: str, body: bytes, *, now: datetime, window_s: int = 300) -> bool:
    """What the README tells a receiver to do, written out here apart from the sender's code."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    if abs(now.timestamp() - timestamp) > window_s:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields["v1"])


def emitted(user, event=WebhookEvent.CHECKIN_CREATED, payload=None) -> list[int]:
    return webhooks_emit(event=event, owner=user, payload=payload or {"id": "1"})


# --- Delivering ----------------------------------------------------------------------------------


def test_a_delivery_is_posted_as_json_signed_with_the_endpoints_secret(alice, allow_private, hook):
    endpoint = endpoint_for(alice, hook.url)
    journey = manual_checkin(alice, message="Off we go", visibility=Visibility.PRIVATE)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)

    deliver_webhook.apply(args=[delivery.id])

    [request] = hook.received
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Trainy-Event"] == "checkin.created"
    assert request.headers["Trainy-Delivery"] == str(delivery.id)
    header = request.headers["Trainy-Signature"]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert verify(endpoint.secret, header, request.body, now=timezone.now())
    # Another secret, another body or an old timestamp do not pass.
    assert not verify("whsec_other", header, request.body, now=timezone.now())
    assert not verify(endpoint.secret, header, request.body + b" ", now=timezone.now())
    later = timezone.now() + timedelta(minutes=6)
    assert not verify(endpoint.secret, header, request.body, now=later)

    body = json.loads(request.body)
    assert body["id"] == str(delivery.id) and body["event"] == "checkin.created"
    data = body["data"]
    # The journey as its owner sees it: ids as strings, times with their offset, private fields.
    assert data["id"] == str(journey.id) and data["user"] == {
        "id": str(alice.id),
        "username": "alice",
    }
    assert data["message"] == "Off we go" and data["visibility"] == "private"
    assert datetime.fromisoformat(data["departure_planned"]) == journey.departure_planned
    assert re.search(r"[+-]\d\d:\d\d$", data["departure_planned"])
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1
    assert delivery.response_status == 200 and delivery.duration_ms is not None
    assert delivery.delivered_at is not None


def test_a_failing_receiver_is_tried_again_until_it_answers(alice, allow_private, hook):
    endpoint = endpoint_for(alice, hook.url)
    hook.answer(500, 503)
    [delivery_id] = emitted(alice)

    deliver_webhook.apply(args=[delivery_id])

    assert len(hook.received) == 3
    # Every try is the same delivery, signed afresh.
    assert {r.headers["Trainy-Delivery"] for r in hook.received} == {str(delivery_id)}
    assert len({r.body for r in hook.received}) == 1
    delivery = WebhookDelivery.objects.get(id=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 3, 200)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_the_tries_are_bounded_and_the_waits_between_them_grow(alice, allow_private, hook):
    endpoint = endpoint_for(alice, hook.url)
    hook.default = 500
    [delivery_id] = emitted(alice)

    deliver_webhook.apply(args=[delivery_id])

    assert len(hook.received) == allow_private.TRAINY_WEBHOOKS_MAX_ATTEMPTS == 3
    delivery = WebhookDelivery.objects.get(id=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 3, 500)
    assert delivery.error == "Answered 500: status 500"
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1 and endpoint.active
    allow_private.TRAINY_WEBHOOKS_RETRY_SECONDS = 30
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]


def test_a_receiver_that_does_not_answer_in_time_fails_the_try(alice, allow_private, hook):
    allow_private.TRAINY_WEBHOOKS_TIMEOUT = 1
    allow_private.TRAINY_WEBHOOKS_MAX_ATTEMPTS = 1
    endpoint_for(alice, hook.url)
    hook.delay = 2
    [delivery_id] = emitted(alice)

    deliver_webhook.apply(args=[delivery_id])

    delivery = WebhookDelivery.objects.get(id=delivery_id)
    assert delivery.status == "failed" and delivery.response_status is None
    assert "timed out" in delivery.error.lower()


def test_a_redirect_is_not_followed_and_fails_the_delivery(alice, allow_private, hook):
    allow_private.TRAINY_WEBHOOKS_MAX_ATTEMPTS = 1
    endpoint_for(alice, hook.url)
    hook.answer(302)
    [delivery_id] = emitted(alice)

    deliver_webhook.apply(args=[delivery_id])

    assert [r.path for r in hook.received] == ["/hook"]
    assert WebhookDelivery.objects.get(id=delivery_id).response_status == 302


def test_an_endpoint_is_switched_off_after_n_failed_deliveries_and_its_owner_told(
    alice, allow_private, hook
):
    allow_private.TRAINY_WEBHOOKS_MAX_ATTEMPTS = 1
    allow_private.TRAINY_WEBHOOKS_FAILURES_TO_DISABLE = 3
    endpoint = endpoint_for(alice, hook.url)
    hook.default = 500
    for _ in range(2):
        for delivery_id in emitted(alice):
            deliver_webhook.apply(args=[delivery_id])
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.consecutive_failures == 2
    assert not Notification.objects.filter(kind=Notification.Kind.WEBHOOK_DISABLED).exists()

    for delivery_id in emitted(alice):
        deliver_webhook.apply(args=[delivery_id])

    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_at is not None
    assert "3 failed deliveries" in endpoint.disabled_reason
    note = Notification.objects.get(kind=Notification.Kind.WEBHOOK_DISABLED)
    assert note.recipient == alice
    # Switched off: nothing more is sent to it.
    assert emitted(alice) == []
    assert len(hook.received) == 3
    # Resumed by its owner: it starts again with no failures counted.
    webhook_endpoint_update(endpoint=endpoint, active=True)
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.consecutive_failures == 0 and endpoint.disabled_at is None


def test_a_success_starts_the_failure_count_again(alice, allow_private, hook):
    allow_private.TRAINY_WEBHOOKS_MAX_ATTEMPTS = 1
    endpoint = endpoint_for(alice, hook.url)
    hook.answer(500, 500, 200)
    for _ in range(3):
        for delivery_id in emitted(alice):
            deliver_webhook.apply(args=[delivery_id])
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_a_delivery_to_a_paused_endpoint_is_not_sent(alice, allow_private, hook):
    endpoint = endpoint_for(alice, hook.url)
    [delivery_id] = emitted(alice)
    webhook_endpoint_update(endpoint=endpoint, active=False)

    deliver_webhook.apply(args=[delivery_id])

    assert hook.received == []
    delivery = WebhookDelivery.objects.get(id=delivery_id)
    assert delivery.status == "failed" and delivery.attempts == 0
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_a_private_address_is_refused_unless_an_admin_allows_it(alice, settings, hook):
    settings.TRAINY_WEBHOOKS_ALLOW_PRIVATE = False
    settings.TRAINY_WEBHOOKS_MAX_ATTEMPTS = 1
    for url in (hook.url, "https://127.0.0.1/hook", "https://10.0.0.5/", "https://localhost/x",
                "https://[::1]/", "https://169.254.169.254/latest/meta-data/"):  # fmt: skip
        with pytest.raises(ValidationError) as refused:
            endpoint_for(alice, url)
        assert refused.value.message_dict.keys() == {"url"}, url
    # A name that resolves to a private address passes registration, but not delivery:
    # trainy.fetch checks the address it connects to.
    settings.TRAINY_WEBHOOKS_ALLOW_PRIVATE = True  # as when it was registered
    endpoint_for(alice, hook.url, events=[WebhookEvent.CHECKIN_CREATED])
    settings.TRAINY_WEBHOOKS_ALLOW_PRIVATE = False
    [delivery_id] = emitted(alice)

    deliver_webhook.apply(args=[delivery_id])

    assert hook.received == []
    error = WebhookDelivery.objects.get(id=delivery_id).error
    assert "loopback" in error and "TRAINY_WEBHOOKS_ALLOW_PRIVATE" in error


# --- Emitting ------------------------------------------------------------------------------------


def test_check_ins_emit_created_updated_and_deleted(alice, allow_private, hook):
    endpoint = endpoint_for(alice, hook.url)
    journey = manual_checkin(alice, message="Hello")
    checkin_update(checkin=journey, message="Changed", visibility="public", purpose="business")
    checkin_update(checkin=journey, message="Changed", visibility="public", purpose="business")
    journey_id = journey.id
    checkin_delete(checkin=journey)

    deliveries = list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id"))
    # The second update changed nothing, so it emitted nothing.
    assert [d.event for d in deliveries] == [
        "checkin.created",
        "checkin.updated",
        "checkin.deleted",
    ]
    assert [d.payload["message"] for d in deliveries] == ["Hello", "Changed", "Changed"]
    assert {d.payload["id"] for d in deliveries} == {str(journey_id)}


def test_an_endpoint_gets_only_the_events_it_chose(alice, allow_private, hook):
    endpoint = endpoint_for(alice, hook.url, events=[WebhookEvent.CHECKIN_DELETED])
    journey = manual_checkin(alice)
    assert not WebhookDelivery.objects.filter(endpoint=endpoint).exists()
    checkin_delete(checkin=journey)
    assert WebhookDelivery.objects.get(endpoint=endpoint).event == "checkin.deleted"


def test_an_endpoint_only_ever_receives_its_owners_events(alice, bob, allow_private, hook):
    alices = endpoint_for(alice, hook.url)
    bobs = endpoint_for(bob, hook.url + "/bob")
    bobs_public = manual_checkin(bob, visibility=Visibility.PUBLIC)
    alices_journey = manual_checkin(alice, visibility=Visibility.PUBLIC)
    like_create(user=bob, checkin_id=alices_journey.id)  # notifies alice
    checkin_update(checkin=bobs_public, message="x", visibility="public", purpose="private")

    alice_got = list(WebhookDelivery.objects.filter(endpoint=alices))
    bob_got = list(WebhookDelivery.objects.filter(endpoint=bobs))
    assert {d.event for d in alice_got} == {"checkin.created", "notification.created"}
    assert all(
        d.payload.get("user", {}).get("id", str(alice.id)) == str(alice.id) for d in alice_got
    )
    note = next(d.payload for d in alice_got if d.event == "notification.created")
    assert note["kind"] == "like" and note["actor"]["username"] == "bob"
    assert note["checkin_id"] == str(alices_journey.id)
    assert {d.event for d in bob_got} == {"checkin.created", "checkin.updated"}
    assert {d.payload["user"]["id"] for d in bob_got} == {str(bob.id)}


def test_a_notification_the_page_would_not_show_is_not_emitted(alice, allow_private):
    gone = UserFactory(username="gone", is_active=False)
    note = Notification.objects.create(recipient=alice, actor=gone, kind=Notification.Kind.FOLLOW)
    assert webhook_notification_payload(notification=note) is None
    journey = CheckInFactory(user=alice)
    other = Notification.objects.create(
        recipient=alice, actor=UserFactory(), kind=Notification.Kind.LIKE, checkin=journey
    )
    assert webhook_notification_payload(notification=other)["checkin_id"] == str(journey.id)


def test_a_traveller_without_webhooks_pays_no_query_per_event(alice, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert emitted(alice) == []


def test_a_check_in_of_a_traveller_without_webhooks_asks_for_no_endpoints(
    alice, django_assert_num_queries
):
    # The overlap lookup and the insert, in a savepoint (the test runs in a transaction).
    with django_assert_num_queries(4) as queries:
        manual_checkin(alice)
    assert not any("feed_webhookendpoint" in query["sql"] for query in queries.captured_queries)


def test_has_webhooks_follows_the_endpoints_made_and_deleted(alice, allow_private, hook):
    assert alice.has_webhooks is False
    first = endpoint_for(alice, hook.url)
    second = endpoint_for(alice, hook.url + "/2")
    alice.refresh_from_db()
    assert alice.has_webhooks is True
    webhook_endpoint_update(endpoint=second, active=False)  # paused: still an endpoint
    webhook_endpoint_delete(endpoint=first)
    alice.refresh_from_db()
    assert alice.has_webhooks is True
    webhook_endpoint_delete(endpoint=second)
    assert second.owner.has_webhooks is False  # the instance in hand too
    alice.refresh_from_db()
    assert alice.has_webhooks is False
    manual_checkin(alice)
    assert not WebhookDelivery.objects.exists()


def test_the_migration_marks_the_owners_of_endpoints_there_already(alice, bob, allow_private):
    from importlib import import_module

    from django.apps import apps

    endpoint_for(alice, "https://example.org/hook")
    type(alice).objects.update(has_webhooks=False)
    migration = import_module("trainy.accounts.migrations.0006_user_has_webhooks")
    migration.mark_owners(apps, None)
    flags = dict(type(alice).objects.values_list("username", "has_webhooks"))
    assert (flags["alice"], flags["bob"]) == (True, False)


def test_deliveries_are_queued_after_the_commit_only(
    alice, allow_private, hook, django_capture_on_commit_callbacks
):
    endpoint_for(alice, hook.url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        emitted(alice)
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_a_committed_check_in_reaches_the_receiver_and_a_rolled_back_one_emits_nothing(
    celery_worker, allow_private, hook
):
    alice = UserFactory(username="alice")
    endpoint = endpoint_for(alice, hook.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        manual_checkin(alice, line_name="Rolled back")
        raise RuntimeError("the write fails")
    assert not WebhookDelivery.objects.exists()

    journey = manual_checkin(alice, line_name="Committed")  # through the real broker and worker

    [request] = hook.wait_for(1)
    assert json.loads(request.body)["data"]["id"] == str(journey.id)
    assert verify(
        endpoint.secret, request.headers["Trainy-Signature"], request.body, now=timezone.now()
    )
    wait_for(
        lambda: WebhookDelivery.objects.filter(status="delivered").exists(),
        timeout=10,
        message="the delivery to be marked delivered",
    )
    # The rolled-back journey was never sent.
    assert len(hook.received) == 1


@pytest.mark.outage
@pytest.mark.django_db(transaction=True)
def test_a_check_in_while_the_broker_is_down_stands_and_its_delivery_is_swept_later(
    full_stack, services, allow_private, hook
):
    alice = UserFactory(username="alice")
    endpoint_for(alice, hook.url)
    services.stop("rabbitmq")

    journey = manual_checkin(alice)  # no error for the traveller

    assert CheckIn.objects.filter(id=journey.id).exists()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.queued_at is None
    # While the broker is still down the sweep leaves it for the next sweep.
    assert webhooks_sweep() == 1
    delivery.refresh_from_db()
    assert delivery.queued_at is None

    services.start("rabbitmq")
    assert webhooks_sweep() == 1
    delivery.refresh_from_db()
    assert delivery.queued_at is not None
    assert webhooks_sweep() == 0


def test_the_sweep_forgets_old_settled_deliveries(alice, allow_private, hook, settings):
    settings.TRAINY_WEBHOOKS_KEEP_DAYS = 30
    endpoint = endpoint_for(alice, hook.url)
    old, pending, recent = (
        WebhookDelivery.objects.create(endpoint=endpoint, event="checkin.created", payload={},
                                       status=status, queued_at=timezone.now())
        for status in ("delivered", "pending", "failed")
    )  # fmt: skip
    WebhookDelivery.objects.filter(id__in=[old.id, pending.id]).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    webhooks_sweep()
    assert set(WebhookDelivery.objects.values_list("id", flat=True)) == {pending.id, recent.id}


# --- Bounds --------------------------------------------------------------------------------------


def test_a_traveller_may_have_at_most_the_configured_number_of_endpoints(alice, allow_private):
    allow_private.TRAINY_WEBHOOKS_MAX_ENDPOINTS = 2
    endpoint_for(alice, "https://example.org/1")
    endpoint_for(alice, "https://example.org/2")
    with pytest.raises(ValidationError, match="most webhooks one may have is 2"):
        endpoint_for(alice, "https://example.org/3")
    endpoint_for(UserFactory(), "https://example.org/other")  # someone else's count


@pytest.mark.parametrize(
    ("url", "events", "field"),
    [
        ("https://example.org/" + "x" * 500, ALL_EVENTS, "url"),
        ("not a url", ALL_EVENTS, "url"),
        ("ftp://example.org/", ALL_EVENTS, "url"),
        ("https://example.org/", [], "events"),
        ("https://example.org/", ["checkin.exploded"], "events"),
    ],
)
def test_bad_endpoint_input_is_refused_with_a_message(alice, url, events, field):
    with pytest.raises(ValidationError) as refused:
        endpoint_for(alice, url, events=events)
    assert field in refused.value.message_dict
    assert not WebhookEndpoint.objects.exists()


def test_plain_http_is_refused_unless_the_private_setting_allows_it(alice, settings):
    settings.TRAINY_WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError, match="https://"):
        endpoint_for(alice, "http://example.org/hook")
    settings.TRAINY_WEBHOOKS_ALLOW_PRIVATE = True
    assert endpoint_for(alice, "http://example.org/hook").url == "http://example.org/hook"
