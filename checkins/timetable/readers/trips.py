"""trips.txt: the trips, kept in memory while stop_times.txt is read (it counts each trip's
stops), then written: trips with fewer than two stop times are left out."""

from __future__ import annotations

import time

from checkins.timetable import schema
from checkins.timetable.gtfs import LARGEST_SMALL_INTEGER
from checkins.timetable.readers.base import FeedLoad, LoadedTrip, optional


def read(load: FeedLoad) -> None:
    started = time.monotonic()
    table = load.table("trips.txt", ("route_id", "service_id", "trip_id"))
    route_index = table.columns["route_id"]
    service_index = table.columns["service_id"]
    trip_index = table.columns["trip_id"]
    shape_index = table.index("shape_id")
    unknown_shapes = 0
    count = 0
    for row in table.rows:
        count += 1
        trip_id = row[trip_index].strip()
        if not trip_id:
            load.problems.add(table.file, table.line, "trip_id", "is empty")
            continue
        if trip_id in load.trips:
            load.problems.add(table.file, table.line, "trip_id", f"duplicate id {trip_id!r}")
            continue
        route_id = row[route_index].strip()
        route_pk = load.routes.get(route_id)
        if route_pk is None:
            load.problems.add(table.file, table.line, "route_id", f"unknown route {route_id!r}")
            continue
        service_id = row[service_index].strip()
        service_pk = load.services.get(service_id)
        if service_pk is None:
            load.problems.add(
                table.file, table.line, "service_id", f"unknown service {service_id!r}"
            )
            continue
        shape_pk = None
        shape_id = row[shape_index].strip() if shape_index is not None else ""
        if shape_id:
            shape_pk = load.shapes.get(shape_id)
            unknown_shapes += shape_pk is None
        load.trips[trip_id] = LoadedTrip(
            pk=len(load.trips) + 1,
            trip_id=trip_id,
            route_pk=route_pk,
            service_pk=service_pk,
            headsign=optional(row, table.index("trip_headsign")),
            short_name=optional(row, table.index("trip_short_name")),
            direction_id=load.integer(table, row, "direction_id", largest=LARGEST_SMALL_INTEGER),
            block_id=optional(row, table.index("block_id")),
            shape_pk=shape_pk,
        )
    if unknown_shapes:
        load.warnings.append(
            f"trips.txt: {unknown_shapes} trips name a shape_id that shapes.txt lacks; "
            "their routes are drawn stop to stop"
        )
    load.finished(table.file, count, started)


def write(load: FeedLoad) -> None:
    empty = [trip.trip_id for trip in load.trips.values() if trip.stop_times < 2]
    if empty:
        load.warnings.append(
            f"trips.txt: {len(empty)} trips have fewer than two stop times and were left out "
            f"(e.g. {empty[0]!r})"
        )
    rows = (
        (trip.pk, trip.trip_id, trip.route_pk, trip.service_pk, trip.headsign,
         trip.short_name, trip.direction_id, trip.block_id, trip.shape_pk, trip.last_seq)
        for trip in load.trips.values()
        if trip.stop_times >= 2
    )  # fmt: skip
    load.counts["trips"] = load.writer.write(schema.TRIP, rows)
