"""shapes.txt (optional): the lines trips are drawn along, stored encoded."""

from __future__ import annotations

import time
from collections import defaultdict

from checkins.geo import encode_path
from checkins.timetable import schema
from checkins.timetable.readers.base import FeedLoad


def read(load: FeedLoad) -> None:
    if not load.gtfs.has("shapes.txt"):
        return
    started = time.monotonic()
    table = load.table(
        "shapes.txt", ("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence")
    )
    points: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    id_index = table.columns["shape_id"]
    lat_index, lon_index = table.columns["shape_pt_lat"], table.columns["shape_pt_lon"]
    seq_index = table.columns["shape_pt_sequence"]
    count = 0
    for row in table.rows:
        count += 1
        try:
            points[row[id_index].strip()].append(
                (int(row[seq_index]), float(row[lat_index]), float(row[lon_index]))
            )
        except ValueError:
            load.problems.add(table.file, table.line, "shape_pt_lat", "not a number")
    rows = []
    for shape_id, shape in points.items():
        pk = load.shapes[shape_id] = len(load.shapes) + 1
        shape.sort()
        rows.append((pk, shape_id, encode_path([(lat, lon) for _, lat, lon in shape]), len(shape)))
    load.writer.write(schema.SHAPE, rows)
    load.finished(table.file, count, started)
