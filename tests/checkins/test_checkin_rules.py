"""The rules of checking in, through the service and the pages, with clear messages."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from checkins.models import CheckIn
from checkins.services.checkins import CheckInOverlap, Place, checkin_create, checkin_from_trip
from tests.checkins.feeds import post_trip_checkin, write_feed
from tests.factories import CheckInFactory

pytestmark = pytest.mark.django_db
MONDAY = date(2019, 6, 3)


@pytest.fixture
def feed(tmp_path):
    call_command("import_gtfs", str(write_feed(tmp_path)), name="test", verbosity=0)


def from_trip(user, **overrides):
    values = {
        "user": user,
        "feed": "test",
        "trip_id": "T1",
        "service_date": MONDAY,
        "origin_seq": 1,
        "destination_seq": 2,
    } | overrides
    return checkin_from_trip(**values)


def test_a_trip_checkin_records_the_trip_and_its_stops(feed, alice):
    checkin = from_trip(alice, message="Hello")
    # The station, not its platform: what the traveller would say.
    assert checkin.origin_name == "Berlin Hbf"
    assert checkin.destination_name == "Hamburg Hbf, Fernbahn"
    assert checkin.line_name == "ICE 1601" and checkin.mode == "long_distance"
    assert checkin.departure_planned == datetime(2019, 6, 3, 6, 2, tzinfo=UTC)
    assert checkin.visibility == alice.default_visibility


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"destination_seq": 1}, "The exit stop must come after the entry stop."),
        ({"origin_seq": 2, "destination_seq": 1}, "The exit stop must come after the entry stop."),
        ({"destination_seq": 9}, "not a stop of this trip"),
        ({"trip_id": "NO-SUCH-TRIP"}, "does not run on that day"),
        ({"service_date": date(2019, 6, 8)}, "does not run on that day"),
    ],
)
def test_impossible_trip_checkins_are_refused(feed, alice, overrides, message):
    with pytest.raises(ValidationError, match=message):
        from_trip(alice, **overrides)
    assert not CheckIn.objects.exists()


def test_the_same_form_submitted_twice_makes_one_journey(feed, alice):
    key = uuid.uuid4()
    first = from_trip(alice, idempotency_key=key)
    second = from_trip(alice, idempotency_key=key)
    assert first.id == second.id
    assert CheckIn.objects.count() == 1


def test_an_overlapping_journey_needs_a_second_yes(feed, alice):
    from_trip(alice)
    with pytest.raises(CheckInOverlap) as conflict:
        from_trip(alice)
    assert len(conflict.value.overlapping) == 1
    from_trip(alice, allow_overlap=True)
    assert CheckIn.objects.count() == 2


def manual(user, departure, arrival, **kwargs):
    return checkin_create(
        user=user,
        origin=Place("Berlin Hbf", 52.5251, 13.3694),
        destination=Place("Hamburg Hbf", 53.5530, 10.0069),
        departure_planned=departure,
        arrival_planned=arrival,
        line_name="ICE 1",
        **kwargs,
    )


def test_an_implausible_speed_is_refused(alice):
    start = timezone.now()
    with pytest.raises(ValidationError, match="km/h: please check the times"):
        manual(alice, start, start + timedelta(minutes=20))  # 255 km in 20 minutes


def test_a_journey_of_72_hours_or_more_is_refused(alice):
    start = timezone.now()
    with pytest.raises(ValidationError, match="shorter than 72 hours"):
        manual(alice, start, start + timedelta(hours=72))


# --- Through the pages -------------------------------------------------------------------


def test_the_page_asks_before_checking_in_to_an_overlapping_journey(client, feed, alice):
    client.force_login(alice)
    assert post_trip_checkin(client).status_code == 302
    response = post_trip_checkin(client)
    assert response.status_code == 200
    assert "You are already travelling then" in response.content.decode()
    assert post_trip_checkin(client, check_in_anyway="on").status_code == 302
    assert CheckIn.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"message": "x" * 281}, "at most 280 characters"),
        ({"destination_seq": "1"}, "The exit stop must come after the entry stop."),
        ({"destination_seq": "abc"}, "Enter a whole number."),
        ({"origin_seq": "77"}, "not a stop of this trip"),
        ({"idempotency_key": "not-a-uuid"}, "Enter a valid UUID."),
        ({"visibility": "everyone"}, "Select a valid choice"),
    ],
)
def test_bad_or_tampered_form_data_gets_a_message_not_an_error(
    client, feed, alice, overrides, message
):
    client.force_login(alice)
    response = post_trip_checkin(client, **overrides)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CheckIn.objects.exists()


def test_signing_in_is_needed_to_check_in(client, feed):
    response = post_trip_checkin(client)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("view", ["checkins:edit", "checkins:delete"])
def test_another_travellers_journey_cannot_be_edited_or_deleted(client, alice, bob, view):
    checkin = CheckInFactory(user=alice)
    client.force_login(bob)
    assert client.get(reverse(view, args=[checkin.id])).status_code == 404
    assert client.post(reverse(view, args=[checkin.id]), {"message": "hacked"}).status_code == 404
    checkin.refresh_from_db()
    assert checkin.message == ""


def test_the_owner_edits_message_visibility_exit_and_times(client, feed, alice):
    checkin = from_trip(alice)
    client.force_login(alice)
    url = reverse("checkins:edit", args=[checkin.id])
    form = client.get(url).context["form"]
    assert [choice for choice, _ in form.fields["destination_seq"].choices] == [2]
    data = {
        "message": "Edited",
        "visibility": "private",
        "purpose": "business",
        "destination_seq": "2",
        "departure_planned": "2019-06-03T08:10",  # a manual correction of the time
        "arrival_planned": "2019-06-03T09:51",
    }
    assert client.post(url, data).status_code == 302
    checkin.refresh_from_db()
    assert (checkin.message, checkin.visibility, checkin.purpose) == (
        "Edited",
        "private",
        "business",
    )
    assert checkin.departure_planned.isoformat() == "2019-06-03T06:10:00+00:00"


def test_deleting_asks_first_then_removes_the_journey(client, alice):
    checkin = CheckInFactory(user=alice)
    client.force_login(alice)
    url = reverse("checkins:delete", args=[checkin.id])
    assert "cannot be undone" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert not CheckIn.objects.filter(id=checkin.id).exists()


def test_history_pages_by_keyset_and_filters_by_date_and_purpose(client, alice):
    start = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.get_current_timezone())
    for day in range(25):
        CheckInFactory(
            user=alice,
            departure_planned=start + timedelta(days=day),
            arrival_planned=start + timedelta(days=day, hours=1),
            purpose="business" if day % 2 else "private",
            distance_m=10_000,
            duration_s=3600,
        )
    client.force_login(alice)
    first = client.get(reverse("checkins:list"))
    assert len(first.context["journeys"]) == 20
    assert first.context["totals"].journeys == 25
    cursor = first.context["page"].next_cursor
    second = client.get(reverse("checkins:list"), {"after": cursor})
    assert len(second.context["journeys"]) == 5
    assert not {j.id for j in first.context["journeys"]} & {
        j.id for j in second.context["journeys"]
    }

    march = client.get(
        reverse("checkins:list"),
        {"start": "2024-03-01", "end": "2024-03-10", "purpose": "business"},
    )
    totals = march.context["totals"]
    assert (totals.journeys, totals.distance_km, totals.hours) == (5, 50.0, 5.0)


def test_an_inverted_date_range_is_a_form_error(client, alice):
    client.force_login(alice)
    response = client.get(reverse("checkins:list"), {"start": "2024-03-10", "end": "2024-03-01"})
    # The statistics' message (the history page filters through their form).
    message = "The range ends (1 Mar 2024) before it starts (10 Mar 2024)."
    assert message in response.content.decode()
