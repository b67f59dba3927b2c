"""The admin's journeys: pages for admins only, search, filters, and actions that go through the
services (a journey made private leaves the feed, a deleted one takes its document along,
enrichment is queued again and done by the worker)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from checkins.models import CheckIn, Mode, Purpose, Visibility
from checkins.services.enrichment_lifecycle import journey_enrich
from tests.conftest import wait_for
from tests.factories import PASSWORD, CheckInFactory, UserFactory
from trainy.documents import journey_store

pytestmark = pytest.mark.django_db

JOURNEYS = "/admin/checkins/checkin/"
ADMIN_PAGES = [
    "/admin/",
    JOURNEYS,
    "/admin/checkins/enrichmentfailure/",
    "/admin/checkins/feed/",
    "/admin/checkins/feed/import/",
    "/admin/checkins/feedversion/",
    "/admin/checkins/feedimport/",
    "/admin/accounts/user/",
]


def listed(client, query: str = "") -> set[int]:
    """The ids of the journeys the admin's list shows for ``query`` (a query string)."""
    response = client.get(f"{JOURNEYS}?{query}")
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def act(client, action: str, journeys: list[CheckIn], url: str = JOURNEYS, **extra):
    data = {"action": action, "_selected_action": [j.id for j in journeys], **extra}
    return client.post(url, data, follow=True)


def at(day: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(day))


# --- Who may see the admin ----------------------------------------------------------------------


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_the_admin_pages_render_for_a_superuser(admin_client, alice, url):
    CheckInFactory(user=alice)
    assert admin_client.get(url).status_code == 200


def test_a_journey_page_shows_it_read_only(admin_client, alice):
    journey = CheckInFactory(user=alice, message="Off to Hamburg")
    page = admin_client.get(f"{JOURNEYS}{journey.id}/change/").content.decode()
    assert "Off to Hamburg" in page
    assert 'name="_save"' not in page  # the traveller's to edit, not the admin's


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_a_traveller_is_sent_to_the_admin_login(client, alice, url):
    client.login(username="alice", password=PASSWORD)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_traveller_cannot_run_an_action(client, alice):
    journey = CheckInFactory(user=alice, visibility=Visibility.PUBLIC)
    client.login(username="alice", password=PASSWORD)
    response = client.post(JOURNEYS, {"action": "make_private", "_selected_action": [journey.id]})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    journey.refresh_from_db()
    assert journey.visibility == Visibility.PUBLIC


# --- Search and filters -------------------------------------------------------------------------


def test_journeys_are_found_by_traveller_line_and_station(admin_client, alice, bob):
    hamburg = CheckInFactory(user=alice, line_name="ICE 1601")
    munich = CheckInFactory(
        user=bob, line_name="ICE 503", origin_name="Hamburg Hbf", destination_name="München Hbf"
    )
    cologne = CheckInFactory(
        user=bob, line_name="RE 7", origin_name="Köln Hbf", destination_name="Krefeld Hbf"
    )

    assert listed(admin_client, "q=alice") == {hamburg.id}
    assert listed(admin_client, "q=Bob") == {munich.id, cologne.id}  # the display name
    assert listed(admin_client, "q=ICE") == {hamburg.id, munich.id}
    assert listed(admin_client, "q=RE+7") == {cologne.id}
    # A station: where journeys start or where they end.
    assert listed(admin_client, "q=Hamburg+Hbf") == {hamburg.id, munich.id}
    assert listed(admin_client, "q=Krefeld") == {cologne.id}
    assert listed(admin_client, "q=Paris") == set()


def test_journeys_are_filtered_by_departure_date(admin_client, alice):
    june = CheckInFactory(user=alice, departure_planned=at("2019-06-03T08:00"))
    july = CheckInFactory(user=alice, departure_planned=at("2019-07-01T08:00"))
    assert listed(admin_client, "departure_planned__year=2019") == {june.id, july.id}
    assert listed(admin_client, "departure_planned__year=2019&departure_planned__month=6") == {
        june.id
    }
    assert listed(
        admin_client,
        "departure_planned__year=2019&departure_planned__month=7&departure_planned__day=1",
    ) == {july.id}


def test_journeys_are_filtered_by_purpose_visibility_and_mode(admin_client, alice):
    business = CheckInFactory(user=alice, purpose=Purpose.BUSINESS)
    commute = CheckInFactory(
        user=alice, purpose=Purpose.COMMUTE, visibility=Visibility.PRIVATE, mode=Mode.TRAM
    )
    assert listed(admin_client, "purpose__exact=business") == {business.id}
    assert listed(admin_client, "visibility__exact=private") == {commute.id}
    assert listed(admin_client, "mode__exact=tram") == {commute.id}
    assert listed(admin_client, "mode__exact=long_distance") == {business.id}


