"""trainy.tasks: queueing after the commit under one broker policy (against the real RabbitMQ,
really stopped), and the base task that records a failure on its row."""

from __future__ import annotations

import logging

import pytest
from django.db import OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

from checkins.models import CheckIn
from checkins.tasks import enrich_journey
from tests.factories import CheckInFactory
from trainy.tasks import RecordsFailure, enqueue_on_commit


class Refusals:
    def __init__(self) -> None:
        self.calls: list[tuple[list[int], BrokerUnavailable]] = []

    def __call__(self, ids: list[int], error: BrokerUnavailable) -> None:
        self.calls.append((ids, error))


@pytest.mark.outage
@pytest.mark.django_db(transaction=True)
def test_a_stopped_broker_is_reported_once_after_the_commit_with_every_id_not_queued(
    full_stack, services
):
    services.stop("rabbitmq")
    refused = Refusals()

    with transaction.atomic():
        enqueue_on_commit(enrich_journey, [101, 102, 103], on_refused=refused)
        assert refused.calls == []  # nothing is published before the commit

    # Not raised to the code that committed; the first refusal stops the queueing, and the
    # ids not queued are handed over together.
    assert len(refused.calls) == 1
    ids, error = refused.calls[0]
    assert ids == [101, 102, 103]
    assert isinstance(error, BrokerUnavailable)


@pytest.mark.outage
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_queues_nothing(full_stack, services):
    services.stop("rabbitmq")
    refused = Refusals()

    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(enrich_journey, [101], on_refused=refused)
        raise RuntimeError("the write fails")

    # Had it been published, the stopped broker would have refused it.
    assert refused.calls == []


@pytest.mark.outage
@pytest.mark.django_db(transaction=True)
def test_a_checkin_saved_while_the_broker_is_stopped_is_left_for_the_sweeper(
    full_stack, services, alice
):
    journey = CheckInFactory(user=alice)
    CheckIn.objects.filter(id=journey.id).update(enrichment_queued_at=journey.created_at)
    services.stop("rabbitmq")
    from checkins.services.enrichment_lifecycle import enrichment_queue

    with transaction.atomic():
        enrichment_queue(checkin_ids=[journey.id])

    journey.refresh_from_db()
    assert journey.enrichment_queued_at is None  # the sweeper takes it up


class Recorded(RecordsFailure):
    subject = "row_id"
    name = "tests.recorded"

    def __init__(self, error: Exception | None = None) -> None:
        self.recorded: list[tuple[object, str]] = []
        self.error = error

    def record_failure(self, subject_id: object, exc: BaseException) -> None:
        if self.error is not None:
            raise self.error
        self.recorded.append((subject_id, str(exc)))


@pytest.mark.parametrize(
    ("args", "kwargs"), [((7,), {}), ((), {"row_id": 7})], ids=["positional", "keyword"]
)
def test_the_base_task_records_a_failure_on_the_row_named_by_its_first_argument(args, kwargs):
    task = Recorded()
    task.on_failure(ValueError("broken"), "task-id", args, kwargs, None)
    assert task.recorded == [(7, "broken")]


def test_a_failure_that_cannot_be_recorded_with_the_database_away_is_logged(caplog):
    task = Recorded(error=OperationalError("connection refused"))
    with caplog.at_level(logging.ERROR, logger="trainy.tasks"):
        task.on_failure(ValueError("broken"), "task-id", (7,), {}, None)
    assert "tests.recorded of 7 failed and could not be recorded" in caplog.text


def test_every_task_celery_beat_runs_is_a_registered_task():
    from django.conf import settings

    from trainy.celery import app

    app.loader.import_default_modules()  # the apps' tasks modules, as a worker loads them
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "checkins.tasks.make_old_journeys_private" in scheduled
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)
