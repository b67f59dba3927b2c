"""import_gtfs: every file and quirk real feeds have, and clear refusals of bad feeds."""

from __future__ import annotations

import re
import struct
import zipfile
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from checkins.timetable.gtfs import FeedError
from checkins.timetable.importer import SilentProgress, feed_import
from checkins.timetable.models import Feed, FeedVersion
from checkins.timetable.selectors import departures, station_search, trip_get
from tests.checkins.feeds import FILES, write_feed

pytestmark = pytest.mark.django_db(transaction=True)
BERLIN = ZoneInfo("Europe/Berlin")


def import_feed(path, name="test", **kwargs):
    call_command("import_gtfs", str(path), name=name, verbosity=0, **kwargs)
    return Feed.objects.get(name=name).active_version


def board(stop_id, at, **kwargs):
    return [
        (d.trip_id, d.departure.isoformat()) for d in departures(stop_id=stop_id, at=at, **kwargs)
    ]


def test_a_valid_feed_becomes_the_active_version(tmp_path):
    version = import_feed(write_feed(tmp_path))
    assert version.status == FeedVersion.Status.ACTIVE
    assert version.timezone == "Europe/Berlin"
    assert (version.start_date, version.end_date) == (date(2019, 1, 1), date(2019, 12, 31))
    assert version.row_counts["stop_times"] == 6
    assert version.info["feed_info"]["feed_publisher_name"] == "Test, Publisher"
    assert version.max_departure_s == 31 * 3600 + 10 * 60


def test_a_zip_with_a_byte_order_mark_imports_the_same(tmp_path):
    bom = {"stops.txt": "\ufeff" + FILES["stops.txt"]}
    version = import_feed(write_feed(tmp_path, bom, as_zip=True))
    assert version.row_counts["stops"] == 5
    assert [s.stop_id for s in station_search("berlin")] == ["BER"]


def test_times_past_midnight_stay_on_their_service_day(tmp_path):
    import_feed(write_feed(tmp_path))
    # Friday 2019-06-07's night train leaves at 24:30, i.e. Saturday 00:30.
    at = datetime(2019, 6, 8, 0, 0, tzinfo=BERLIN)
    found = departures(stop_id="BER", at=at, limit=1)
    assert [(d.trip_id, d.service_date, d.departure.isoformat()) for d in found] == [
        ("NIGHT", date(2019, 6, 7), "2019-06-08T00:30:00+02:00")
    ]


def test_a_board_covers_all_platforms_of_a_station_and_never_the_last_stop(tmp_path):
    import_feed(write_feed(tmp_path))
    monday = datetime(2019, 6, 3, 7, 0, tzinfo=BERLIN)
    assert board("BER", monday, limit=5) == [
        ("T1", "2019-06-03T08:02:00+02:00"),
        ("NIGHT", "2019-06-04T00:30:00+02:00"),
    ]
    assert board("HAM", monday) == []  # every trip ends there


def test_calendar_dates_add_and_remove_days(tmp_path):
    import_feed(write_feed(tmp_path))
    whit_monday = datetime(2019, 6, 10, 7, 0, tzinfo=BERLIN)
    assert [trip for trip, _ in board("BER:1", whit_monday, limit=3)] == []
    sunday = datetime(2019, 6, 9, 9, 0, tzinfo=BERLIN)
    assert board("BER:1", sunday, limit=1) == [("S1", "2019-06-09T10:00:00+02:00")]


def test_modes_come_from_route_types_and_product_names(tmp_path):
    import_feed(write_feed(tmp_path))
    at = datetime(2019, 6, 9, 9, 0, tzinfo=BERLIN)
    assert [d.mode for d in departures(stop_id="BER", at=at, limit=1)] == ["suburban"]
    monday = datetime(2019, 6, 3, 7, 0, tzinfo=BERLIN)
    assert {d.mode for d in departures(stop_id="BER", at=monday)} == {"long_distance"}
    assert board("BER", monday, modes=["suburban"]) == []


