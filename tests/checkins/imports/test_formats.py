"""The peers' export files read into ImportedJourney: each format recognised from its content
and read field by field as its service writes it. The fixtures are written by hand from the
formats as ../shared/PEERS.md describes them (never by Trainy's own exporter), with the awkward
parts: Träwelling's totals row, tag columns and both line ends, Travelynx's naive local times
across the end of summer time, journeys past midnight, missing real times, broken rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from checkins.imports.formats import (
    TRAEWELLING_CSV,
    TRAEWELLING_JSON,
    TRAVELYNX_ACCOUNT,
    TRAVELYNX_CSV,
    TRAVELYNX_JSON,
    FormatError,
    ImportedJourney,
    Reading,
    read_export,
)

FIXTURES = Path(__file__).parent / "fixtures"
LIMIT = 100


def read(name: str) -> Reading:
    return read_export((FIXTURES / name).read_bytes(), max_journeys=LIMIT)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def by_id(reading: Reading) -> dict[str, ImportedJourney]:
    return {journey.source_id: journey for journey in reading.journeys}


# --- Träwelling ----------------------------------------------------------------------------------


def test_a_traewelling_json_export_keeps_every_field_it_has():
    reading = read("traewelling.json")
    assert reading.format == TRAEWELLING_JSON
    assert reading.source_users == {"alice_trwl"}
    ice = by_id(reading)["90001"]
    assert (ice.mode, ice.line_name, ice.journey_number, ice.operator_name) == (
        "long_distance", "ICE 1003", "1003", "DB Fernverkehr AG",
    )  # fmt: skip
    assert (ice.origin_name, ice.origin_lat, ice.origin_lon) == ("Berlin Hbf", 52.525592, 13.369545)
    assert (ice.destination_name, ice.destination_lat) == ("Hamburg Hbf", 53.552736)
    assert ice.departure_planned == utc("2026-11-30T07:00:00+00:00")
    assert ice.departure_real == utc("2026-11-30T07:04:00+00:00")
    assert ice.arrival_planned == utc("2026-11-30T08:52:00+00:00")
    assert ice.arrival_real == utc("2026-11-30T09:01:00+00:00")
    assert (ice.distance_m, ice.message) == (287340, "Off to Hamburg, #meeting")
    assert (ice.visibility, ice.purpose) == ("public", "business")


def test_traewelling_levels_are_mapped_never_wider_and_manual_times_win():
    journeys = by_id(read("traewelling.json"))
    night = journeys["90002"]
    # Trusted users only has no level here: private, not anything wider.
    assert (night.visibility, night.purpose, night.mode) == ("private", "commute", "suburban")
    # Past midnight: arrives the next day; the arrival entered by hand is the real one.
    assert night.arrival_planned == utc("2026-12-01T23:16:00+00:00")
    assert night.arrival_real == utc("2026-12-01T23:20:00+00:00")
    assert night.departure_real is None
    assert night.operator_name == ""
    assert journeys["90004"].visibility == "authenticated"


def test_a_row_arriving_before_it_departs_is_refused_with_its_number():
    reading = read("traewelling.json")
    assert "90003" not in by_id(reading)
    assert [(p.number, p.reason) for p in reading.problems] == [
        (3, "It arrives before it departs (planned times).")
    ]


def test_an_older_traewelling_csv_with_lf_and_a_totals_row():
    reading = read("traewelling-old.csv")
    assert reading.format == TRAEWELLING_CSV
    assert reading.problems == []  # the totals row is no journey and no problem
    ice, bus = reading.journeys
    # The same statuses as the JSON export: a second import of the other file adds nothing.
    assert (ice.source_format, ice.source_id) == (TRAEWELLING_JSON, "90001")
    assert (ice.origin_lat, ice.origin_lon) == (52.525592, 13.369545)
    assert ice.message == "Off to Hamburg, #meeting"
    assert (ice.purpose, ice.visibility) == ("business", None)  # the CSV has no visibility
    assert (bus.mode, bus.line_name, bus.journey_number, bus.distance_m) == (
        "bus", "Bus 100", "", 6200,
    )  # fmt: skip
    assert bus.arrival_planned - bus.departure_planned == bus.arrival_real - bus.departure_real


def test_a_newer_traewelling_csv_with_crlf_quoted_lines_and_two_tag_columns():
    reading = read("traewelling-new.csv")
    (regional,) = reading.journeys
    assert regional.message == 'Line one\r\nline two, with a "quote"'
    assert (regional.purpose, regional.mode, regional.operator_name) == (
        "commute", "regional", "DB Regio AG",
    )  # fmt: skip
    # The broken row is named by the line it starts on (the quoted message spans two).
    assert [(p.number, p.reason) for p in reading.problems] == [
        (4, "'not a time' is not a time (ISO 8601 with its offset).")
    ]


# --- Travelynx -----------------------------------------------------------------------------------


def test_a_travelynx_history_json_keeps_route_messages_and_levels():
    reading = read("travelynx-history.json")
    assert reading.format == TRAVELYNX_JSON
    assert reading.source_users == set()
    journeys = by_id(reading)
    ice = journeys["3001"]
    assert (ice.mode, ice.line_name, ice.journey_number) == ("long_distance", "ICE 1601", "1601")
    assert (ice.origin_name, ice.origin_lat, ice.destination_name) == (
        "Berlin Hbf", 52.525592, "München Hbf",
    )  # fmt: skip
    assert ice.departure_planned == utc("2026-11-20T07:29:00+00:00")
    assert ice.arrival_real == utc("2026-11-20T11:48:00+00:00")
    assert (ice.distance_m, ice.message, ice.operator_name) == (
        585000, "Quiet coach, good coffee", "DB Fernverkehr",
    )  # fmt: skip
    assert [stop.name for stop in ice.stopovers] == ["Berlin Hbf", "Erfurt Hbf", "München Hbf"]
    assert ice.stopovers[1].departure_real == utc("2026-11-20T09:14:00+00:00")
    assert ice.visibility == "public"


def test_travelynx_zero_times_are_unknown_and_the_effective_level_counts():
    journeys = by_id(read("travelynx-history.json"))
    night = journeys["3002"]
    assert (night.line_name, night.mode) == ("S 5", "suburban")
    assert (night.departure_real, night.arrival_real) == (None, None)
    assert night.arrival_planned > night.departure_planned  # past midnight
    assert night.distance_m == 29000  # the straight line, the only distance it had
    assert night.visibility == "followers"  # the traveller's default, as Travelynx applied it
    tram = journeys["3003"]
    assert (tram.line_name, tram.mode, tram.visibility) == ("M4", "tram", "unlisted")
    assert tram.operator_name == "BVG | S-Bahn Berlin"


def test_a_travelynx_row_without_a_readable_time_is_refused():
    reading = read("travelynx-history.json")
    assert [(p.number, p.reason) for p in reading.problems] == [
        (4, "'not a number' is not a time (seconds since 1970).")
    ]


def test_travelynx_csv_times_are_berlin_time_across_the_end_of_summer_time():
    reading = read("travelynx-history.csv")
    assert reading.format == TRAVELYNX_CSV
    journeys = by_id(reading)
    ice = journeys["3001"]
    assert (ice.source_format, ice.line_name) == (TRAVELYNX_JSON, "ICE 1601")
    assert ice.departure_planned == utc("2026-11-20T07:29:00+00:00")  # CET, UTC+1
    assert ice.message == "Quiet coach, good coffee"
    # 25 October 2026, 03:00 summer time becomes 02:00 winter time: 02:00-02:59 happens twice.
    night = journeys["3010"]
    assert night.departure_planned == utc("2026-10-24T23:50:00+00:00")  # 01:50 summer time
    assert night.arrival_planned == utc("2026-10-25T00:30:00+00:00")  # the first 02:30
    assert night.operator_name == "ÖBB | DB Fernverkehr"
    # Leaves at the first 02:40 and arrives at "02:10": that can only be the second 02:10.
    repeated = journeys["3011"]
    assert repeated.departure_planned == utc("2026-10-25T00:40:00+00:00")
    assert repeated.arrival_planned == utc("2026-10-25T01:10:00+00:00")
    assert (repeated.departure_real, repeated.arrival_real) == (None, None)
    assert [(p.number, p.reason) for p in reading.problems] == [
        (5, "'2026-11-24 09:70:00' is not a time (YYYY-MM-DD HH:MM:SS).")
    ]


def test_a_travelynx_account_export_names_its_owner_and_stations_from_the_route():
    reading = read("travelynx-account.json")
    assert reading.format == TRAVELYNX_ACCOUNT
    assert reading.source_users == {"alice_tx"}
    journeys = by_id(reading)
    ice = journeys["3001"]
    # The same journey as in history.json, under the same source and id.
    assert (ice.source_format, ice.origin_name, ice.destination_name) == (
        TRAVELYNX_JSON, "Berlin Hbf", "München Hbf",
    )  # fmt: skip
    assert (ice.origin_lat, ice.destination_lon) == (52.525592, 11.558339)
    assert ice.arrival_real == utc("2026-11-20T11:48:00+00:00")
    # Without a route only the station numbers are known.
    local = journeys["3005"]
    assert (local.origin_name, local.line_name, local.visibility) == ("8010205", "RB 23", "private")


# --- What is not an export ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe n\x00o\x00", "not UTF-8 text (byte 1"),
        (b'{"meta": {}, "data": [{"status": ', "cut off or broken at line 1, column 34"),
        (b'{"hello": "world"}', "This JSON is not an export Trainy can read"),
        (b"[1, 2, 3]", "This JSON is not an export Trainy can read"),
        (b"date,from,to\n2026-01-01,A,B\n", "not an export Trainy can read"),
        (b"", "not an export Trainy can read"),
    ],
)
def test_a_file_that_is_no_export_says_what_is_wrong(content, message):
    with pytest.raises(FormatError, match=message.replace("(", r"\(")):
        read_export(content, max_journeys=LIMIT)


def test_more_journeys_than_the_limit_is_refused_as_a_whole():
    rows = json.loads((FIXTURES / "travelynx-history.json").read_text())[:1] * 4
    with pytest.raises(FormatError, match="more than 3 journeys"):
        read_export(json.dumps(rows).encode(), max_journeys=3)


def test_a_byte_order_mark_and_a_row_with_too_many_fields_are_handled():
    text = (FIXTURES / "traewelling-old.csv").read_text()
    lines = text.split("\n")
    lines[2] = lines[2] + ",surplus"
    reading = read_export(("\ufeff" + "\n".join(lines)).encode(), max_journeys=LIMIT)
    assert [journey.source_id for journey in reading.journeys] == ["90001"]
    assert [(p.number, p.reason) for p in reading.problems] == [
        (3, "It has more fields than the header: a comma out of place?")
    ]
