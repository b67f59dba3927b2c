"""/healthz and /readyz, including real outages of each backing service."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse

from feed.models import Follow
from tests.factories import CheckInFactory

pytestmark = pytest.mark.django_db(transaction=True)


def readyz(client):
    response = client.get("/readyz")
    return response.status_code, response.json()


def test_healthz_answers_without_touching_any_dependency(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_every_component_up(client, full_stack):
    status, body = readyz(client)
    assert status == 200
    assert body["status"] == "ok"
    assert body["down"] == []
    components = body["components"]
    assert components["database"]["backend"] == "postgresql"
    assert components["cache"]["backend"] == "redis"
    assert components["broker"]["backend"] == "amqp"
    assert components["documents"]["backend"] == "mongodb"
    assert {c["status"] for c in components.values()} == {"ok"}


@pytest.mark.outage
def test_readyz_is_503_and_names_the_database_when_postgresql_is_stopped(
    client, full_stack, services
):
    services.stop("postgres")
    status, body = readyz(client)
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["down"] == ["database"]
    assert body["components"]["database"]["status"] == "down"
    services.start("postgres")
    assert readyz(client)[0] == 200


@pytest.mark.outage
@pytest.mark.parametrize(
    ("service", "component"),
    [("redis", "cache"), ("rabbitmq", "broker"), ("ferretdb", "documents")],
)
def test_readyz_names_a_stopped_optional_component_and_stays_ready(
    client, full_stack, services, service, component
):
    services.stop(service)
    status, body = readyz(client)
    # Only the database is required by default: Trainy keeps serving without the others.
    assert status == 200
    assert body["status"] == "degraded"
    assert body["down"] == [component]
    assert body["components"][component]["status"] == "down"
    assert body["components"][component]["error"]
    services.start(service)
    status, body = readyz(client)
    assert (status, body["down"]) == (200, [])


@pytest.mark.outage
def test_readyz_is_503_when_a_component_made_required_is_down(
    client, full_stack, services, settings
):
    settings.READYZ_REQUIRED = ["database", "documents"]
    services.stop("ferretdb")
    status, body = readyz(client)
    assert status == 503
    assert body["down"] == ["documents"]


@pytest.mark.outage
def test_pages_still_render_when_redis_is_down(client, full_stack, services, alice, bob, caplog):
    CheckInFactory(user=alice, message="still here")
    client.force_login(alice)
    services.stop("redis")
    from django.core.cache import cache

    with caplog.at_level(logging.WARNING):
        cache.set("trainy:probe", 1)  # a cache write during the outage: logged, not raised
        feed = client.get("/")
        journeys = client.get("/journeys/")
        stats = client.get("/stats/")
        # The signed-out front page (cached while Redis is up), and a rate-limited action.
        front = Client().get("/")
        follow = client.post(reverse("feed:follow", args=[bob.username]))
        following = client.get(reverse("feed:following"))
    assert feed.status_code == journeys.status_code == stats.status_code == 200
    assert front.status_code == following.status_code == 200
    assert b"still here" in feed.content and b"still here" in front.content
    assert (
        follow.status_code == 302 and Follow.objects.filter(follower=alice, followee=bob).exists()
    )
    assert any(record.name == "django_redis.cache" for record in caplog.records)
