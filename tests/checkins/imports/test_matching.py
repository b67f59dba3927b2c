"""Imported journeys found in the local timetable: on the test feed (tests.checkins.feeds:
ICE 1601 Berlin Hbf 08:02 → "Hamburg Hbf, Fernbahn" 09:51 on weekdays of 2019 but Whit
Monday, its night run Berlin 24:30 → München 31:10, the S7 on one Sunday), a traveller's
Travelynx history (written here from the documented fields: epoch seconds, ``from_latlon``)
is matched by station name or place, line and time; what does not fit stays manual."""

from __future__ import annotations

import json
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from checkins.models import CheckIn
from checkins.services.imports import journeys_import, result_summary
from tests.checkins.feeds import write_feed
from trainy.documents import journey_store

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
BERLIN_HBF = [52.525592, 13.369545]
# Travelynx's point for Hamburg Hbf, 40 m from the feed's "Hamburg Hbf, Fernbahn".
HAMBURG_HBF = [53.5527, 10.0067]
MUENCHEN_HBF = [48.140229, 11.558339]


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp())


Place = tuple[str, list[float]]


def journey(ident: int, kind: str, line: str | None, number: str, origin: Place,
            departure: str, destination: Place, arrival: str) -> dict:  # fmt: skip
    """A journey of Travelynx's history.json (no stopovers: ``route`` empty, no distance)."""
    return {
        "id": ident, "type": kind, "line": line, "no": number,
        "from_name": origin[0], "from_latlon": origin[1], "sched_dep_ts": epoch(departure),
        "rt_dep_ts": epoch(departure) + 180,
        "to_name": destination[0], "to_latlon": destination[1], "sched_arr_ts": epoch(arrival),
        "rt_arr_ts": None, "distance": 0, "route": [], "messages": [], "user_data": None,
        "visibility": 10,
    }  # fmt: skip


BERLIN_HAMBURG = (("Berlin Hbf", BERLIN_HBF), ("Hamburg Hbf", HAMBURG_HBF))


def history() -> bytes:
    (origin, destination) = BERLIN_HAMBURG
    return json.dumps([
        # Tuesday: the ICE, its destination known by its place (the names differ).
        journey(1, "ICE", None, "1601", origin, "2019-06-11 08:02", destination,
                "2019-06-11 09:51"),
        # Whit Monday: the feed runs no weekday trains.
        journey(2, "ICE", None, "1601", origin, "2019-06-10 08:02", destination,
                "2019-06-10 09:51"),
        # Eight minutes off the timetable: another train, whatever its number says.
        journey(3, "ICE", None, "1601", origin, "2019-06-18 08:10", destination,
                "2019-06-18 09:59"),
        # The right time and stations, another line.
        journey(4, "IC", None, "2027", origin, "2019-06-19 08:02", destination,
                "2019-06-19 09:51"),
        # After midnight: the night run of Tuesday's service day, leaving on Wednesday.
        journey(5, "ICE", None, "1601", ("Berlin Hbf", BERLIN_HBF), "2019-06-12 00:30",
                ("München Hbf", MUENCHEN_HBF), "2019-06-12 07:10"),
        # The S7's Sunday: "S 7" in Travelynx, "S7" in the feed; one minute late on paper.
        journey(6, "S", "7", "7542", origin, "2019-06-09 10:01", destination,
                "2019-06-09 12:00"),
        # Outside the feed's year: not looked for.
        journey(7, "ICE", None, "1601", origin, "2020-06-09 08:02", destination,
                "2020-06-09 09:51"),
    ]).encode()  # fmt: skip


@pytest.fixture
def timetable(tmp_path):
    call_command("import_gtfs", str(write_feed(tmp_path / "feed")), name="db-fv", verbosity=0)


def by_source_id(user) -> dict[str, CheckIn]:
    return {j.import_source_id: j for j in CheckIn.objects.filter(user=user)}


