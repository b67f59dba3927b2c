"""Celery's wiring, and a real worker consuming from RabbitMQ."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery import states
from django.db import connection
from django.utils import timezone

from checkins.models import CheckIn, Mode
from checkins.services.checkins import Place, checkin_create
from tests.conftest import WORKER_APPLICATION_NAME, wait_for
from trainy.celery import _drop_connections_after_failure, app
from trainy.documents import journey_store


def test_the_app_is_configured_for_reliable_json_tasks():
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert {queue.name for queue in conf.task_queues} >= {"default", "enrichment"}


def test_enrichment_is_routed_to_its_own_queue():
    route = app.amqp.router.route({}, "checkins.tasks.enrich_journey")
    assert route["queue"].name == "enrichment"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_enriches_a_checkin_through_rabbitmq(full_stack, celery_worker, alice):
    departure = timezone.now() - timedelta(hours=2)
    checkin = checkin_create(
        user=alice,
        line_name="ICE 1601",
        mode=Mode.LONG_DISTANCE,
        origin=Place("Berlin Hbf", 52.5251, 13.3694),
        destination=Place("Hamburg Hbf", 53.5530, 10.0069),
        departure_planned=departure,
        arrival_planned=departure + timedelta(minutes=111),
    )
    # The row is committed at once; enrichment happens in the worker process.
    enriched = wait_for(
        lambda: CheckIn.objects.filter(id=checkin.id, enriched_at__isnull=False).first(),
        timeout=60,
        message="the worker to enrich the check-in",
    )
    assert enriched.duration_s == 111 * 60
    assert 250_000 < enriched.distance_m < 260_000
    document = journey_store().get(checkin.id)
    assert document["distance"]["meters"] == enriched.distance_m
    assert [stop["name"] for stop in document["stopovers"]] == ["Berlin Hbf", "Hamburg Hbf"]


def _worker_sessions() -> list[tuple[int, object]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE application_name = %s",
            [WORKER_APPLICATION_NAME],
        )
        return sorted(cursor.fetchall())


def _checked_in_and_enriched(user, hours_ago: int) -> None:
    departure = timezone.now() - timedelta(hours=hours_ago)
    checkin = checkin_create(
        user=user,
        line_name="RE 1",
        origin=Place("Berlin Hbf", 52.5251, 13.3694),
        destination=Place("Potsdam Hbf", 52.3915, 13.0665),
        departure_planned=departure,
        arrival_planned=departure + timedelta(minutes=30),
    )
    wait_for(
        lambda: CheckIn.objects.filter(id=checkin.id, enriched_at__isnull=False).exists(),
        timeout=60,
        message="the worker to enrich the check-in",
    )


@pytest.mark.django_db(transaction=True)
def test_the_worker_keeps_its_database_connection_from_task_to_task(
    full_stack, celery_worker, alice
):
    # Celery's default is a new PostgreSQL connection for every task, which cost more than the
    # enrichment itself.
    _checked_in_and_enriched(alice, hours_ago=5)
    sessions = _worker_sessions()
    assert sessions, "the worker closed its database connection after the task"
    _checked_in_and_enriched(alice, hours_ago=3)
    assert _worker_sessions() == sessions


class _Request:
    is_eager = False


class _Task:
    request = _Request()


@pytest.mark.django_db(transaction=True)
def test_a_task_that_did_not_succeed_leaves_no_connection_behind():
    # A task cut off mid-query (a time limit, an outage) may leave a connection Django would
    # still take for usable: the next task gets a new one.
    connection.ensure_connection()
    _drop_connections_after_failure(task=_Task(), state=states.SUCCESS)
    assert connection.connection is not None
    _drop_connections_after_failure(task=_Task(), state=states.RETRY)
    assert connection.connection is None
