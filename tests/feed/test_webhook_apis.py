"""/api/v1/webhooks/: add (the secret shown once), read, change, pause and resume, delete, a new
secret, the last deliveries paged by cursor; private addresses refused as on the page; someone
else's webhook is unknown; the scope ``webhooks``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feed.models import WebhookDelivery, WebhookEndpoint
from feed.services.webhooks import webhook_endpoint_create
from tests.apiclient import assert_refused_without_the_scope, bearer, error_of, token_for

pytestmark = pytest.mark.django_db

HOOKS = "/api/v1/webhooks/"
JSON = "application/json"


@pytest.fixture
def api(alice):
    return bearer(token_for(alice, ("webhooks",)))


def add(api, url="https://example.org/hook", events=("checkin.created",)):
    return api.post(HOOKS, {"url": url, "events": list(events)}, content_type=JSON)


def test_adding_a_webhook_shows_its_secret_this_once(api, alice):
    response = add(api, events=["checkin.updated", "checkin.created"])
    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get(owner=alice)
    assert body["secret"] == endpoint.secret and body["secret"].startswith("whsec_")
    assert response["Location"] == f"http://testserver{HOOKS}{endpoint.id}/"
    assert (body["url"], body["events"], body["active"]) == (
        "https://example.org/hook", ["checkin.created", "checkin.updated"], True,
    )  # fmt: skip
    for read in (api.get(HOOKS), api.get(f"{HOOKS}{endpoint.id}/")):
        assert read.status_code == 200
        assert endpoint.secret not in read.content.decode()
    assert [hook["id"] for hook in api.get(HOOKS).json()] == [endpoint.id]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [({"url": "http://example.org/hook"}, "url", "https://"),
     ({"url": "https://10.0.0.1/hook"}, "url", "public address"),
     ({"url": "https://127.0.0.1/hook"}, "url", "public address"),
     ({"url": "https://intranet.local/hook"}, "url", "public address"),
     ({"url": "https://example.org/" + "x" * 500}, "url", "500"),
     ({"events": []}, "events", "Choose at least one event."),
     ({"events": ["checkin.exploded"]}, "events.0", "not a valid choice"),
     ({"events": "checkin.created"}, "events", "Expected a list")],
)  # fmt: skip
def test_a_bad_webhook_is_refused_per_field(api, data, field, message):
    body = {"url": "https://example.org/hook", "events": ["checkin.created"]} | data
    response = api.post(HOOKS, body, content_type=JSON)
    assert response.status_code == 400, response.content
    fields = error_of(response)["fields"]
    assert message in " ".join(fields[field]), fields
    assert not WebhookEndpoint.objects.exists()


def test_a_private_address_is_accepted_when_the_admins_allow_it(api, settings):
    settings.TRAINY_WEBHOOKS_ALLOW_PRIVATE = True
    assert add(api, url="http://127.0.0.1:9000/hook").status_code == 201


def test_one_webhook_too_many_is_refused_with_the_pages_message(api, settings):
    settings.TRAINY_WEBHOOKS_MAX_ENDPOINTS = 2
    assert add(api).status_code == 201 and add(api).status_code == 201
    response = add(api)
    assert response.status_code == 400
    assert "The most webhooks one may have is 2" in error_of(response)["message"]


def test_a_webhook_is_changed_paused_resumed_and_deleted(api, alice):
    hook = add(api).json()
    path = f"{HOOKS}{hook['id']}/"
    changed = api.patch(path, {"url": "https://example.org/new",
                               "events": ["notification.created"]}, content_type=JSON)  # fmt: skip
    assert changed.status_code == 200
    assert (changed.json()["url"], changed.json()["events"]) == (
        "https://example.org/new", ["notification.created"],
    )  # fmt: skip
    WebhookEndpoint.objects.filter(id=hook["id"]).update(consecutive_failures=4)

    paused = api.patch(path, {"active": False}, content_type=JSON).json()
    assert paused["active"] is False and paused["url"] == "https://example.org/new"
    resumed = api.patch(path, {"active": True}, content_type=JSON).json()
    assert resumed["active"] is True and resumed["consecutive_failures"] == 0

    refused = api.patch(path, {"url": "https://192.168.1.1/"}, content_type=JSON)
    assert refused.status_code == 400 and "url" in error_of(refused)["fields"]
    assert api.get(path).json()["url"] == "https://example.org/new"

    deleted = api.delete(path)
    assert deleted.status_code == 204 and deleted.content == b""
    assert not WebhookEndpoint.objects.exists()
    assert api.delete(path).status_code == 404


def test_a_new_secret_replaces_the_old_and_is_shown_once(api):
    hook = add(api).json()
    response = api.post(f"{HOOKS}{hook['id']}/rotate-secret/")
    assert response.status_code == 200
    secret = response.json()["secret"]
    assert secret != hook["secret"]
    assert WebhookEndpoint.objects.get(id=hook["id"]).secret == secret
    assert secret not in api.get(f"{HOOKS}{hook['id']}/").content.decode()


def deliveries(endpoint: WebhookEndpoint, count: int) -> list[WebhookDelivery]:
    """``count`` deliveries a minute apart, the newest last; every other one failed."""
    now = timezone.now()
    made = []
    for index in range(count):
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event="checkin.created", payload={"n": index},
            status="delivered" if index % 2 else "failed", attempts=1 + index % 3,
            response_status=204 if index % 2 else 500, duration_ms=10 + index,
        )  # fmt: skip
        made.append(delivery)
    for index, delivery in enumerate(made):
        # Two share a moment: the id orders them.
        moment = now - timedelta(minutes=count - index - (index == 1))
        WebhookDelivery.objects.filter(id=delivery.id).update(created_at=moment)
    return made


def test_the_deliveries_come_newest_first_by_cursor_with_status_duration_and_attempts(api, alice):
    endpoint = WebhookEndpoint.objects.get(id=add(api).json()["id"])
    made = deliveries(endpoint, 25)
    path = f"{HOOKS}{endpoint.id}/deliveries/"
    first = api.get(path, {"limit": 10})
    assert first.status_code == 200
    page = first.json()
    newest = made[-1]
    assert page["results"][0] == {
        "id": newest.id, "event": "checkin.created", "status": "failed", "attempts": 1,
        "response_status": 500, "duration_ms": 34, "error": "",
        "created_at": page["results"][0]["created_at"], "delivered_at": None,
    }  # fmt: skip
    seen = [row["id"] for row in page["results"]]
    with CaptureQueriesContext(connection) as queries:
        while page["next"]:
            page = api.get(page["next"]).json()
            seen += [row["id"] for row in page["results"]]
    expected = sorted(made, key=lambda d: (WebhookDelivery.objects.get(id=d.id).created_at, d.id))
    assert seen == [delivery.id for delivery in reversed(expected)]
    assert not any("OFFSET" in query["sql"] for query in queries)


@pytest.mark.parametrize(
    "query", [{"cursor": "12-x"}, {"cursor": f"{10**22}-1"}, {"limit": "0"}, {"limit": "101"}]
)
def test_a_bad_page_of_deliveries_is_a_400(api, query):
    hook = add(api).json()
    response = api.get(f"{HOOKS}{hook['id']}/deliveries/", query)
    assert response.status_code == 400
    assert set(query) & set(error_of(response)["fields"])


def test_someone_elses_webhook_is_unknown_and_stays_as_it_was(api, bob):
    bobs = webhook_endpoint_create(
        owner=bob, url="https://example.org/bob", events=["checkin.created"]
    )
    deliveries(bobs, 1)
    path = f"{HOOKS}{bobs.id}/"
    requests = [
        api.get(path),
        api.patch(path, {"active": False}, content_type=JSON),
        api.post(f"{path}rotate-secret/"),
        api.get(f"{path}deliveries/"),
        api.delete(path),
    ]
    for response in requests:
        assert response.status_code == 404
        assert error_of(response) == {"code": "not_found", "message": "No such webhook.",
                                      "fields": {}}  # fmt: skip
    assert api.get(HOOKS).json() == []
    after = WebhookEndpoint.objects.get(id=bobs.id)
    assert (after.active, after.secret) == (True, bobs.secret)


def test_every_operation_needs_the_webhooks_scope(alice):
    hook = webhook_endpoint_create(
        owner=alice, url="https://example.org/a", events=["checkin.created"]
    )
    path = f"{HOOKS}{hook.id}/"
    for method, where, data in (
        ("get", HOOKS, None),
        ("post", HOOKS, {"url": "https://example.org/b", "events": ["checkin.created"]}),
        ("get", path, None),
        ("patch", path, {"active": False}),
        ("post", f"{path}rotate-secret/", None),
        ("get", f"{path}deliveries/", None),
        ("delete", path, None),
    ):
        assert_refused_without_the_scope(alice, method, where, "webhooks", data)
    after = WebhookEndpoint.objects.get(id=hook.id)
    assert (after.active, after.secret) == (True, hook.secret)
    assert WebhookEndpoint.objects.count() == 1
