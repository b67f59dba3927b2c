"""The statistics page: every figure against a direct SQL sum or a count by hand, ranges across
midnight and time zones, points, emissions, the cache and its invalidation, bad input."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from checkins.enrichment import OVERVIEW_MAX_POINTS, route_geometry
from checkins.geo import MAP_PRECISION, decode_path, encode_path
from checkins.models import CheckIn, Mode, Purpose, Visibility
from checkins.selectors import JourneyFilter, checkins_visible_to, journeys_in
from checkins.services.checkins import checkin_update
from checkins.services.enrichment_lifecycle import journey_enrich
from feed.models import Block
from feed.selectors import FEED_GENERATION
from stats import emissions, selectors
from stats.points import points
from stats.selectors import leaderboard, user_statistics
from tests.factories import CheckInFactory, UserFactory
from trainy.accounts.services import settings_update, sign_in_allow
from trainy.documents import journey_store

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def journey(user, start: datetime, minutes: int, **fields) -> CheckIn:
    values = {"distance_m": 10_000, "duration_s": minutes * 60} | fields
    return CheckInFactory(
        user=user, departure_planned=start, arrival_planned=start + timedelta(minutes=minutes),
        **values,
    )  # fmt: skip


def direct_sql(user_id: int, start: datetime, end: datetime) -> tuple[int, float, float]:
    """The totals, summed by hand in SQL, apart from the ORM code under test."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(distance_m), 0), coalesce(sum(duration_s), 0)"
            " FROM checkins_checkin WHERE user_id = %s AND departure_planned >= %s"
            " AND departure_planned < %s",
            [user_id, start, end],
        )
        count, meters, seconds = cursor.fetchone()
    return count, round(meters / 1000, 1), round(seconds / 3600, 1)


def test_a_range_counts_journeys_by_their_departure_in_the_viewers_zone(alice):
    # Across midnight in Berlin: departs 23:30 on 31 May, arrives 01:10 on 1 June.
    journey(alice, datetime(2026, 5, 31, 23, 30, tzinfo=BERLIN), 100, distance_m=120_000)
    # In New York at 20:00 on 31 May, which is 02:00 on 1 June in Berlin.
    journey(alice, datetime(2026, 5, 31, 20, 0, tzinfo=NEW_YORK), 60, distance_m=30_000,
            time_zone="America/New_York")  # fmt: skip
    journey(alice, datetime(2026, 6, 1, 8, 0, tzinfo=BERLIN), 45, distance_m=45_000)
    june = JourneyFilter(start=date(2026, 6, 1), end=date(2026, 6, 30), zone=BERLIN)
    may = JourneyFilter(start=date(2026, 5, 1), end=date(2026, 5, 31), zone=BERLIN)

    in_june = user_statistics(owner=alice, criteria=june)
    in_may = user_statistics(owner=alice, criteria=may)

    june_start, june_end = datetime(2026, 6, 1, tzinfo=BERLIN), datetime(2026, 7, 1, tzinfo=BERLIN)
    assert (in_june.totals.journeys, in_june.totals.distance_km, in_june.totals.hours) == (
        direct_sql(alice.id, june_start, june_end)
    )
    assert (in_june.totals.journeys, in_june.totals.distance_km) == (2, 75.0)
    assert (in_may.totals.journeys, in_may.totals.distance_km) == (1, 120.0)
    # The heatmap and months are in the viewer's zone too: Monday 1 June, 02:00 and 08:00.
    assert in_june.heatmap[0][2] == 1 and in_june.heatmap[0][8] == 1
    assert [(m.key, m.journeys) for m in in_june.months] == [("2026-06", 2)]


def test_every_breakdown_adds_up_to_the_totals(alice):
    start = timezone.now() - timedelta(days=20)
    for n, (mode, purpose, operator, line) in enumerate([
        (Mode.LONG_DISTANCE, Purpose.BUSINESS, "DB Fernverkehr", "ICE 1"),
        (Mode.LONG_DISTANCE, Purpose.BUSINESS, "DB Fernverkehr", "ICE 1"),
        (Mode.REGIONAL, Purpose.COMMUTE, "DB Regio", "RE 1"),
        (Mode.SUBWAY, Purpose.PRIVATE, "BVG", "U2"),
    ]):  # fmt: skip
        fields = {"mode": mode, "purpose": purpose, "operator_name": operator, "line_name": line}
        journey(alice, start + timedelta(days=n), 30 + n, distance_m=1_000 * (n + 1) ** 3, **fields)
    stats = user_statistics(owner=alice, criteria=JourneyFilter())

    for rows in (stats.by_mode, stats.by_purpose, stats.by_operator, stats.by_line, stats.months):
        assert sum(row.journeys for row in rows) == stats.totals.journeys == 4
        assert round(sum(row.distance_km for row in rows), 1) == stats.totals.distance_km == 100.0
    assert stats.by_line[0].label == "ICE 1" and stats.by_line[0].journeys == 2
    assert sum(sum(row) for row in stats.heatmap) == 4
    assert stats.stations == [("Berlin Hbf", 4), ("Hamburg Hbf", 4)]
    assert [j.distance_m for j in stats.longest] == [64_000, 27_000, 8_000, 1_000]


