"""Enrichment that gives up is recorded on the journey (after its last retry, or at once for an
error retrying cannot mend), left alone by the sweeper, listed in the admin and retried there.

The document store's outage is made by stopping the real FerretDB; the task runs through
Celery's ``apply``, which runs an eager task's retries at once (their countdowns skipped), so
that all thirteen attempts take seconds, not the quarter of an hour of the real backoff. The
retry from the admin goes through the real broker to the real worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from celery.signals import task_prerun
from django.utils import timezone

from checkins.models import CheckIn
from checkins.services.enrichment_lifecycle import enrichment_sweep, journey_enrich
from checkins.tasks import enrich_journey
from tests.conftest import wait_for
from tests.factories import CheckInFactory, UserFactory

pytestmark = pytest.mark.django_db

FAILURES = "/admin/checkins/enrichmentfailure/"


@contextmanager
def attempts() -> Iterator[list[int]]:
    """The journey ids enrich_journey runs start with, one per attempt (Celery's task_prerun
    signal, sent for eager runs and their retries too)."""
    started: list[int] = []

    def record(sender: Any = None, args: Any = (), **kwargs: Any) -> None:
        if getattr(sender, "name", None) == enrich_journey.name:
            started.append(args[0])

    task_prerun.connect(record, weak=False)
    try:
        yield started
    finally:
        task_prerun.disconnect(record)


def failed(checkin: CheckIn, error: str, at: timedelta = timedelta(hours=2)) -> CheckIn:
    CheckIn.objects.filter(id=checkin.id).update(
        enrichment_error=error,
        enrichment_failed_at=timezone.now(),
        created_at=timezone.now() - at,
    )
    checkin.refresh_from_db()
    return checkin


def test_an_error_retrying_cannot_mend_is_recorded_at_once_without_retrying(alice):
    # A row no form writes (a coordinate that is not a number, as a faulty import could leave):
    # building its document fails the same way however often it is tried.
    journey = CheckInFactory(user=alice, origin_lat=float("nan"))

    with attempts() as tried:
        result = enrich_journey.apply(args=[journey.id], throw=False)

    assert result.failed()
    assert tried == [journey.id]
    journey.refresh_from_db()
    assert journey.enrichment_error == "ValueError: cannot convert float NaN to integer"
    assert journey.enrichment_failed_at is not None
    assert journey.enriched_at is None


@pytest.mark.outage
@pytest.mark.django_db(transaction=True)
def test_an_outage_past_the_last_retry_is_recorded_then_retried_from_the_admin(
    client, services, celery_worker
):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    journey = CheckInFactory(user=UserFactory(username="tess"))
    services.stop("ferretdb")

    with attempts() as tried:
        result = enrich_journey.apply(args=[journey.id], throw=False)

    assert result.failed()
    assert tried == [journey.id] * (enrich_journey.max_retries + 1)
    journey.refresh_from_db()
    assert journey.enrichment_error.startswith("DocumentStoreUnavailable: MongoDB is unavailable")
    assert journey.enrichment_failed_at is not None and journey.enriched_at is None
    # The sweeper leaves it to a person: queued again it would only fail again.
    assert enrichment_sweep(older_than=timedelta(0)) == 0
    assert "1 enrichment failure" in client.get(FAILURES).content.decode()

    services.start("ferretdb")
    response = client.post(
        FAILURES, {"action": "retry", "_selected_action": [journey.id]}, follow=True
    )
    assert "1 journey queued for enrichment again." in response.content.decode()
    wait_for(
        lambda: CheckIn.objects.filter(id=journey.id, enriched_at__isnull=False).exists(),
        timeout=60,
        message="the worker to enrich the journey once the store is back",
    )
    journey.refresh_from_db()
    assert journey.enrichment_error == "" and journey.enrichment_failed_at is None
    assert "0 enrichment failures" in client.get(FAILURES).content.decode()


def test_a_success_clears_a_recorded_failure(alice):
    journey = failed(CheckInFactory(user=alice), "RuntimeError: boom")
    enriched = journey_enrich(checkin_id=journey.id)
    assert enriched is not None and enriched.enriched_at is not None
    journey.refresh_from_db()
    assert journey.enrichment_error == "" and journey.enrichment_failed_at is None


def test_the_sweeper_leaves_failed_journeys_to_a_person(alice):
    long_ago = timezone.now() - timedelta(hours=2)
    lost = CheckInFactory(user=alice)
    CheckIn.objects.filter(id=lost.id).update(created_at=long_ago)
    broken = failed(CheckInFactory(user=alice), "RuntimeError: boom")

    assert enrichment_sweep() == 1
    broken.refresh_from_db()
    assert broken.enrichment_queued_at is None  # not queued: it would only fail again
    assert enrichment_sweep() == 0


def test_the_sweeper_is_not_starved_by_failures(alice):
    # A batch of permanent failures older than the lost journey used to fill every sweep.
    for _ in range(3):
        failed(CheckInFactory(user=alice), "RuntimeError: boom", at=timedelta(days=3))
    lost = CheckInFactory(user=alice)
    CheckIn.objects.filter(id=lost.id).update(created_at=timezone.now() - timedelta(hours=1))

    assert enrichment_sweep(limit=1) == 1
    lost.refresh_from_db()
    assert lost.enrichment_queued_at is not None


def test_failures_are_listed_with_their_error(admin_client, alice, bob):
    broken = failed(
        CheckInFactory(user=alice, line_name="ICE 1601"), "RuntimeError: no stop times\nline 2"
    )
    CheckInFactory(user=bob, line_name="RE 7")  # waiting, not failed

    page = admin_client.get(FAILURES).content.decode()
    assert "ICE 1601" in page and "RuntimeError: no stop times" in page
    assert "RE 7" not in page
    assert "1 enrichment failure" in page

    detail = admin_client.get(f"{FAILURES}{broken.id}/change/").content.decode()
    assert "RuntimeError: no stop times\nline 2" in detail


def test_the_failures_page_offers_retry_but_no_delete(admin_client, alice):
    failed(CheckInFactory(user=alice), "RuntimeError: boom")
    page = admin_client.get(FAILURES).content.decode()
    assert 'value="retry"' in page
    assert 'value="delete_selected"' not in page


@pytest.mark.django_db(transaction=True)
def test_retry_clears_the_failure_and_the_worker_enriches_the_journey(celery_worker, client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    traveller = UserFactory(username="tess")
    broken = failed(CheckInFactory(user=traveller), "RuntimeError: fixed since")

    response = client.post(
        FAILURES, {"action": "retry", "_selected_action": [broken.id]}, follow=True
    )

    assert "1 journey queued for enrichment again." in response.content.decode()
    broken.refresh_from_db()
    assert broken.enrichment_failed_at is None and broken.enrichment_error == ""
    wait_for(
        lambda: CheckIn.objects.filter(id=broken.id, enriched_at__isnull=False).exists(),
        timeout=60,
        message="the worker to enrich the retried journey",
    )
    assert "0 enrichment failures" in client.get(FAILURES).content.decode()
