"""The webhooks page (/settings/webhooks/): add, the secret shown once, rotate, pause, resume,
delete, the last deliveries listed; someone else's webhook is unknown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from feed.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from feed.selectors import RECENT_DELIVERIES
from feed.services.webhooks import webhook_endpoint_create

pytestmark = pytest.mark.django_db

PAGE = "/settings/webhooks/"


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def add(client, url="https://example.org/hook", events=("checkin.created",)):
    return client.post(PAGE, {"url": url, "events": list(events)})


def test_adding_a_webhook_shows_its_secret_once(signed_in, alice):
    response = add(signed_in)
    assert response.status_code == 302 and response["Location"] == PAGE
    endpoint = WebhookEndpoint.objects.get(owner=alice)
    assert list(endpoint.subscriptions.values_list("event", flat=True)) == ["checkin.created"]

    first = signed_in.get(PAGE).content.decode()
    assert endpoint.secret in first and "shown only once" in first
    again = signed_in.get(PAGE).content.decode()
    assert endpoint.secret not in again
    assert "https://example.org/hook" in again


def test_a_new_secret_replaces_the_old_and_is_shown_once(signed_in, alice):
    add(signed_in)
    signed_in.get(PAGE)
    endpoint = WebhookEndpoint.objects.get(owner=alice)
    old = endpoint.secret

    response = signed_in.post(reverse("feed:webhook_rotate", args=[endpoint.id]))

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    page = signed_in.get(PAGE).content.decode()
    assert endpoint.secret in page and old not in page
    assert endpoint.secret not in signed_in.get(PAGE).content.decode()


def test_pause_resume_and_delete(signed_in, alice):
    add(signed_in)
    endpoint = WebhookEndpoint.objects.get(owner=alice)

    signed_in.post(reverse("feed:webhook_pause", args=[endpoint.id]))
    endpoint.refresh_from_db()
    assert not endpoint.active and "Paused" in signed_in.get(PAGE).content.decode()

    signed_in.post(reverse("feed:webhook_resume", args=[endpoint.id]))
    endpoint.refresh_from_db()
    assert endpoint.active

    signed_in.post(reverse("feed:webhook_delete", args=[endpoint.id]))
    assert not WebhookEndpoint.objects.exists()
    assert "No webhooks yet" in signed_in.get(PAGE).content.decode()


def test_someone_elses_webhook_is_unknown(client, alice, bob):
    bobs = webhook_endpoint_create(
        owner=bob, url="https://example.org/b", events=["checkin.created"]
    )
    client.force_login(alice)
    assert "example.org/b" not in client.get(PAGE).content.decode()
    for action in ("rotate", "pause", "resume", "delete"):
        response = client.post(reverse(f"feed:webhook_{action}", args=[bobs.id]))
        assert response.status_code == 404, action
    bobs.refresh_from_db()
    assert bobs.active and WebhookEndpoint.objects.filter(id=bobs.id).exists()


def test_an_action_is_a_post(signed_in, alice):
    add(signed_in)
    endpoint = WebhookEndpoint.objects.get(owner=alice)
    assert signed_in.get(reverse("feed:webhook_delete", args=[endpoint.id])).status_code == 405
    assert WebhookEndpoint.objects.filter(id=endpoint.id).exists()


def test_the_last_deliveries_are_listed_with_status_code_and_duration(signed_in, alice):
    endpoint = webhook_endpoint_create(
        owner=alice, url="https://example.org/hook", events=WebhookEvent.values
    )
    for number in range(RECENT_DELIVERIES + 5):
        WebhookDelivery.objects.create(
            endpoint=endpoint, event="checkin.created", payload={}, status="delivered",
            attempts=1, response_status=200 + number, duration_ms=1000 + number,
        )  # fmt: skip
    WebhookDelivery.objects.create(
        endpoint=endpoint, event="checkin.deleted", payload={}, status="failed", attempts=6,
        response_status=503, duration_ms=42, error="Answered 503: busy",
    )  # fmt: skip

    page = signed_in.get(PAGE).content.decode()

    assert page.count('data-testid="delivery"') == RECENT_DELIVERIES
    assert "503" in page and "42 ms" in page and "Answered 503: busy" in page
    assert "1024 ms" in page and "1004 ms" not in page  # the oldest are left out


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"url": "http://example.org/hook", "events": ["checkin.created"]},
            "must start with https://",
        ),
        ({"url": "https://10.1.2.3/hook", "events": ["checkin.created"]}, "public address"),
        ({"url": "https://example.org/" + "x" * 600, "events": ["checkin.created"]}, "at most 500"),
        ({"url": "", "events": ["checkin.created"]}, "Enter the URL"),
        ({"url": "https://example.org/", "events": []}, "Choose at least one event"),
        ({"url": "https://example.org/", "events": ["nope"]}, "Choose events from the list"),
    ],
)
def test_bad_input_gets_a_clear_error(signed_in, data, message):
    response = signed_in.post(PAGE, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_too_many_webhooks_get_a_clear_error(signed_in, settings):
    settings.TRAINY_WEBHOOKS_MAX_ENDPOINTS = 1
    add(signed_in)
    response = add(signed_in, url="https://example.org/second")
    assert response.status_code == 400
    assert "most webhooks one may have is 1" in response.content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "login" in response["Location"]