def test_a_trip_has_its_stops_with_times_on_its_service_day(tmp_path):
    import_feed(write_feed(tmp_path))
    trip = trip_get(feed="test", trip_id="NIGHT", service_date=date(2019, 6, 7))
    assert [stop.stop_id for stop in trip.stops] == ["BER:2", "MUC"]
    assert trip.stops[0].departure.isoformat() == "2019-06-08T00:30:00+02:00"
    assert trip.stops[1].arrival.isoformat() == "2019-06-08T07:10:00+02:00"
    assert trip.stops[0].station_id == "BER"
    assert trip_get(feed="test", trip_id="NIGHT", service_date=date(2019, 6, 8)) is None


def test_reimporting_by_name_replaces_the_version_and_drops_the_old_one(tmp_path):
    first = import_feed(write_feed(tmp_path / "a"))
    second = import_feed(write_feed(tmp_path / "b"))
    assert second.id != first.id
    first.refresh_from_db()
    assert first.status == FeedVersion.Status.RETIRED
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tt_stop_time WHERE version_id = %s", [first.id])
        assert cursor.fetchone()[0] == 0


def test_feeds_of_different_names_are_active_side_by_side(tmp_path):
    import_feed(write_feed(tmp_path / "a"), name="one")
    other = {"agency.txt": FILES["agency.txt"].replace("Europe/Berlin", "America/New_York")}
    import_feed(write_feed(tmp_path / "b", other), name="two")
    assert set(Feed.objects.values_list("name", flat=True)) == {"one", "two"}
    assert {station.feed for station in station_search("berlin hbf")} == {"one", "two"}


def test_a_feed_can_be_fetched_over_http(served, settings):
    settings.TRAINY_IMPORT_ALLOW_PRIVATE = True  # the test's server is on 127.0.0.1
    version = import_feed(served, name="remote")
    assert version.row_counts["trips"] == 3
    with pytest.raises(CommandError, match="download failed: 404"):
        import_feed(served.replace("feed.zip", "missing.zip"), name="remote")


def test_a_feed_on_a_private_address_is_refused_unless_allowed(served):
    with pytest.raises(CommandError) as refused:
        import_feed(served, name="remote")
    assert f"{served}: refused: 127.0.0.1 is a loopback address" in str(refused.value)
    assert "TRAINY_IMPORT_ALLOW_PRIVATE" in str(refused.value)
    assert not Feed.objects.filter(name="remote").exists()


# --- Bad feeds: a clear message, and the previous version stays active -------------------------


