"""feed_info.txt (optional): the publisher's details, kept in the version's info."""

from __future__ import annotations

from checkins.timetable.readers.base import FeedLoad


def read(load: FeedLoad) -> None:
    if not load.gtfs.has("feed_info.txt"):
        return
    table = load.table("feed_info.txt", ())
    for row in table.rows:
        load.info["feed_info"] = {
            column: row[index].strip()
            for column, index in table.columns.items()
            if row[index].strip()
        }
        break
