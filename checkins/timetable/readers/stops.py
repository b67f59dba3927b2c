"""stops.txt: stops and stations, read first and written last, once stop_times.txt has said
how busy each stop is."""

from __future__ import annotations

import time
from typing import Any

from checkins.geo import great_circle_m
from checkins.timetable import schema
from checkins.timetable.gtfs import LARGEST_SMALL_INTEGER, search_form
from checkins.timetable.readers.base import FeedLoad, optional

# How close a stop named like a station plus a suffix must be to count as part of it.
SUB_STATION_RADIUS_M = 400


def read(load: FeedLoad) -> list[list[Any]]:
    """The stops as rows to write once their departures are counted (see ``write``)."""
    started = time.monotonic()
    table = load.table("stops.txt", ("stop_id",))
    rows: list[list[Any]] = []
    parents: list[tuple[int, str, int]] = []  # (row index, parent_station, line)
    parent_index = table.index("parent_station")
    name_index = table.index("stop_name")
    for row in table.rows:
        stop_id = row[table.columns["stop_id"]].strip()
        pk = load.new_id(table, load.stops, stop_id, "stop_id")
        if pk is None:
            continue
        location_type = load.integer(table, row, "location_type", 0, largest=LARGEST_SMALL_INTEGER)
        name = row[name_index].strip() if name_index is not None else ""
        lat = load.number(table, row, "stop_lat")
        lon = load.number(table, row, "stop_lon")
        if location_type in (0, 1, 2) and (not name or lat is None or lon is None):
            column = "stop_name" if not name else "stop_lat"
            load.problems.add(table.file, table.line, column, "required for this location_type")
        parent = row[parent_index].strip() if parent_index is not None else ""
        if parent:
            parents.append((len(rows), parent, table.line))
        rows.append(
            [pk, stop_id, optional(row, table.index("stop_code")), name or stop_id,
             search_form(name or stop_id), lat, lon, location_type, None,
             optional(row, table.index("platform_code")), 0]
        )  # fmt: skip
    for position, parent, line in parents:
        parent_pk = load.stops.get(parent)
        if parent_pk is None:
            load.problems.add(table.file, line, "parent_station", f"unknown stop {parent!r}")
        else:
            rows[position][8] = parent_pk
    if not parents:
        _group_sub_stations(rows)
    load.finished(table.file, len(rows), started)
    return rows


def _group_sub_stations(rows: list[list[Any]]) -> None:
    """Feeds without parent stations may still split one station in several stops: DB's
    "Berlin Hbf" and "Berlin Hbf (tief)" (its lower level) are separate stops at the same
    place. A stop whose name is another nearby stop's name plus a suffix becomes that
    stop's child, so the station's board and search cover both."""
    by_name = {row[3]: row for row in rows if row[7] in (0, 1)}
    for row in rows:
        name, lat, lon = row[3], row[5], row[6]
        if row[7] != 0 or lat is None or lon is None:
            continue
        for cut in (name.rfind(" ("), name.rfind(" ")):
            station = by_name.get(name[:cut]) if cut > 0 else None
            if (
                station is not None
                and station is not row
                and station[5] is not None
                and great_circle_m(lat, lon, station[5], station[6]) <= SUB_STATION_RADIUS_M
            ):
                row[8] = station[0]
                break


def write(load: FeedLoad, rows: list[list[Any]], departures: list[int]) -> None:
    for row in rows:
        row[10] = departures[row[0]]
    # A station's busyness is that of all its platforms.
    by_pk = {row[0]: row for row in rows}
    for row in rows:
        parent = row[8]
        if parent is not None:
            by_pk[parent][10] += departures[row[0]]
    load.counts["stops"] = load.writer.write(schema.STOP, (tuple(row) for row in rows))
