from __future__ import annotations

import pytest
from django.urls import reverse

from checkins.models import CheckIn, Visibility
from tests.factories import CheckInFactory

pytestmark = pytest.mark.django_db

FORM = {
    "line_name": "S7",
    "mode": "suburban",
    "operator_name": "S-Bahn Berlin",
    "origin_name": "Alexanderplatz",
    "destination_name": "Potsdam Hbf",
    "departure_planned": "2026-11-20T07:00",
    "arrival_planned": "2026-11-20T07:52",
    "message": "Morning commute",
    "visibility": "public",
    "purpose": "commute",
}


def test_checking_in_requires_signing_in(client):
    response = client.get(reverse("checkins:new"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_manual_checkin_lands_on_its_journey_page(client, alice):
    client.force_login(alice)
    response = client.post(reverse("checkins:new"), FORM, follow=True)
    checkin = CheckIn.objects.get(user=alice)
    assert response.redirect_chain[-1][0] == reverse("checkins:detail", args=[checkin.id])
    assert b"Morning commute" in response.content
    assert checkin.purpose == "commute"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"arrival_planned": "2026-11-20T06:00"}, "arrival_planned", "after the departure"),
        ({"message": "x" * 281}, "message", "at most 280 characters"),
        ({"visibility": "everyone"}, "visibility", "Select a valid choice"),
        ({"departure_planned": "yesterday"}, "departure_planned", "Enter a valid date/time"),
        (
            {"departure_planned": "9999-12-31T23:00", "arrival_planned": "9999-12-31T23:59"},
            "arrival_planned",
            "Pick a date between 1 Jan 1900 and 31 Dec 2199.",
        ),
        ({"time_zone": "Europe/" + "x" * 10_000}, "time_zone", "at most 64 characters"),
    ],
)
def test_bad_input_is_shown_next_to_its_field(client, alice, change, field, message):
    client.force_login(alice)
    response = client.post(reverse("checkins:new"), FORM | change)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize(
    "query", ["end=9999-12-31", "start=0001-01-01", "after=99999999999999999999-1"]
)
def test_a_history_range_at_the_ends_of_the_calendar_says_so(client, alice, query):
    CheckInFactory(user=alice)
    client.force_login(alice)
    response = client.get(f"{reverse('checkins:list')}?{query}")
    assert response.status_code == 200
    if "after" not in query:
        assert "Pick a date between 1 Jan 1900 and 31 Dec 2199." in response.content.decode()


def test_my_journeys_lists_only_mine_with_totals(client, alice, bob):
    CheckInFactory(user=alice, line_name="ICE 1", distance_m=100_000, duration_s=3600)
    CheckInFactory(
        user=alice,
        line_name="ICE 2",
        distance_m=50_000,
        duration_s=1800,
        visibility=Visibility.PRIVATE,
    )
    CheckInFactory(user=bob, line_name="BOB 1")
    client.force_login(alice)
    response = client.get(reverse("checkins:list"))
    # Newest first: the factory gives ICE 2 the later departure.
    assert [j.line_name for j in response.context["journeys"]] == ["ICE 2", "ICE 1"]
    assert b"BOB 1" not in response.content
    totals = response.context["totals"]
    assert (totals.journeys, totals.distance_km, totals.hours) == (2, 150.0, 1.5)


@pytest.mark.parametrize(
    ("visibility", "outsider_sees", "anonymous_sees"),
    [
        (Visibility.PUBLIC, True, True),
        (Visibility.UNLISTED, True, True),
        (Visibility.AUTHENTICATED, True, False),
        (Visibility.FOLLOWERS, False, False),
        (Visibility.PRIVATE, False, False),
    ],
)
def test_the_journey_page_follows_visibility(
    client, alice, bob, visibility, outsider_sees, anonymous_sees
):
    checkin = CheckInFactory(user=alice, visibility=visibility)
    url = reverse("checkins:detail", args=[checkin.id])
    assert client.get(url).status_code == (200 if anonymous_sees else 404)
    client.force_login(bob)
    assert client.get(url).status_code == (200 if outsider_sees else 404)
    client.force_login(alice)
    assert client.get(url).status_code == 200


def test_a_status_message_is_escaped(client, alice):
    checkin = CheckInFactory(user=alice, message="<script>alert(1)</script>")
    response = client.get(reverse("checkins:detail", args=[checkin.id]))
    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content
