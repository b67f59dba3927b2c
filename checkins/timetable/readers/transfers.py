"""transfers.txt (optional): transfers between stops; rows naming unknown stops are left out."""

from __future__ import annotations

import time
from typing import Any

from checkins.timetable import schema
from checkins.timetable.gtfs import LARGEST_SMALL_INTEGER
from checkins.timetable.readers.base import FeedLoad


def read(load: FeedLoad) -> None:
    if not load.gtfs.has("transfers.txt"):
        return
    started = time.monotonic()
    table = load.table("transfers.txt", ("from_stop_id", "to_stop_id", "transfer_type"))
    rows: dict[tuple[int, int], tuple[Any, ...]] = {}
    skipped = 0
    for row in table.rows:
        from_pk = load.stops.get(row[table.columns["from_stop_id"]].strip())
        to_pk = load.stops.get(row[table.columns["to_stop_id"]].strip())
        if from_pk is None or to_pk is None:
            skipped += 1
            continue
        rows[(from_pk, to_pk)] = (
            from_pk,
            to_pk,
            load.integer(table, row, "transfer_type", 0, largest=LARGEST_SMALL_INTEGER),
            load.integer(table, row, "min_transfer_time"),
        )
    if skipped:
        load.warnings.append(f"transfers.txt: {skipped} rows name unknown stops, left out")
    load.finished(table.file, load.writer.write(schema.TRANSFER, rows.values()), started)