def test_delays_and_the_share_on_time_count_journeys_with_real_times_only(alice):
    start = timezone.now() - timedelta(days=3)
    for n, late in enumerate([0, 5, 6, 30]):
        planned = start + timedelta(hours=n * 3)
        journey(alice, planned, 60, arrival_real=planned + timedelta(minutes=60 + late))
    journey(alice, start + timedelta(hours=20), 60)  # no real time known

    delays = user_statistics(owner=alice, criteria=JourneyFilter()).delays

    assert delays.with_real_times == 4
    assert delays.total_minutes == 41
    assert delays.average_minutes == 10.2
    assert delays.on_time_percent == 50.0  # 0 and 5 min are on time; 6 and 30 are not


def test_emissions_follow_the_factors_for_each_mode_against_a_car(alice):
    start = timezone.now() - timedelta(days=2)
    journey(alice, start, 60, mode=Mode.LONG_DISTANCE, distance_m=100_000)
    journey(alice, start + timedelta(hours=3), 20, mode=Mode.BUS, distance_m=10_000)

    figures = user_statistics(owner=alice, criteria=JourneyFilter()).emissions

    rail = emissions.GRAMS_PER_PASSENGER_KM[Mode.LONG_DISTANCE] * 100 / 1000
    bus = emissions.GRAMS_PER_PASSENGER_KM[Mode.BUS] * 10 / 1000
    assert figures.kg == round(rail + bus, 1)
    assert figures.car_kg == round(emissions.CAR_GRAMS_PER_KM * 110 / 1000, 1)
    assert figures.saved_kg == round(figures.car_kg - figures.kg, 1)


