from __future__ import annotations

import pytest
from django.db.models import Sum

from checkins.models import CheckIn, Mode, Purpose
from tests.factories import CheckInFactory

pytestmark = pytest.mark.django_db


def test_statistics_require_signing_in(client):
    assert client.get("/stats/").status_code == 302


def test_statistics_sum_only_the_travellers_own_journeys(client, alice, bob):
    CheckInFactory(
        user=alice,
        mode=Mode.LONG_DISTANCE,
        purpose=Purpose.BUSINESS,
        distance_m=255_000,
        duration_s=6660,
    )
    CheckInFactory(
        user=alice, mode=Mode.SUBWAY, purpose=Purpose.PRIVATE, distance_m=5_500, duration_s=960
    )
    CheckInFactory(
        user=alice, mode=Mode.SUBWAY, purpose=Purpose.COMMUTE, distance_m=4_500, duration_s=840
    )
    CheckInFactory(user=bob, distance_m=999_000, duration_s=99_000)
    client.force_login(alice)
    stats = client.get("/stats/?period=all").context["stats"]
    direct = CheckIn.objects.filter(user=alice).aggregate(m=Sum("distance_m"))["m"]
    assert stats.totals.journeys == 3
    assert stats.totals.distance_km == round(direct / 1000, 1) == 265.0
    assert stats.totals.hours == round((6660 + 960 + 840) / 3600, 1)
    assert [(row.key, row.journeys, row.distance_km) for row in stats.by_mode] == [
        ("subway", 2, 10.0),
        ("long_distance", 1, 255.0),
    ]
    assert {row.key for row in stats.by_purpose} == {"business", "private", "commute"}


@pytest.mark.parametrize(
    "query",
    [
        "period=custom&end=9999-12-31",
        "period=custom&start=0001-01-01",
        "period=custom&start=2020-01-01&end=9999-12-31",
    ],
)
def test_a_range_at_the_ends_of_the_calendar_is_a_form_error(client, alice, query):
    client.force_login(alice)
    page = client.get(f"/stats/?{query}")
    assert page.status_code == 400
    assert "Pick a date between 1 Jan 1900 and 31 Dec 2199." in page.content.decode()
    routes = client.get(f"/stats/map.json?{query}")
    assert routes.status_code == 400
    assert "Pick a date between" in str(routes.json()["error"])