def truncated_zip(tmp_path):
    path = write_feed(tmp_path / "zip", as_zip=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


BAD_FEEDS = {
    "truncated zip": (truncated_zip, "feed.zip: not a valid zip archive (truncated or corrupt)"),
    "missing stop_times.txt": (
        {"stop_times.txt": None},
        "stop_times.txt: required file is missing from the feed",
    ),
    "missing required column": (
        {"trips.txt": FILES["trips.txt"].replace("service_id,", "")},
        "trips.txt, line 1, column service_id: required column service_id missing",
    ),
    "bad time": (
        {
            "stop_times.txt": FILES["stop_times.txt"].replace(
                "09:51:00,09:51:00", "25:6x:00,09:51:00"
            )
        },
        "stop_times.txt, line 3, column arrival_time: '25:6x:00' is not a time (HH:MM:SS)",
    ),
    "unknown stop in stop_times": (
        {"stop_times.txt": FILES["stop_times.txt"].replace("T1,HAM", "T1,NOWHERE")},
        "stop_times.txt, line 3, column stop_id: unknown stop 'NOWHERE'",
    ),
    "latin-1 file": (
        {"stops.txt": FILES["stops.txt"].encode("latin-1")},
        "stops.txt, line 6: not UTF-8 (byte 0xfc); GTFS files must be UTF-8 encoded",
    ),
    "empty file": (
        {"routes.txt": ""},
        "routes.txt: the file is empty (a header line is required)",
    ),
    "duplicate trip_id": (
        {"trips.txt": FILES["trips.txt"] + "R1,WD,T1,Elsewhere,0,\n"},
        "trips.txt, line 5, column trip_id: duplicate id 'T1'",
    ),
    "unknown route": (
        {"trips.txt": FILES["trips.txt"].replace("R2,SUN", "R9,SUN")},
        "trips.txt, line 4, column route_id: unknown route 'R9'",
    ),
    "unknown parent station": (
        {"stops.txt": FILES["stops.txt"].replace("0,BER,2", "0,BRE,2")},
        "stops.txt, line 4, column parent_station: unknown stop 'BRE'",
    ),
    "unknown agency": (
        {"routes.txt": FILES["routes.txt"].replace("R2,DB", "R2,XX")},
        "routes.txt, line 3, column agency_id: unknown 'XX'",
    ),
    "bad route type": (
        {"routes.txt": FILES["routes.txt"].replace("S7,,109", "S7,,S-Bahn")},
        "routes.txt, line 3, column route_type: 'S-Bahn' is not a whole number",
    ),
    "bad latitude": (
        {"stops.txt": FILES["stops.txt"].replace("HAM,53.5530", "HAM,53°33'")},
        'stops.txt, line 5, column stop_lat: "53°33\'" is not a number',
    ),
    "bad date": (
        {"calendar_dates.txt": FILES["calendar_dates.txt"].replace("20190610", "2019-06-10")},
        "calendar_dates.txt, line 2, column date: '2019-06-10' is not a YYYYMMDD date",
    ),
    "stop_sequence past a whole number's range": (
        {
            "stop_times.txt": FILES["stop_times.txt"].replace(
                "T1,HAM,2", "T1,HAM,99999999999999999999999"
            )
        },
        "stop_times.txt, line 3, column stop_sequence: '99999999999999999999999' is out of range",
    ),
    "route_type past a whole number's range": (
        {"routes.txt": FILES["routes.txt"].replace("S7,,109", "S7,,99999999999999999999999")},
        "routes.txt, line 3, column route_type: '99999999999999999999999' is out of range",
    ),
    "pickup_type past its values": (
        {
            "stop_times.txt": "trip_id,stop_id,stop_sequence,arrival_time,departure_time,"
            "pickup_type\nT1,BER:1,1,08:00:00,08:02:00,0\nT1,HAM,2,09:51:00,09:51:00,70000\n"
        },
        "stop_times.txt, line 3, column pickup_type: pickup/drop_off_type not 0-3",
    ),
    "direction_id past a small whole number's range": (
        {"trips.txt": FILES["trips.txt"].replace("T1,Hamburg Hbf,0", "T1,Hamburg Hbf,70000")},
        "trips.txt, line 2, column direction_id: '70000' is out of range",
    ),
    "a time past the seconds' range": (
        {
            "stop_times.txt": FILES["stop_times.txt"].replace(
                "09:51:00,09:51:00", "999999:00:00,09:51:00"
            )
        },
        "stop_times.txt, line 3, column arrival_time: '999999:00:00' is not a time (HH:MM:SS)",
    ),
    "a NUL character in a field": (
        {"trips.txt": FILES["trips.txt"].replace("München Hbf", "Mün\x00chen Hbf")},
        "trips.txt, line 3: a NUL character (GTFS files are text)",
    ),
    "duplicate stop_sequence": (
        {"stop_times.txt": FILES["stop_times.txt"].replace("T1,HAM,2", "T1,HAM,1")},
        "stop_times.txt, column stop_sequence: duplicate key",
    ),
}


@pytest.mark.parametrize("case", BAD_FEEDS, ids=list(BAD_FEEDS))
def test_a_bad_feed_is_refused_and_the_active_version_is_kept(tmp_path, case):
    good = import_feed(write_feed(tmp_path / "good"))
    change, expected = BAD_FEEDS[case]
    path = change(tmp_path) if callable(change) else write_feed(tmp_path / "bad", change)

    with pytest.raises(CommandError) as error:
        import_feed(path)
    assert expected in str(error.value)

    assert Feed.objects.get(name="test").active_version_id == good.id
    failed = FeedVersion.objects.exclude(id=good.id).get()
    assert failed.status == FeedVersion.Status.FAILED
    assert expected in failed.error
    monday = datetime(2019, 6, 3, 7, 0, tzinfo=BERLIN)
    assert board("BER", monday)[0] == ("T1", "2019-06-03T08:02:00+02:00")


def test_many_problems_are_listed_first_few_and_counted(tmp_path):
    rows = "".join(f"T1,GHOST{n},{n + 10},10:00:00,10:00:00\n" for n in range(25))
    path = write_feed(tmp_path, {"stop_times.txt": FILES["stop_times.txt"] + rows})
    with pytest.raises(CommandError) as error:
        import_feed(path)
    message = str(error.value)
    assert "unknown stop 'GHOST0'" in message
    assert "… and 15 more problems" in message


def test_a_feed_name_must_be_a_slug(tmp_path):
    with pytest.raises(CommandError, match="is not a feed name"):
        import_feed(write_feed(tmp_path), name="Not a name!")


def test_a_levelled_station_without_parent_stations_is_one_station(tmp_path):
    # Like DB's "Berlin Hbf" and "Berlin Hbf (tief)": two stops at one place, no parent_station.
    stops = (
        "stop_id,stop_name,stop_lat,stop_lon\n"
        "BER,Berlin Hbf,52.5251,13.3694\n"
        "BERT,Berlin Hbf (tief),52.5251,13.3694\n"
        "HAM,Hamburg Hbf,53.5530,10.0069\n"
        "MUC,München Hbf,48.1402,11.5583\n"
        "FAR,Berlin Hbf (weit weg),52.0,13.0\n"
    )
    stop_times = FILES["stop_times.txt"].replace("BER:1", "BERT").replace("BER:2", "BER")
    import_feed(write_feed(tmp_path, {"stops.txt": stops, "stop_times.txt": stop_times}))
    assert sorted(s.name for s in station_search("berlin hbf")) == [
        "Berlin Hbf",
        "Berlin Hbf (weit weg)",  # too far away to be the same station
    ]
    monday = datetime(2019, 6, 3, 7, 0, tzinfo=BERLIN)
    assert [trip for trip, _ in board("BER", monday)] == ["T1", "NIGHT"]
    trip = trip_get(feed="test", trip_id="T1", service_date=date(2019, 6, 3))
    assert (trip.stops[0].name, trip.stops[0].station_name) == ("Berlin Hbf (tief)", "Berlin Hbf")


# --- Limits: a feed past one is refused naming it and the file, and the active version stays ----

# A stop_times.txt of the same line over and over: 2.4 MB that deflate packs about 1000 to 1.
REPEATED = FILES["stop_times.txt"] + "S1,HAM,3,12:00:00,12:00:00\n" * 90_000


def refused_and_kept(source, tmp_path, settings, **limits) -> str:
    """Import ``source`` with the settings ``limits`` over a good version of feed "test";
    return the refusal after checking that the good version is still the active one and still
    answers."""
    good = import_feed(write_feed(tmp_path / "good"))
    for name, value in limits.items():
        setattr(settings, name, value)
    with pytest.raises(CommandError) as error:
        import_feed(source)
    assert Feed.objects.get(name="test").active_version_id == good.id
    monday = datetime(2019, 6, 3, 7, 0, tzinfo=BERLIN)
    assert board("BER", monday)[0] == ("T1", "2019-06-03T08:02:00+02:00")
    return str(error.value)


def test_a_file_with_more_rows_than_allowed_is_refused(tmp_path, settings):
    # stops.txt has 5 rows, stop_times.txt 6.
    message = refused_and_kept(
        write_feed(tmp_path / "big"), tmp_path, settings, TRAINY_IMPORT_MAX_ROWS=5
    )
    assert (
        "stop_times.txt, line 7: more than the limit of 5 rows (TRAINY_IMPORT_MAX_ROWS)" in message
    )
    failed = FeedVersion.objects.get(status=FeedVersion.Status.FAILED)
    assert "TRAINY_IMPORT_MAX_ROWS" in failed.error


def test_a_zip_that_unpacks_to_more_than_allowed_is_refused_before_reading(tmp_path, settings):
    zipped = write_feed(tmp_path / "big", as_zip=True)
    with zipfile.ZipFile(zipped) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    message = refused_and_kept(
        zipped, tmp_path, settings, TRAINY_IMPORT_MAX_UNZIPPED_BYTES=unpacked - 1
    )
    assert (
        f"feed.zip: unpacks to {unpacked / 1024:.1f} KB, more than the limit of "
        f"{(unpacked - 1) / 1024:.1f} KB (TRAINY_IMPORT_MAX_UNZIPPED_BYTES)"
    ) in message


def test_a_member_compressed_like_a_zip_bomb_is_refused(tmp_path, settings):
    zipped = write_feed(tmp_path / "bomb", {"stop_times.txt": REPEATED}, as_zip=True)
    message = refused_and_kept(zipped, tmp_path, settings)  # the default limits
    assert re.search(
        r"stop_times\.txt: compressed [\d,]+ to 1 in the archive, more than the limit of 100 to 1 "
        r"\(TRAINY_IMPORT_MAX_COMPRESSION_RATIO\)",
        message,
    ), message


def lying_zip(tmp_path):
    """A feed whose stop_times.txt holds 2.4 MB while the zip's directory (and the member's
    own header) say it holds only the good feed's few hundred bytes."""
    zipped = write_feed(tmp_path / "lying", {"stop_times.txt": REPEATED}, as_zip=True)
    data = bytearray(zipped.read_bytes())
    name, declared = b"stop_times.txt", len(FILES["stop_times.txt"])
    for signature, size_at, name_at in ((b"PK\x01\x02", 24, 46), (b"PK\x03\x04", 22, 30)):
        start = data.find(signature)
        while data[start + name_at : start + name_at + len(name)] != name:
            start = data.find(signature, start + 1)
        struct.pack_into("<I", data, start + size_at, declared)
    zipped.write_bytes(data)
    return zipped


def test_a_zip_that_understates_a_member_is_read_no_further_than_it_says(tmp_path):
    zipped = lying_zip(tmp_path)
    with zipfile.ZipFile(zipped) as archive:
        declared_total = sum(info.file_size for info in archive.infolist())
    read = []

    class Recorder(SilentProgress):
        def bytes_read(self, count: int) -> None:
            read.append(count)

    good = import_feed(write_feed(tmp_path / "good"))
    with pytest.raises(FeedError) as error:
        feed_import(source=str(zipped), name="test", progress=Recorder())
    # zipfile stops at the declared size and finds the CRC wrong: the member is refused.
    assert error.value.problems[0].file == "stop_times.txt"
    assert "Bad CRC-32 for file 'stop_times.txt'" in error.value.describe()
    # The 2.4 MB behind the lie were never read: no more than the directory declared.
    assert sum(read) <= declared_total < 2 * 1024
    assert Feed.objects.get(name="test").active_version_id == good.id


def test_a_download_larger_than_allowed_is_refused(served, tmp_path, settings):
    settings.TRAINY_IMPORT_ALLOW_PRIVATE = True
    size = (tmp_path / "served" / "feed.zip").stat().st_size
    message = refused_and_kept(served, tmp_path, settings, TRAINY_IMPORT_MAX_DOWNLOAD_BYTES=100)
    assert (
        f"{served}: refused: the file is {size / 1024:.1f} KB, more than the limit of 100 bytes "
        "(TRAINY_IMPORT_MAX_DOWNLOAD_BYTES)"
    ) in message
