""" "My journeys" filters through the statistics' filter (stats.forms.StatsFilterForm and
checkins.selectors.journeys_in): the same parameters, the same messages, the owner's journeys
only, a page at a time by keyset."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from checkins.models import Mode, Purpose, Visibility
from tests.factories import CheckInFactory

pytestmark = pytest.mark.django_db
HISTORY = reverse("checkins:list")


def on(day: int, month: int = 3, year: int = 2024, **fields):
    departure = datetime(year, month, day, 8, 0, tzinfo=timezone.get_current_timezone())
    return CheckInFactory(
        departure_planned=departure, arrival_planned=departure + timedelta(hours=1), **fields
    )


def listed(response) -> list[str]:
    return [journey.line_name for journey in response.context["journeys"]]


def test_it_takes_the_statistics_period(client, alice):
    first = timezone.localdate().replace(day=1)
    on(first.day, first.month, first.year, user=alice, line_name="NOW")
    before = first - timedelta(days=40)
    on(before.day, before.month, before.year, user=alice, line_name="BEFORE")
    client.force_login(alice)
    assert listed(client.get(HISTORY, {"period": "this-month"})) == ["NOW"]
    # Without a period or days: all time, as before.
    assert sorted(listed(client.get(HISTORY))) == ["BEFORE", "NOW"]
    assert sorted(listed(client.get(HISTORY, {"period": "all"}))) == ["BEFORE", "NOW"]


def test_it_filters_by_mode_purpose_and_days_together(client, alice):
    on(1, user=alice, line_name="U1", mode=Mode.SUBWAY, purpose=Purpose.COMMUTE)
    on(2, user=alice, line_name="U2", mode=Mode.SUBWAY, purpose=Purpose.PRIVATE)
    on(3, user=alice, line_name="ICE", mode=Mode.LONG_DISTANCE, purpose=Purpose.COMMUTE)
    on(20, user=alice, line_name="U3", mode=Mode.SUBWAY, purpose=Purpose.COMMUTE)
    client.force_login(alice)
    response = client.get(
        HISTORY,
        {"period": "custom", "start": "2024-03-01", "end": "2024-03-10", "mode": "subway",
         "purpose": "commute"},
    )  # fmt: skip
    assert listed(response) == ["U1"]
    assert response.context["totals"].journeys == 1
    assert sorted(listed(client.get(HISTORY, {"mode": ["subway", "long_distance"]}))) == [
        "ICE", "U1", "U2", "U3",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "query",
    [
        "period=custom&start=2026-05-01&end=2026-04-01",
        "start=2026-05-01&end=2026-04-01",
        "period=custom&start=1970-01-01&end=2026-01-01",
        "purpose=holiday",
        "mode=rocket",
        "period=next-decade",
        "period=custom&start=yesterday",
    ],
)
def test_a_bad_filter_gets_the_statistics_message(client, alice, query):
    mine = on(1, user=alice, line_name="MINE")
    client.force_login(alice)
    statistics = client.get(f"/stats/?{query}")
    history = client.get(f"{HISTORY}?{query}")
    assert statistics.status_code == 400
    errors = statistics.context["form"].errors
    assert errors
    assert history.context["form"].errors == errors
    page = history.content.decode()
    for messages in errors.values():
        for message in messages:
            # As the page escapes it (the "20 years" message quotes “All time”).
            assert str(message).replace("'", "&#x27;") in page
    # The page stays (as before): every journey, the message above them.
    assert history.status_code == 200
    assert listed(history) == [mine.line_name]


def test_it_lists_the_owners_journeys_alone_whatever_the_filter(client, alice, bob):
    on(1, user=alice, line_name="ALICE", mode=Mode.SUBWAY)
    on(1, user=bob, line_name="BOB PUBLIC", mode=Mode.SUBWAY, visibility=Visibility.PUBLIC)
    on(2, user=bob, line_name="BOB PRIVATE", mode=Mode.SUBWAY, visibility=Visibility.PRIVATE)
    client.force_login(alice)
    for query in ({}, {"period": "all"}, {"mode": "subway", "start": "2024-03-01"}):
        response = client.get(HISTORY, query)
        assert listed(response) == ["ALICE"]
        assert response.context["totals"].journeys == 1
    client.logout()
    assert client.get(HISTORY, {"period": "all"}).status_code == 302  # sign in first


def test_a_filtered_history_pages_by_keyset_keeping_its_filter(client, alice):
    for day in range(1, 26):
        on(day, user=alice, line_name=f"U{day}", mode=Mode.SUBWAY)
        on(day, user=alice, line_name=f"BUS{day}", mode=Mode.BUS, distance_m=5_000)
    client.force_login(alice)
    first = client.get(HISTORY, {"mode": "subway", "period": "all"})
    assert listed(first) == [f"U{day}" for day in range(25, 5, -1)]
    assert first.context["totals"].journeys == 25
    cursor = first.context["page"].next_cursor
    link = f'href="?mode=subway&amp;period=all&after={cursor}"'
    assert link in first.content.decode()

    with CaptureQueriesContext(connection) as queries:
        second = client.get(HISTORY, {"mode": "subway", "period": "all", "after": cursor})
    assert listed(second) == [f"U{day}" for day in range(5, 0, -1)]
    assert second.context["page"].next_cursor is None
    assert second.context["totals"].journeys == 25  # over the whole filter, not the page
    page_query = next(q["sql"] for q in queries if "ORDER BY" in q["sql"] and "LIMIT" in q["sql"])
    assert "OFFSET" not in page_query and '"departure_planned" <' in page_query
