"""A small demo timetable, so a new instance can be tried end to end before a real import.

Labelled as demo data everywhere it shows (agency, feed name, publisher). The trains run every
day from 2020 to 2099, so "now" always has departures.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEMO_FEED_NAME = "demo"
# The traveller whose example journeys load_demo adds (the front page says they are loaded).
DEMO_USERNAME = "demo"

STOPS = [
    # stop_id, name, lat, lon
    ("BHF", "Berlin Hbf", 52.5251, 13.3694),
    ("SPA", "Berlin-Spandau", 52.5345, 13.1968),
    ("WIT", "Wittenberge", 52.9928, 11.7566),
    ("LUD", "Ludwigslust", 53.3299, 11.4988),
    ("HAM", "Hamburg Hbf", 53.5530, 10.0069),
    ("ALX", "Berlin Alexanderplatz", 52.5215, 13.4113),
    ("OKR", "Berlin Ostkreuz", 52.5030, 13.4690),
]
# (route_id, name, route_type, stops with minutes after the first departure, first hour, last
# hour, minutes between trains)
LINES = [
    ("ICE", "ICE", 2, [("BHF", 0), ("SPA", 12), ("WIT", 58), ("LUD", 82), ("HAM", 111)], 6, 22, 60),
    (
        "ICE-R",
        "ICE",
        2,
        [("HAM", 0), ("LUD", 29), ("WIT", 53), ("SPA", 99), ("BHF", 111)],
        6,
        22,
        60,
    ),
    ("S3", "S3", 109, [("BHF", 0), ("ALX", 7), ("OKR", 13)], 5, 24, 10),
    ("S3-R", "S3", 109, [("OKR", 0), ("ALX", 6), ("BHF", 13)], 5, 24, 10),
]


def _time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def _write(folder: Path, name: str, header: list[str], rows: Sequence[Sequence[Any]]) -> None:
    with (folder / name).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_demo_feed(folder: Path) -> Path:
    """Write the demo GTFS feed into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(
        folder,
        "agency.txt",
        ["agency_id", "agency_name", "agency_url", "agency_timezone"],
        [["DEMO", "Demo Rail (demo data)", "https://example.org/demo", "Europe/Berlin"]],
    )
    _write(folder, "stops.txt", ["stop_id", "stop_name", "stop_lat", "stop_lon"], STOPS)
    routes: list[list[Any]] = []
    trips: list[list[Any]] = []
    stop_times: list[list[Any]] = []
    for route_id, name, route_type, stops, first_hour, last_hour, every in LINES:
        number = 1000 + len(routes) * 100
        routes.append([route_id, "DEMO", name, "", route_type])
        for start in range(first_hour * 60, last_hour * 60, every):
            number += 1
            trip_id = f"{route_id}-{start:04d}"
            short_name = f"{name} {number}" if route_type == 2 else ""
            trips.append([route_id, "DAILY", trip_id, stops[-1][0], short_name])
            for sequence, (stop_id, minutes) in enumerate(stops, start=1):
                time = _time(start + minutes)
                stop_times.append([trip_id, time, time, stop_id, sequence])
    _write(folder, "routes.txt", ["route_id", "agency_id", "route_short_name",
                                   "route_long_name", "route_type"], routes)  # fmt: skip
    headsigns = {stop_id: name for stop_id, name, _, _ in STOPS}
    _write(
        folder,
        "trips.txt",
        ["route_id", "service_id", "trip_id", "trip_headsign", "trip_short_name"],
        [[r, s, t, headsigns[h], n] for r, s, t, h, n in trips],
    )
    _write(folder, "stop_times.txt", ["trip_id", "arrival_time", "departure_time", "stop_id",
                                       "stop_sequence"], stop_times)  # fmt: skip
    _write(
        folder,
        "calendar.txt",
        ["service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
         "sunday", "start_date", "end_date"],
        [["DAILY", 1, 1, 1, 1, 1, 1, 1, "20200101", "20991231"]],
    )  # fmt: skip
    _write(
        folder,
        "feed_info.txt",
        ["feed_publisher_name", "feed_publisher_url", "feed_lang"],
        [["Trainy demo data (not a real timetable)", "https://example.org/demo", "en"]],
    )
    return folder
