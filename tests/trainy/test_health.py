"""/healthz and /readyz, including real outages of each backing service."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.test import Client
from django.urls import reverse

from feed.models import Follow
from tests.factories import CheckInFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_outage_logged_yet():
    """Each test starts with no outage reported (an earlier test may have ended on one)."""
    from trainy import health

    health._logged_errors.clear()


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


def test_readyz_is_for_the_cluster_only(client, settings):
    # Through the Gateway (a forwarding header, or a peer that is one of our proxies): no such
    # page. The kubelet talks to the pod directly.
    assert client.get("/readyz", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 404
    assert client.get("/readyz", HTTP_FORWARDED="for=203.0.113.9").status_code == 404
    settings.TRAINY_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client.get("/readyz", REMOTE_ADDR="10.0.0.2").status_code == 404
    assert client.get("/readyz", REMOTE_ADDR="10.0.0.2").status_code == 404
    # The same rule as /metrics, and the same way to open it up.
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.2").status_code == 404
    assert client.get("/readyz", REMOTE_ADDR="192.0.2.1").status_code == 200
    settings.TRAINY_READYZ_PUBLIC = True
    assert client.get("/readyz", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 200


def assert_nothing_revealed(body: dict) -> None:
    """Status, backend kind and latency: no exception, host, port or user name."""
    for component in body["components"].values():
        assert set(component) == {"status", "backend", "latency_ms"}
    text = json.dumps(body)
    for revealing in ("Error", "rror", "refused", "Errno", "127.0.0.1", "localhost", "trainy",
                      "6379", "5672", "27017", "Timeout"):  # fmt: skip
        assert revealing not in text, text


@pytest.mark.outage
@pytest.mark.parametrize(
    ("service", "component"),
    [("redis", "cache"), ("rabbitmq", "broker"), ("ferretdb", "documents")],
)
def test_readyz_names_a_stopped_optional_component_and_stays_ready(
    client, full_stack, services, service, component, caplog
):
    services.stop(service)
    with caplog.at_level(logging.INFO, logger="trainy.health"):
        status, body = readyz(client)
        # Only the database is required by default: Trainy keeps serving without the others.
        assert status == 200
        assert body["status"] == "degraded"
        assert body["down"] == [component]
        assert body["components"][component]["status"] == "down"
        assert_nothing_revealed(body)
        services.start(service)
        status, body = readyz(client)
        assert (status, body["down"]) == (200, [])
    # Why it was down is in the log, once, and that it is back; never a password.
    backend = body["components"][component]["backend"]
    messages = [r.getMessage() for r in caplog.records if r.name == "trainy.health"]
    assert len(messages) == 2, messages
    assert re.fullmatch(rf"readyz: {component} \({backend}\) is down: \w+: .+", messages[0])
    assert messages[1] == f"readyz: {component} ({backend}) is back"
    assert ":trainy@" not in messages[0]


@pytest.mark.outage
def test_readyz_reveals_nothing_when_a_required_component_is_down(
    client, full_stack, services, settings, caplog
):
    settings.READYZ_REQUIRED = ["database", "cache"]
    services.stop("redis")
    with caplog.at_level(logging.WARNING, logger="trainy.health"):
        status, body = readyz(client)
    assert status == 503
    assert body["down"] == ["cache"]
    assert_nothing_revealed(body)
    assert any("cache (redis) is down" in r.getMessage() for r in caplog.records)


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