def test_journeys_are_filtered_by_enrichment_state(admin_client, alice):
    enriched = CheckInFactory(user=alice)
    journey_enrich(checkin_id=enriched.id)
    waiting = CheckInFactory(user=alice)
    failed = CheckInFactory(user=alice)
    CheckIn.objects.filter(id=failed.id).update(
        enrichment_error="RuntimeError: boom", enrichment_failed_at=timezone.now()
    )

    assert listed(admin_client, "enrichment=enriched") == {enriched.id}
    assert listed(admin_client, "enrichment=waiting") == {waiting.id}
    assert listed(admin_client, "enrichment=failed") == {failed.id}
    assert listed(admin_client) == {enriched.id, waiting.id, failed.id}


# --- Actions ------------------------------------------------------------------------------------


def test_make_private_takes_journeys_out_of_the_feed(
    admin_client, alice, bob, django_capture_on_commit_callbacks
):
    from django.test import Client

    shown = CheckInFactory(user=alice, visibility=Visibility.PUBLIC, line_name="ICE 1601")
    also = CheckInFactory(user=bob, visibility=Visibility.AUTHENTICATED, line_name="ICE 503")
    kept = CheckInFactory(user=bob, visibility=Visibility.PUBLIC, line_name="RE 7")
    visitor = Client()
    assert "ICE 1601" in visitor.get("/").content.decode()  # and now cached

    with django_capture_on_commit_callbacks(execute=True):  # the cache is let go on commit
        with_message = act(admin_client, "make_private", [shown, also])

    assert "2 journeys made private." in with_message.content.decode()
    assert set(
        CheckIn.objects.filter(visibility=Visibility.PRIVATE).values_list("id", flat=True)
    ) == {shown.id, also.id}
    kept.refresh_from_db()
    assert kept.visibility == Visibility.PUBLIC
    front = visitor.get("/").content.decode()
    assert "ICE 1601" not in front and "RE 7" in front
    assert visitor.get(f"/journeys/{shown.id}/").status_code == 404


def test_delete_removes_journeys_with_their_documents(
    admin_client, alice, bob, django_capture_on_commit_callbacks
):
    first, second = CheckInFactory(user=alice), CheckInFactory(user=bob)
    kept = CheckInFactory(user=bob)
    for journey in (first, second, kept):
        journey_enrich(checkin_id=journey.id)
        assert journey_store().get(journey.id) is not None

    confirm = act(admin_client, "delete_selected", [first, second])
    assert "Are you sure" in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # documents go after the commit
        done = act(admin_client, "delete_selected", [first, second], post="yes")

    assert "Successfully deleted 2" in done.content.decode()
    assert set(CheckIn.objects.values_list("id", flat=True)) == {kept.id}
    assert journey_store().get(first.id) is None
    assert journey_store().get(second.id) is None
    assert journey_store().get(kept.id) is not None


def test_delete_from_a_journey_page_removes_its_document(
    admin_client, alice, django_capture_on_commit_callbacks
):
    journey = CheckInFactory(user=alice)
    journey_enrich(checkin_id=journey.id)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{JOURNEYS}{journey.id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not CheckIn.objects.filter(id=journey.id).exists()
    assert journey_store().get(journey.id) is None


@pytest.mark.django_db(transaction=True)
def test_enrichment_is_run_again_by_the_worker(celery_worker, client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    traveller = UserFactory(username="tess")
    done = CheckInFactory(user=traveller)
    journey_enrich(checkin_id=done.id)
    earlier = CheckIn.objects.get(id=done.id).enriched_at
    never = CheckInFactory(user=traveller)

    response = act(client, "enrich_again", [done, never])

    assert "2 journeys queued for enrichment." in response.content.decode()
    assert (
        CheckIn.objects.filter(id__in=[done.id, never.id], enrichment_queued_at=None).count() == 0
    )
    wait_for(
        lambda: (
            CheckIn.objects.filter(id=never.id, enriched_at__isnull=False).exists()
            and CheckIn.objects.filter(id=done.id, enriched_at__gt=earlier).exists()
        ),
        timeout=60,
        message="the worker to enrich both journeys again",
    )
    assert journey_store().get(never.id) is not None


def test_the_journey_list_costs_the_same_for_many_journeys(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(JOURNEYS).status_code == 200
        return len(captured)

    CheckInFactory()
    admin_client.get(JOURNEYS)  # the first request of a session records the browser
    few = queries()
    for number in range(30):
        CheckInFactory(departure_planned=timezone.now() - timedelta(days=number))
    assert queries() == few
