"""GTFS-Realtime TripUpdates: real captures from BART and Caltrain against their own timetables,
the propagation rules on a made-up trip, and the journeys that show the real times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from google.transit import gtfs_realtime_pb2

from checkins.models import CheckIn, RealtimeTrip
from checkins.services.checkins import checkin_from_trip
from checkins.services.enrichment_lifecycle import journey_enrich
from checkins.services.realtime import realtime_apply
from checkins.tasks import refresh_realtime
from checkins.timetable.realtime import RealtimeError, parse, real_times
from checkins.timetable.selectors import Trip, TripStop
from tests.conftest import ROOT
from tests.webserver import serve_directory

REALTIME_DATA = ROOT.parent / "shared" / "data" / "gtfs-rt"
CALTRAIN = REALTIME_DATA / "caltrain"
BART = REALTIME_DATA / "bart"
PACIFIC = ZoneInfo("America/Los_Angeles")


def message(path) -> gtfs_realtime_pb2.FeedMessage:
    feed = gtfs_realtime_pb2.FeedMessage()
    feed.ParseFromString(path.read_bytes())
    return feed


@pytest.fixture
def caltrain(db):
    call_command("import_gtfs", str(CALTRAIN / "ct.zip"), name="caltrain", verbosity=0)


@pytest.fixture
def bart(db):
    call_command("import_gtfs", str(BART / "bart-rt.zip"), name="bart", verbosity=0)


def apply(feed: str, path) -> object:
    return realtime_apply(feed=feed, data=path.read_bytes(), source=path.name)


# --- Real captures ----------------------------------------------------------------------------


def test_caltrain_updates_give_every_reported_stop_its_reported_time(caltrain):
    result = apply("caltrain", CALTRAIN / "ct-trip-updates.pb")

    assert (result.trip_updates, result.stored, result.unknown, result.not_running) == (
        19, 19, [], [],
    )  # fmt: skip
    checked = 0
    for entity in message(CALTRAIN / "ct-trip-updates.pb").entity:
        update = entity.trip_update
        row = RealtimeTrip.objects.get(trip_id=update.trip.trip_id)
        assert row.service_date == date(2023, 11, 7)  # its start_date
        stops = {entry["seq"]: entry for entry in row.stops}
        for stu in update.stop_time_update:
            for name in ("arrival", "departure"):
                if stu.HasField(name):
                    assert stops[stu.stop_sequence][name] == getattr(stu, name).time
                    checked += 1
    assert checked == 408  # 208 arrivals and 200 departures in the capture


def test_bart_updates_without_a_start_date_find_their_day_and_stops(bart):
    result = apply("bart", BART / "bart-trip-updates.pb")

    # 65 of the 83 scheduled trips are in the timetable; the other 18 run on the eBART
    # extension, which this timetable lacks; 8 trips are ADDED ones.
    assert result.stored == 65
    assert len(result.unknown) == 18 and all(t.endswith("WKDY") for t in result.unknown)
    assert result.added == 8
    assert set(RealtimeTrip.objects.values_list("service_date", flat=True)) == {date(2019, 8, 7)}
    from checkins.timetable.selectors import trip_get

    for entity in message(BART / "bart-trip-updates.pb").entity:
        update = entity.trip_update
        row = RealtimeTrip.objects.filter(trip_id=update.trip.trip_id).first()
        if row is None:
            continue
        trip = trip_get(feed="bart", trip_id=row.trip_id, service_date=row.service_date)
        by_seq = {entry["seq"]: entry for entry in row.stops}
        for stu in update.stop_time_update:
            # The capture's stop_sequence is off for some stops: the stop id decides.
            seqs = [stop.seq for stop in trip.stops if stop.stop_id == stu.stop_id]
            assert seqs, (row.trip_id, stu.stop_id)
            assert any(by_seq[seq]["departure"] == stu.departure.time for seq in seqs)


def test_updates_for_a_day_the_trip_does_not_run_change_nothing(bart):
    # Captured on Memorial Day 2019, when BART ran its Sunday service, for weekday trips.
    result = apply("bart", BART / "example.pb")

    assert (result.stored, len(result.not_running)) == (0, 26)
    assert not RealtimeTrip.objects.exists()


def test_an_older_message_does_not_overwrite_a_newer_one(caltrain):
    apply("caltrain", CALTRAIN / "ct-trip-updates.pb")
    older = message(CALTRAIN / "ct-trip-updates.pb")
    older.header.timestamp -= 300
    for entity in older.entity:
        for stu in entity.trip_update.stop_time_update:
            if stu.HasField("departure"):
                stu.departure.time += 600

    result = realtime_apply(feed="caltrain", data=older.SerializeToString(), source="older.pb")

    assert (result.stored, result.outdated) == (0, 19)
    observed = datetime.fromtimestamp(older.header.timestamp + 300, UTC)
    assert set(RealtimeTrip.objects.values_list("observed_at", flat=True)) == {observed}


def test_what_is_not_a_trip_updates_message_is_refused_with_where():
    with pytest.raises(RealtimeError, match=r"^upload\.pb: not a GTFS-Realtime FeedMessage"):
        parse(b"\x08\x96\x01 certainly not protobuf", "upload.pb")


@pytest.mark.django_db
def test_the_command_says_what_is_wrong_without_a_traceback(caltrain, tmp_path):
    with pytest.raises(CommandError, match="no active timetable named 'nope'"):
        call_command("import_gtfs_rt", "nope", str(CALTRAIN / "ct-trip-updates.pb"))
    with pytest.raises(CommandError, match=r"missing\.pb: cannot read it"):
        call_command("import_gtfs_rt", "caltrain", str(tmp_path / "missing.pb"))


# --- The propagation rules, on a trip made up for them ----------------------------------------


def made_up_trip(stops: int) -> Trip:
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    return Trip(
        feed="test", version_id=1, trip_id="T", route_id="R", line="S1", mode="suburban",
        headsign="End", agency="", service_date=start.date(), shape_pk=None,
        stops=[
            TripStop(seq=10 * (n + 1), stop_id=f"S{n}", name=f"Stop {n}", platform=None,
                     lat=None, lon=None, arrival=start + timedelta(minutes=10 * n),
                     departure=start + timedelta(minutes=10 * n + 1), parent_stop_id=None,
                     parent_name=None)
            for n in range(stops)
        ],
    )  # fmt: skip


def stop_update(sequence: int, *, delay: int | None = None, relationship: int = 0):
    stu = gtfs_realtime_pb2.TripUpdate.StopTimeUpdate(stop_sequence=sequence)
    stu.schedule_relationship = relationship
    if delay is not None:
        stu.departure.delay = delay
    return stu


def test_a_delay_carries_on_until_the_next_report_and_no_data_stops_it():
    trip = made_up_trip(7)
    planned = {stop.seq: int(stop.departure.timestamp()) for stop in trip.stops}
    Relationship = gtfs_realtime_pb2.TripUpdate.StopTimeUpdate

    entries = real_times(trip, [
        stop_update(20, delay=120),
        stop_update(40, relationship=Relationship.SKIPPED),
        stop_update(50, delay=300),
        stop_update(60, relationship=Relationship.NO_DATA),
    ])  # fmt: skip

    by_seq = {entry["seq"]: entry for entry in entries}
    assert 10 not in by_seq  # before the first report, nothing is known
    assert by_seq[20]["departure"] == planned[20] + 120 and not by_seq[20]["carried"]
    assert by_seq[30]["departure"] == planned[30] + 120 and by_seq[30]["carried"]
    assert by_seq[40]["skipped"]
    assert by_seq[50]["departure"] == planned[50] + 300
    assert 60 not in by_seq and 70 not in by_seq  # NO_DATA: the delay is not carried past it
    # Only a departure reported: the arrival runs as late, but not after the departure.
    assert by_seq[20]["arrival"] == int(trip.stops[1].arrival.timestamp()) + 120


# --- Journeys on reported trips -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_journey_on_a_reported_trip_shows_its_real_times(caltrain, client, alice):
    # Caltrain 124 on 2023-11-07: the capture reports it from its 20th stop on.
    checkin = checkin_from_trip(
        user=alice, feed="caltrain", trip_id="124", service_date=date(2023, 11, 7),
        origin_seq=20, destination_seq=22, message="Home",
    )  # fmt: skip
    journey_enrich(checkin_id=checkin.id)
    queued_before = CheckIn.objects.get(id=checkin.id).enrichment_queued_at

    result = apply("caltrain", CALTRAIN / "ct-trip-updates.pb")

    # The journeys on reported trips are queued for enrichment again...
    assert CheckIn.objects.get(id=checkin.id).enrichment_queued_at > queued_before
    assert result.changed and ("124", date(2023, 11, 7)) in result.changed
    # ...which (here run in-process) writes the real times back.
    enriched = journey_enrich(checkin_id=checkin.id)
    reported = {
        stu.stop_sequence: stu
        for entity in message(CALTRAIN / "ct-trip-updates.pb").entity
        if entity.trip_update.trip.trip_id == "124"
        for stu in entity.trip_update.stop_time_update
    }
    assert enriched.departure_real == datetime.fromtimestamp(reported[20].departure.time, UTC)
    assert enriched.arrival_real == datetime.fromtimestamp(reported[22].arrival.time, UTC)
    assert enriched.departure_delay_s == reported[20].departure.time - int(
        checkin.departure_planned.timestamp()
    )

    client.force_login(alice)
    page = client.get(reverse("checkins:detail", args=[checkin.id])).content.decode()
    real = datetime.fromtimestamp(reported[20].departure.time, PACIFIC)
    assert f'real <time datetime="{real.isoformat()}">{real:%H:%M}</time>' in page
    minutes = round(enriched.departure_delay_s / 60)
    assert f"+{minutes} min" in page


# --- The periodic refresh ---------------------------------------------------------------------


@pytest.fixture
def served_realtime():
    """The Caltrain capture served over HTTP on 127.0.0.1, as an operator publishes it."""
    with serve_directory(CALTRAIN) as base:
        yield base


def test_the_periodic_refresh_fetches_each_source_and_survives_a_broken_one(
    caltrain, served_realtime, settings, caplog
):
    settings.TRAINY_IMPORT_ALLOW_PRIVATE = True  # the test's server is on 127.0.0.1
    settings.TRAINY_REALTIME_FEEDS = {
        "bart": f"{served_realtime}/missing.pb",  # no such timetable, nor file: logged, skipped
        "caltrain": f"{served_realtime}/ct-trip-updates.pb",
    }

    assert refresh_realtime() == 19

    assert RealtimeTrip.objects.filter(feed__name="caltrain").count() == 19
    assert "realtime bart" in caplog.text and "404" in caplog.text


def test_a_source_on_a_private_address_is_refused_unless_allowed(
    caltrain, served_realtime, settings, caplog
):
    url = f"{served_realtime}/ct-trip-updates.pb"
    settings.TRAINY_REALTIME_FEEDS = {"caltrain": url}

    assert refresh_realtime() == 0
    assert f"realtime caltrain: {url}: refused: 127.0.0.1 is a loopback address" in caplog.text
    with pytest.raises(CommandError, match=r"refused: 127\.0\.0\.1 is a loopback address"):
        call_command("import_gtfs_rt", "caltrain", url)
    assert not RealtimeTrip.objects.exists()
