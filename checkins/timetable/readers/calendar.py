"""calendar.txt: the weekly pattern of each service between two dates, turned into the days it
runs (calendar_dates.txt then adds and removes days); and the services written, with those
days, once both files are read."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date, timedelta

from checkins.timetable import schema
from checkins.timetable.readers.base import FeedLoad

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def read(load: FeedLoad) -> dict[str, set[date]]:
    """The days each service runs on by its weekly pattern (none without calendar.txt)."""
    dates: dict[str, set[date]] = defaultdict(set)
    if not load.gtfs.has("calendar.txt"):
        return dates
    started = time.monotonic()
    table = load.table("calendar.txt", ("service_id", *WEEKDAYS, "start_date", "end_date"))
    count = 0
    seen: set[str] = set()
    for row in table.rows:
        count += 1
        service_id = row[table.columns["service_id"]].strip()
        if service_id in seen:
            load.problems.add(table.file, table.line, "service_id", "duplicate id")
            continue
        seen.add(service_id)
        runs = []
        for weekday in WEEKDAYS:
            flag = row[table.columns[weekday]].strip()
            if flag not in ("0", "1"):
                message = f"{flag!r} is not 0 or 1"
                load.problems.add(table.file, table.line, weekday, message)
            runs.append(flag == "1")
        first = load.date_value(table, row, "start_date")
        last = load.date_value(table, row, "end_date")
        dates[service_id]  # a service may run on no day at all; it still exists
        if first and last:
            if last < first:
                load.problems.add(table.file, table.line, "end_date", "before start_date")
            day_count = (last - first).days + 1
            for offset in range(max(day_count, 0)):
                day = first + timedelta(days=offset)
                if runs[day.weekday()]:
                    dates[service_id].add(day)
    load.finished(table.file, count, started)
    return dates


def write_services(load: FeedLoad, dates: dict[str, set[date]]) -> None:
    """Write the services and the days they run; the feed's first and last day follow."""
    service_rows: list[tuple[int, str]] = []
    date_rows: list[tuple[int, date]] = []
    for service_id, days in dates.items():
        pk = load.services[service_id] = len(load.services) + 1
        service_rows.append((pk, service_id))
        date_rows.extend((pk, day) for day in sorted(days))
    all_days = [row[1] for row in date_rows]
    load.first_date = min(all_days, default=None)
    load.last_date = max(all_days, default=None)
    load.writer.write(schema.SERVICE, service_rows)
    load.counts["service_dates"] = load.writer.write(schema.SERVICE_DATE, date_rows)
