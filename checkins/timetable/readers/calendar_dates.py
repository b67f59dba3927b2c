"""calendar_dates.txt: days added to or removed from a service (a feed may define its services
by this file alone)."""

from __future__ import annotations

import time
from datetime import date

from checkins.timetable.readers.base import FeedLoad


def read(load: FeedLoad, dates: dict[str, set[date]]) -> None:
    """Apply the exceptions to ``dates`` (calendar.read's days, per service id)."""
    if not load.gtfs.has("calendar_dates.txt"):
        return
    started = time.monotonic()
    table = load.table("calendar_dates.txt", ("service_id", "date", "exception_type"))
    count = 0
    for row in table.rows:
        count += 1
        service_id = row[table.columns["service_id"]].strip()
        exception_day = load.date_value(table, row, "date")
        kind = row[table.columns["exception_type"]].strip()
        if exception_day is None:
            continue
        if kind == "1":
            dates[service_id].add(exception_day)
        elif kind == "2":
            dates[service_id].discard(exception_day)
        else:
            load.problems.add(table.file, table.line, "exception_type", f"{kind!r} is not 1 or 2")
    load.finished(table.file, count, started)