def test_points_are_base_plus_one_per_started_ten_km_in_full_only_when_live(alice):
    now = timezone.now()
    live = journey(alice, now - timedelta(minutes=30), 60, mode=Mode.LONG_DISTANCE,
                   distance_m=25_000)  # fmt: skip
    later = journey(alice, now - timedelta(days=2), 60, mode=Mode.REGIONAL, distance_m=40_001)
    # The factory sets created_at to now: the first was checked in during the journey.
    assert points(live.mode, live.distance_m, live=True) == 10 + 3
    assert points(later.mode, later.distance_m, live=False) == -(-(5 + 5) // 4) == 3
    assert user_statistics(owner=alice, criteria=JourneyFilter()).points == 13 + 3


def test_leaderboards_count_only_what_everyone_may_see_and_respect_opt_outs(alice, bob, charlie):
    now = timezone.now()
    journey(alice, now - timedelta(minutes=10), 60, mode=Mode.REGIONAL, distance_m=10_000)
    journey(alice, now - timedelta(hours=5), 60, mode=Mode.LONG_DISTANCE,
            visibility=Visibility.PRIVATE)  # fmt: skip
    journey(bob, now - timedelta(minutes=20), 60, mode=Mode.LONG_DISTANCE, distance_m=10_000)
    journey(charlie, now - timedelta(minutes=20), 60, mode=Mode.LONG_DISTANCE)
    charlie.leaderboard_opt_out = True
    charlie.save()

    board = leaderboard(viewer=alice, days=7)

    assert [(s.user.username, s.points) for s in board] == [("bob", 11), ("alice", 6)]
    page = Client().get(reverse("stats:leaderboard")).content.decode()
    assert "Bob" in page and "Charlie" not in page


def test_a_board_is_shared_only_by_viewers_who_see_the_same_journeys(alice, bob, charlie):
    """The boards are kept per audience (signed out; signed in without a block): a viewer
    with a block either way gets a board of their own, never the shared one, nor the shared
    one theirs."""
    now = timezone.now()
    journey(bob, now - timedelta(minutes=10), 60, distance_m=10_000)
    journey(charlie, now - timedelta(minutes=20), 60, visibility=Visibility.AUTHENTICATED)
    Block.objects.create(blocker=alice, blocked=bob)
    dave, erin = UserFactory(), UserFactory()

    def names(viewer) -> list[str]:
        return [standing.user.username for standing in leaderboard(viewer=viewer, days=7)]

    assert names(dave) == ["bob", "charlie"]
    assert names(alice) == ["charlie"]  # she blocked Bob
    assert names(bob) == ["bob", "charlie"]  # his own board: Alice blocked him
    assert names(erin) == ["bob", "charlie"]
    assert names(AnonymousUser()) == ["bob"]
    assert names(dave) == ["bob", "charlie"]


def test_leaderboards_read_journeys_through_the_one_privacy_rule(alice, bob, monkeypatch):
    """The leaderboard counts only journeys checkins_visible_to gives it: a rule added there
    (here: nobody sees Bob's) takes effect on the boards with no change of their own."""
    now = timezone.now()
    for traveller in (alice, bob):
        journey(traveller, now - timedelta(minutes=10), 60, visibility=Visibility.PUBLIC)

    def narrowed(viewer):
        return checkins_visible_to(viewer).exclude(user=bob)

    monkeypatch.setattr(selectors, "checkins_visible_to", narrowed)
    board = leaderboard(viewer=alice, days=7)
    assert [standing.user.username for standing in board] == ["alice"]


def names(viewer, days: int = 7) -> list[str]:
    return [standing.user.username for standing in leaderboard(viewer=viewer, days=days)]


def test_a_kept_board_takes_in_new_journeys_when_the_beat_task_makes_it_afresh(alice, bob):
    """A new journey (the most frequent change) does not make a board afresh for the next page:
    the beat task does, within LEADERBOARD_SECONDS."""
    now = timezone.now()
    journey(alice, now - timedelta(hours=1), 60, distance_m=10_000)
    dave = UserFactory()
    assert names(dave) == ["alice"]
    assert names(AnonymousUser()) == ["alice"]
    journey(bob, now - timedelta(minutes=30), 60, mode=Mode.LONG_DISTANCE, distance_m=90_000)
    FEED_GENERATION.move_on()  # as checkin_create moves it: the feeds show it at once
    assert names(dave) == ["alice"]  # kept
    # The two boards asked for (signed in and signed out, this week), each for its viewer.
    assert selectors.leaderboards_refresh() == 2
    assert names(dave) == ["bob", "alice"]
    assert names(AnonymousUser()) == ["bob", "alice"]


def test_a_kept_board_older_than_twice_the_interval_is_added_up_by_the_page(
    alice, bob, monkeypatch
):
    """No beat running (the boards are not made afresh): the page adds the board up itself."""
    now = timezone.now()
    journey(alice, now - timedelta(hours=1), 60)
    assert names(UserFactory()) == ["alice"]
    journey(bob, now - timedelta(minutes=30), 60)
    monkeypatch.setattr(selectors, "LEADERBOARD_SECONDS", 0)
    assert sorted(names(UserFactory())) == ["alice", "bob"]


def test_what_takes_points_or_a_traveller_off_a_kept_board_shows_at_once(
    alice, bob, charlie, django_capture_on_commit_callbacks
):
    now = timezone.now()
    kept = journey(alice, now - timedelta(hours=1), 60)
    journey(bob, now - timedelta(hours=2), 60)
    journey(charlie, now - timedelta(hours=3), 60)
    dave = UserFactory()
    assert sorted(names(dave)) == ["alice", "bob", "charlie"]
    with django_capture_on_commit_callbacks(execute=True):
        checkin_update(checkin=kept, message="", visibility="private", purpose="private")
    assert sorted(names(dave)) == ["bob", "charlie"]
    with django_capture_on_commit_callbacks(execute=True):
        settings_update(user=bob, default_visibility="public", private_profile=False,
                        likes_enabled=True, private_after_days=None,
                        leaderboard_opt_out=True)  # fmt: skip
    assert names(dave) == ["charlie"]
    with django_capture_on_commit_callbacks(execute=True):
        sign_in_allow(users=type(charlie).objects.filter(pk=charlie.pk), allowed=False, by=dave)
    assert names(dave) == []


def test_a_viewer_with_a_block_gets_the_kept_board_without_those_in_the_block(alice, bob):
    now = timezone.now()
    journey(alice, now - timedelta(hours=1), 60)
    journey(bob, now - timedelta(hours=2), 60)
    assert names(UserFactory()) == ["alice", "bob"]
    erin = UserFactory()
    journey(erin, now - timedelta(minutes=5), 60, mode=Mode.LONG_DISTANCE, distance_m=90_000)
    Block.objects.create(blocker=erin, blocked=alice)
    # Read from the kept board (erin's own new journey is not on it yet), Alice left out and
    # Bob ranked first; a board of erin's own would show erin first.
    board = leaderboard(viewer=erin, days=7)
    assert [(s.rank, s.user.username) for s in board] == [(1, "bob")]
    # Alice, blocked by erin: the kept board too, without erin (not on it yet anyway).
    assert [s.user.username for s in leaderboard(viewer=alice, days=7)] == ["alice", "bob"]


def test_the_page_is_cached_until_one_of_the_travellers_journeys_changes(
    alice, django_capture_on_commit_callbacks
):
    trip = journey(alice, timezone.now() - timedelta(days=1), 60, distance_m=50_000)
    client = signed_in(alice)
    assert client.get("/stats/?period=all").context["stats"].totals.distance_km == 50.0
    # Written behind the services' back: the cached figures stay...
    CheckIn.objects.filter(id=trip.id).update(distance_m=70_000)
    assert client.get("/stats/?period=all").context["stats"].totals.distance_km == 50.0
    # ...until a change goes through them.
    with django_capture_on_commit_callbacks(execute=True):
        checkin_update(checkin=CheckIn.objects.get(id=trip.id), message="edited",
                       visibility="public", purpose="business")  # fmt: skip
    stats = client.get("/stats/?period=all").context["stats"]
    assert stats.totals.distance_km == 70.0
    assert [row.key for row in stats.by_purpose] == ["business"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=custom&start=2026-05-01&end=2026-04-01", "ends (1 Apr 2026) before it starts"),
        ("period=custom&start=1970-01-01&end=2026-01-01", "20 years at the most"),
        ("purpose=holiday", "holiday is not one of the available choices"),
        ("mode=rocket", "rocket is not one of the available choices"),
        ("period=custom&start=yesterday", "Enter a valid date"),
    ],
)
def test_bad_filters_get_a_clear_message(alice, query, message):
    response = signed_in(alice).get(f"/stats/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_page_shows_every_chart_with_its_table(alice):
    journey(alice, timezone.now() - timedelta(days=1), 60, distance_m=42_000)
    page = signed_in(alice).get("/stats/?period=all").content.decode()
    for table in ("by-month", "by-mode", "by-purpose", "by-line"):
        assert f'data-source="{table}"' in page  # the chart...
        assert f'id="{table}"' in page  # ...and its table, with the same numbers
    assert 'data-value="42.0"' in page
    assert 'data-testid="heatmap"' in page and 'data-testid="stats-map"' in page


def test_the_map_lists_the_routes_of_the_range(alice, bob):
    mine = journey(alice, timezone.now() - timedelta(days=1), 60)
    journey_enrich(checkin_id=mine.id)
    journey_enrich(checkin_id=journey(bob, timezone.now() - timedelta(days=1), 60).id)
    data = signed_in(alice).get("/stats/map.json?period=all").json()
    assert len(data["paths"]) == 1
    assert data["paths"][0][0] == [52.5251, 13.3694]


def winding_route(count: int) -> list[tuple[float, float]]:
    """Berlin Hbf to Hamburg Hbf in ``count`` points, a few metres off the straight line."""
    rng = random.Random(count)
    return [
        (52.5251 + (53.5530 - 52.5251) * n / (count - 1) + rng.gauss(0, 2e-4),
         13.3694 + (10.0069 - 13.3694) * n / (count - 1) + rng.gauss(0, 2e-4))
        for n in range(count)
    ]  # fmt: skip


def test_the_map_draws_each_route_from_its_overview(alice):
    mine = journey(alice, timezone.now() - timedelta(days=1), 60)
    journey_enrich(checkin_id=mine.id)
    # The document as enrichment writes a journey with a shape of 2,000 points.
    document = journey_store().get(mine.id)
    document["geometry"] = route_geometry(winding_route(2000))
    journey_store().put(mine.id, document)
    data = signed_in(alice).get("/stats/map.json?period=all").json()
    overview = decode_path(document["geometry"]["overview"]["path"], MAP_PRECISION)
    assert len(overview) == OVERVIEW_MAX_POINTS
    assert data["paths"] == [[[lat, lon] for lat, lon in overview]]
    # To the metre, as the routes of older documents are drawn.
    assert all(lat == round(lat, 5) and lon == round(lon, 5) for lat, lon in overview)


def test_a_document_written_before_overviews_is_still_mapped(alice):
    mine = journey(alice, timezone.now() - timedelta(days=1), 60)
    journey_enrich(checkin_id=mine.id)
    # A version 3 document: the whole route only.
    route = winding_route(2000)
    document = journey_store().get(mine.id)
    document["version"] = 3
    document["geometry"] = {"encoding": "polyline6", "path": encode_path(route), "points": 2000}
    journey_store().put(mine.id, document)
    data = signed_in(alice).get("/stats/map.json?period=all").json()
    decoded = decode_path(encode_path(route))
    # Every fourth point of the route and its last.
    expected = [[round(lat, 5), round(lon, 5)] for lat, lon in decoded[::4] + decoded[-1:]]
    assert data["paths"] == [expected]
    assert len(expected) == 501


def test_journeys_in_is_the_owners_alone(alice, bob):
    journey(alice, datetime(2026, 1, 5, 9, tzinfo=UTC), 30)
    journey(bob, datetime(2026, 1, 5, 9, tzinfo=UTC), 30)
    assert journeys_in(owner=alice, criteria=JourneyFilter()).count() == 1