def test_journeys_are_found_on_their_trips_by_station_line_and_time(
    alice, full_stack, timetable, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = journeys_import(user=alice, data=history())
    summary = result_summary(result)
    assert (summary["new"], summary["matched"], summary["manual"]) == (7, 3, 4)
    journeys = by_source_id(alice)
    ice = journeys["1"]
    assert (ice.feed_name, ice.trip_id, str(ice.service_date)) == ("db-fv", "T1", "2019-06-11")
    assert (ice.origin_stop_id, ice.origin_seq) == ("BER:1", 1)
    assert (ice.destination_stop_id, ice.destination_seq) == ("HAM", 2)
    # What the source had stays: its names, times and real departure.
    assert (ice.origin_name, ice.destination_name) == ("Berlin Hbf", "Hamburg Hbf")
    assert ice.departure_delay_s == 180
    # What it lacked comes from the timetable: the route, the mode, the distance along the
    # shape (Travelynx said 0: none).
    assert ice.mode == "long_distance" and ice.operator_name == "DB Fernverkehr"
    assert ice.distance_method == "shape" and ice.distance_m > 250_000
    document = journey_store().get(ice.id)
    assert document["checkin_id"] == ice.id
    assert [stop["stop_id"] for stop in document["stopovers"]] == ["BER:1", "HAM"]
    assert document["geometry"]["points"] == 3  # the shape's three points
    assert document["provenance"]["source_id"] == "1"
    assert document["provenance"]["timetable"]["trip_id"] == "T1"
    assert document["times"]["departure_real"] == ice.departure_real.isoformat()

    night = journeys["5"]
    assert (night.trip_id, str(night.service_date)) == ("NIGHT", "2019-06-11")
    assert (night.origin_stop_id, night.destination_stop_id) == ("BER:2", "MUC")
    assert journeys["6"].trip_id == "S1"
    for manual in ("2", "3", "4", "7"):
        assert journeys[manual].trip_id == "" and journeys[manual].service_date is None
        assert journey_store().get(journeys[manual].id)["provenance"]["source"] == "import"


def test_a_dry_run_counts_the_matches_and_without_a_timetable_all_are_manual(
    alice, full_stack, timetable
):
    result = journeys_import(user=alice, data=history(), dry_run=True)
    assert (result_summary(result)["matched"], result_summary(result)["manual"]) == (3, 4)
    assert not CheckIn.objects.exists()


def test_without_a_timetable_every_journey_is_manual(alice, full_stack):
    result = journeys_import(user=alice, data=history())
    assert (result_summary(result)["matched"], result_summary(result)["manual"]) == (0, 7)
    assert not CheckIn.objects.filter(user=alice).exclude(trip_id="").exists()


def test_a_station_is_not_guessed_without_its_name_or_place(alice, full_stack, timetable):
    """history.csv has no coordinates: "Hamburg Hbf" is not the feed's "Hamburg Hbf,
    Fernbahn", so the ICE stays manual; the night run's "München Hbf" is found by name."""
    csv = (
        "type,line,number,departure stop name,departure stop id,arrival stop name,"
        "arrival stop id,scheduled departure,real-time departure,scheduled arrival,"
        "real-time arrival,operator,operators,carriage type,comment,id\n"
        "ICE,,1601,Berlin Hbf,8011160,Hamburg Hbf,8002549,2019-06-11 08:02:00,,"
        "2019-06-11 09:51:00,,,,,,11\n"
        "ICE,,1601,Berlin Hbf,8011160,München Hbf,8000261,2019-06-12 00:30:00,,"
        "2019-06-12 07:10:00,,,,,,12\n"
    ).encode()
    result = journeys_import(user=alice, data=csv)
    assert (result_summary(result)["matched"], result_summary(result)["manual"]) == (1, 1)
    night = by_source_id(alice)["12"]
    assert night.trip_id == "NIGHT"
    # Its stations' places come from the timetable: the CSV had none.
    assert (night.origin_lat, night.destination_lat) == (52.525, 48.1402)


def test_the_page_and_the_command_say_how_many_were_found(alice, full_stack, timetable, tmp_path):
    client = Client()
    client.force_login(alice)
    upload = SimpleUploadedFile("history.json", history())
    response = client.post(
        reverse("checkins:import_new"), {"file": upload, "visibility": "private"}, follow=True
    )
    page = response.content.decode()
    assert '<span data-testid="count-matched">3</span>' in page
    assert '<span data-testid="count-manual">4</span>' in page
    path = tmp_path / "history.json"
    path.write_bytes(history())
    out = StringIO()
    call_command("import_journeys", str(path), user=alice.username, dry_run=True, stdout=out)
    assert "3 new journeys found on a trip of the timetable here" in " ".join(
        out.getvalue().split()
    )
