"""agency.txt: the agencies, and the feed's time zone (the first agency's)."""

from __future__ import annotations

import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from checkins.timetable import schema
from checkins.timetable.readers.base import FeedLoad, optional


def read(load: FeedLoad) -> None:
    started = time.monotonic()
    table = load.table("agency.txt", ("agency_name", "agency_timezone"))
    rows: list[tuple[Any, ...]] = []
    for row in table.rows:
        # agency_id may be left out by a feed with a single agency.
        agency_id = optional(row, table.index("agency_id")) or ""
        if not agency_id and rows:
            load.problems.add(
                table.file, table.line, "agency_id", "required when there are several agencies"
            )
            continue
        if agency_id in load.agencies:
            load.problems.add(table.file, table.line, "agency_id", f"duplicate id {agency_id!r}")
            continue
        pk = load.agencies[agency_id] = len(load.agencies) + 1
        zone = row[table.columns["agency_timezone"]].strip()
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            load.problems.add(
                table.file, table.line, "agency_timezone", f"unknown time zone {zone!r}"
            )
        load.timezone = load.timezone or zone
        name = row[table.columns["agency_name"]].strip()
        url = optional(row, table.index("agency_url"))
        rows.append(
            (pk, agency_id, name, url, zone, optional(row, table.index("agency_lang")),
             optional(row, table.index("agency_phone")))
        )  # fmt: skip
    if not rows:
        load.problems.add(table.file, None, None, "no agency defined")
    load.info["agencies"] = [{"name": row[2], "url": row[3]} for row in rows]
    load.finished(table.file, load.writer.write(schema.AGENCY, rows), started)
