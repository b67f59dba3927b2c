"""stop_times.txt: millions of rows, streamed into the database as they are read and checked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from checkins.timetable import schema
from checkins.timetable.gtfs import LARGEST_INTEGER, Table, parse_time
from checkins.timetable.readers.base import FeedLoad, LoadedTrip


def read(load: FeedLoad) -> list[int]:
    """Stream stop_times into the database; return the departure count per stop pk."""
    started = time.monotonic()
    table = load.table("stop_times.txt", ("trip_id", "stop_id", "stop_sequence"))
    departures = [0] * (len(load.stops) + 1)
    load.counts["stop_times"] = load.writer.write(
        schema.STOP_TIME, _stop_time_rows(load, table, departures)
    )
    load.finished(table.file, load.counts["stop_times"], started)
    return departures


def _stop_time_rows(
    load: FeedLoad, table: Table, departures: list[int]
) -> Iterator[tuple[Any, ...]]:
    """The checked rows. This loop runs for every stop time of a national feed (tens of
    millions), so it keeps to local names and does once per run of rows what it can: rows come
    trip by trip, and a trip is looked up and counted when the next one starts."""
    trips, stops, problems = load.trips, load.stops, load.problems
    trip_i, stop_i = table.columns["trip_id"], table.columns["stop_id"]
    seq_i = table.columns["stop_sequence"]
    arrival_i, departure_i = table.index("arrival_time"), table.index("departure_time")
    pickup_i, drop_off_i = table.index("pickup_type"), table.index("drop_off_type")
    headsign_i, dist_i = table.index("stop_headsign"), table.index("shape_dist_traveled")
    # The same few thousand times repeat millions of times: each text's seconds, None for empty.
    times: dict[str, int | None] = {}
    max_departure = 0
    file = table.file
    rows_read = 0
    report = load.progress.rows_read

    def seconds(text: str, column: str) -> int | None:
        """The seconds of a time not seen before (kept when it is one)."""
        stripped = text.strip()
        if not stripped:
            times[text] = None
            return None
        try:
            value = times[text] = parse_time(stripped)
        except ValueError:
            problems.add(file, table.line, column, f"{stripped!r} is not a time (HH:MM:SS)")
            return None
        return value

    # The trip of the current run of rows, and what the run added to it.
    trip: LoadedTrip | None = None
    trip_text = ""
    run_rows = 0
    run_last_seq = -1
    for row in table.rows:
        rows_read += 1
        if not rows_read & 0xFFFF:
            report(rows_read)
        if row[trip_i] != trip_text:
            if trip is not None:
                trip.stop_times += run_rows
                trip.last_seq = max(trip.last_seq, run_last_seq)
            run_rows, run_last_seq = 0, -1
            trip_text = row[trip_i]
            trip = trips.get(trip_text)
            if trip is None:
                trip = trips.get(trip_text.strip())
        if trip is None:
            problems.add(file, table.line, "trip_id", f"unknown trip {trip_text.strip()!r}")
            continue
        stop_pk = stops.get(row[stop_i])
        if stop_pk is None:
            stop_id = row[stop_i].strip()
            stop_pk = stops.get(stop_id)
            if stop_pk is None:
                problems.add(file, table.line, "stop_id", f"unknown stop {stop_id!r}")
                continue
        try:
            seq = int(row[seq_i])
        except ValueError:
            problems.add(file, table.line, "stop_sequence", f"{row[seq_i]!r} is not a number")
            continue
        if not 0 <= seq <= LARGEST_INTEGER:
            problems.add(file, table.line, "stop_sequence", f"{row[seq_i]!r} is out of range")
            continue
        if arrival_i is None:
            arrival = None
        else:
            arrival = times.get(row[arrival_i], -1)
            if arrival == -1:
                arrival = seconds(row[arrival_i], "arrival_time")
        if departure_i is None:
            departure = None
        else:
            departure = times.get(row[departure_i], -1)
            if departure == -1:
                departure = seconds(row[departure_i], "departure_time")
        # Either may be left out for the other (GTFS allows times only at timepoints).
        if departure is None:
            departure = arrival
        elif arrival is None:
            arrival = departure
        if departure is not None and departure > max_departure:
            max_departure = departure
        try:
            pickup = int(row[pickup_i] or 0) if pickup_i is not None else 0
            drop_off = int(row[drop_off_i] or 0) if drop_off_i is not None else 0
        except ValueError:
            pickup = drop_off = -1
        if not (0 <= pickup <= 3 and 0 <= drop_off <= 3):
            problems.add(file, table.line, "pickup_type", "pickup/drop_off_type not 0-3")
            continue
        if seq > run_last_seq:
            run_last_seq = seq
        run_rows += 1
        departures[stop_pk] += 1
        yield (
            trip.pk,
            seq,
            stop_pk,
            trip.service_pk,
            arrival,
            departure,
            pickup,
            drop_off,
            (row[headsign_i].strip() or None) if headsign_i is not None else None,
            float(row[dist_i]) if dist_i is not None and row[dist_i].strip() else None,
        )
    if trip is not None:
        trip.stop_times += run_rows
        trip.last_seq = max(trip.last_seq, run_last_seq)
    load.max_departure_s = max_departure
