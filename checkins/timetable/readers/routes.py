"""routes.txt: the lines, each of an agency, with the travel mode its route_type names."""

from __future__ import annotations

import time
from typing import Any

from checkins.timetable import schema
from checkins.timetable.modes import mode_for
from checkins.timetable.readers.base import FeedLoad, optional


def read(load: FeedLoad) -> None:
    started = time.monotonic()
    table = load.table("routes.txt", ("route_id", "route_type"))
    rows: list[tuple[Any, ...]] = []
    single_agency = next(iter(load.agencies.values())) if len(load.agencies) == 1 else None
    for row in table.rows:
        route_id = row[table.columns["route_id"]].strip()
        pk = load.new_id(table, load.routes, route_id, "route_id")
        if pk is None:
            continue
        agency_id = optional(row, table.index("agency_id"))
        agency_pk = load.agencies.get(agency_id) if agency_id else single_agency
        if agency_id and agency_pk is None:
            load.problems.add(table.file, table.line, "agency_id", f"unknown {agency_id!r}")
        route_type = load.integer(table, row, "route_type")
        if route_type is None:
            load.problems.add(table.file, table.line, "route_type", "is empty")
            route_type = 3
        short_name = optional(row, table.index("route_short_name"))
        long_name = optional(row, table.index("route_long_name"))
        if not short_name and not long_name:
            load.problems.add(
                table.file, table.line, "route_short_name", "route needs a short or long name"
            )
        rows.append(
            (pk, route_id, agency_pk, short_name, long_name, route_type,
             mode_for(route_type, short_name or long_name or ""),
             optional(row, table.index("route_color")),
             optional(row, table.index("route_text_color")))
        )  # fmt: skip
    load.finished(table.file, load.writer.write(schema.ROUTE, rows), started)
