"""What the readers share: the state of one feed being loaded (ids given so far, problems,
counts, what the version records) and the small parsers every file needs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from checkins.timetable import schema
from checkins.timetable.gtfs import (
    LARGEST_INTEGER,
    GtfsSource,
    Problems,
    Table,
    open_table,
    parse_date,
)
from checkins.timetable.models import FeedVersion

if TYPE_CHECKING:
    from checkins.timetable.importer import Progress


class Writer(Protocol):
    """Where the readers hand their rows: the new version's tables (see the importer)."""

    def write(self, table: schema.Table, rows: Iterable[tuple[Any, ...]]) -> int: ...
    def finish(self) -> None: ...


@dataclass
class LoadedTrip:
    """A trip of trips.txt, kept while stop_times.txt is read (which counts its stops)."""

    pk: int
    trip_id: str
    route_pk: int
    service_pk: int
    headsign: str | None
    short_name: str | None
    direction_id: int | None
    block_id: str | None
    shape_pk: int | None
    last_seq: int = -1
    stop_times: int = 0


def optional(row: list[str], index: int | None) -> str | None:
    """The value of an optional column, None when the column is missing or the value empty."""
    if index is None:
        return None
    value = row[index].strip()
    return value or None


class FeedLoad:
    """One feed being read into one version: each reader reads its file, checks it against
    what the files before it defined (the ids below, a GTFS id to our primary key), and hands
    its rows to ``writer``. The version records what the readers leave here."""

    def __init__(
        self, gtfs: GtfsSource, version: FeedVersion, progress: Progress, writer: Writer
    ) -> None:
        self.gtfs = gtfs
        self.version = version
        self.progress = progress
        self.writer = writer
        self.problems = Problems()
        self.warnings: list[str] = []
        self.counts: dict[str, int] = {}
        self.info: dict[str, Any] = {}
        self.timezone = ""
        self.first_date: date | None = None
        self.last_date: date | None = None
        self.max_departure_s = 0
        self.agencies: dict[str, int] = {}
        self.stops: dict[str, int] = {}
        self.routes: dict[str, int] = {}
        self.services: dict[str, int] = {}
        self.shapes: dict[str, int] = {}
        self.trips: dict[str, LoadedTrip] = {}

    def table(self, name: str, required: tuple[str, ...]) -> Table:
        """Open the file ``name``, its progress reported as it is read; a required column
        that is missing is a problem."""
        self.progress.file_started(name, self.gtfs.size(name))
        return open_table(
            self.gtfs,
            name,
            required=required,
            problems=self.problems,
            on_read=self.progress.bytes_read,
        )

    def finished(self, name: str, rows: int, started: float) -> None:
        """Count the file's rows for the version and tell the progress it is done."""
        self.counts[name.removesuffix(".txt")] = rows
        self.progress.file_finished(name, rows, time.monotonic() - started)

    def integer(
        self,
        table: Table,
        row: list[str],
        column: str,
        default: int | None = None,
        *,
        largest: int = LARGEST_INTEGER,
    ) -> Any:
        """The column as a whole number from 0 to ``largest`` (the column's width, or the
        largest value GTFS defines); ``default`` when empty, a problem when it is not."""
        value = self._converted(table, row, column, int, "a whole number", default)
        if value is not None and not 0 <= value <= largest:
            text = row[table.index(column)].strip()  # type: ignore[index] # read above
            self.problems.add(table.file, table.line, column, f"{text!r} is out of range")
            return default
        return value

    def number(self, table: Table, row: list[str], column: str) -> float | None:
        """The column as a number; None when empty, a problem when it is not one."""
        return self._converted(table, row, column, float, "a number", None)

    def _converted(
        self,
        table: Table,
        row: list[str],
        column: str,
        convert: Callable[[str], Any],
        what: str,
        default: Any,
    ) -> Any:
        index = table.index(column)
        text = row[index].strip() if index is not None else ""
        if not text:
            return default
        try:
            return convert(text)
        except ValueError:
            self.problems.add(table.file, table.line, column, f"{text!r} is not {what}")
            return default

    def new_id(self, table: Table, ids: dict[str, int], value: str, column: str) -> int | None:
        """The next primary key for ``value`` of an id column, kept in ``ids``; None, and a
        problem, when it is empty or repeated."""
        if not value:
            self.problems.add(table.file, table.line, column, "is empty")
            return None
        if value in ids:
            self.problems.add(table.file, table.line, column, f"duplicate id {value!r}")
            return None
        ids[value] = len(ids) + 1
        return ids[value]

    def date_value(self, table: Table, row: list[str], column: str) -> date | None:
        """The column as a YYYYMMDD date; None, and a problem, when it is not one."""
        text = row[table.columns[column]].strip()
        try:
            return parse_date(text)
        except ValueError:
            self.problems.add(table.file, table.line, column, f"{text!r} is not a YYYYMMDD date")
            return None
