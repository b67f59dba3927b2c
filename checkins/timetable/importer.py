"""Importing a GTFS feed as a new version of a named feed, and switching to it atomically.

``feed_import`` reads every file once, validates as it goes (references, ids, times, dates)
and streams rows into the new version's tables: COPY into index-less tables on PostgreSQL,
batched inserts on SQLite. Everything happens in one transaction, so a bad feed leaves the
active timetable untouched; the version that was active before is dropped after the commit.
"""

from __future__ import annotations

import re
import shutil
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from checkins.geo import encode_path, great_circle_m
from checkins.timetable import schema
from checkins.timetable.gtfs import (
    FeedError,
    GtfsSource,
    Limits,
    Problem,
    Problems,
    Table,
    open_table,
    parse_date,
    parse_time,
    search_form,
)
from checkins.timetable.models import Feed, FeedVersion
from checkins.timetable.modes import mode_for

FEED_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# Every file _Loader reads; the rest of a feed is ignored. Their sizes make a progress total.
FILES_READ = (
    "agency.txt",
    "stops.txt",
    "routes.txt",
    "calendar.txt",
    "calendar_dates.txt",
    "shapes.txt",
    "trips.txt",
    "stop_times.txt",
    "transfers.txt",
    "feed_info.txt",
)
SQLITE_BATCH = 5_000
# How close a stop named like a station plus a suffix must be to count as part of it.
SUB_STATION_RADIUS_M = 400


class Progress(Protocol):
    """What an import reports while it runs (a terminal bar, a Celery task's state…)."""

    def file_started(self, name: str, size: int) -> None: ...
    def bytes_read(self, count: int) -> None: ...
    def rows_read(self, count: int) -> None: ...
    def file_finished(self, name: str, rows: int, seconds: float) -> None: ...
    def phase(self, text: str) -> None: ...


class SilentProgress:
    def file_started(self, name: str, size: int) -> None:
        pass

    def bytes_read(self, count: int) -> None:
        pass

    def rows_read(self, count: int) -> None:
        pass

    def file_finished(self, name: str, rows: int, seconds: float) -> None:
        pass

    def phase(self, text: str) -> None:
        pass


@dataclass
class ImportResult:
    version: FeedVersion
    row_counts: dict[str, int]
    seconds: float
    warnings: list[str] = field(default_factory=list)
    replaced_version_id: int | None = None


def default_feed_name(source: str) -> str:
    """A feed name from its source: the file or folder name, lower case, as a slug."""
    path = urlsplit(source).path if "://" in source else source
    parts = [part for part in Path(path).parts if part not in ("/", "")]
    stem = Path(parts[-1]).stem if parts else "feed"
    if stem.lower() in {"gtfs", "google_transit", "feed"} and len(parts) > 1:
        stem = Path(parts[-2]).stem
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return slug[:64] or "feed"


def import_limits() -> Limits:
    """The limits every import is held to, from the TRAINY_IMPORT_* settings."""
    return Limits(
        unzipped_bytes=settings.TRAINY_IMPORT_MAX_UNZIPPED_BYTES,
        compression_ratio=settings.TRAINY_IMPORT_MAX_COMPRESSION_RATIO,
        rows=settings.TRAINY_IMPORT_MAX_ROWS,
    )


def feed_import(
    *,
    source: str,
    name: str | None = None,
    progress: Progress | None = None,
    download: Callable[[str, Progress], Path] | None = None,
    label: str | None = None,
) -> ImportResult:
    """Import the GTFS feed at ``source`` (zip, folder or http(s) URL) as feed ``name``.

    ``label`` is what the version records as its source when ``source`` says nothing to a
    reader (an uploaded file's temporary path).

    Raises FeedError (file, line, column of the first problems, and their count) when the feed
    is bad or passes a limit (import_limits, and the download's); the feed's active version is
    then unchanged and the attempt is recorded as a failed version (not for a download that
    failed: there is no feed to speak of yet).
    """
    progress = progress or SilentProgress()
    name = name or default_feed_name(source)
    if not FEED_NAME.match(name):
        raise FeedError(
            [Problem("--name", None, None, f"{name!r} is not a feed name (a-z, 0-9 and -)")]
        )
    started = time.monotonic()
    temporary: Path | None = None
    if urlsplit(source).scheme in ("http", "https"):
        from checkins.timetable.download import download_feed

        temporary = (download or download_feed)(source, progress)
        path = temporary
    else:
        path = Path(source)
    feed, _ = Feed.objects.get_or_create(name=name)
    version = FeedVersion.objects.create(feed=feed, source=label or source)
    try:
        with GtfsSource(path, import_limits()) as gtfs:
            loader = _Loader(gtfs, version, progress)
            with transaction.atomic():
                loader.load()
                previous = _activate(version, loader)
        if previous is not None:
            progress.phase(f"dropping version {previous}")
            schema.drop_version(connection, previous)
        schema.vacuum_version(connection, version.id)
    except FeedError as error:
        FeedVersion.objects.filter(id=version.id).update(
            status=FeedVersion.Status.FAILED, error=error.describe()
        )
        raise
    finally:
        if temporary is not None:
            shutil.rmtree(temporary.parent, ignore_errors=True)
    seconds = time.monotonic() - started
    FeedVersion.objects.filter(id=version.id).update(seconds=seconds)
    version.refresh_from_db()
    return ImportResult(version, loader.counts, seconds, loader.warnings, previous)


def _activate(version: FeedVersion, loader: _Loader) -> int | None:
    """Make ``version`` the feed's active one; return the id of the version it replaces."""
    feed = Feed.objects.select_for_update().get(id=version.feed_id)
    previous = feed.active_version_id
    if previous is not None:
        FeedVersion.objects.filter(id=previous).update(status=FeedVersion.Status.RETIRED)
    FeedVersion.objects.filter(id=version.id).update(
        status=FeedVersion.Status.ACTIVE,
        activated_at=timezone.now(),
        timezone=loader.timezone,
        start_date=loader.first_date,
        end_date=loader.last_date,
        max_departure_s=loader.max_departure_s,
        row_counts=loader.counts,
        info=loader.info,
    )
    feed.active_version_id = version.id
    feed.save(update_fields=["active_version", "updated_at"])
    return previous


# --- Writing rows --------------------------------------------------------------------------


class _Writer(Protocol):
    def write(self, table: schema.Table, rows: Iterable[tuple[Any, ...]]) -> int: ...
    def finish(self) -> None: ...


class _PostgresWriter:
    """COPY into the version's own index-less tables; indexes and ATTACH come at the end."""

    def __init__(self, version_id: int) -> None:
        self.version_id = version_id
        schema.create_load_tables(connection, version_id)

    def write(self, table: schema.Table, rows: Iterable[tuple[Any, ...]]) -> int:
        name = schema.partition_name(table, self.version_id)
        columns = ", ".join(table.load_columns)
        count = 0
        with connection.cursor() as cursor:
            raw_cursor = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
            with raw_cursor.copy(f"COPY {name} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count

    def finish(self) -> None:
        schema.index_and_attach(connection, self.version_id)


class _SqliteWriter:
    def __init__(self, version_id: int) -> None:
        self.version_id = version_id

    def write(self, table: schema.Table, rows: Iterable[tuple[Any, ...]]) -> int:
        columns = ("version_id", *table.load_columns)
        placeholders = ", ".join(["%s"] * len(columns))
        statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"
        count = 0
        batch: list[tuple[Any, ...]] = []
        with connection.cursor() as cursor:
            for row in rows:
                batch.append((self.version_id, *row))
                if len(batch) >= SQLITE_BATCH:
                    cursor.executemany(statement, batch)
                    count += len(batch)
                    batch.clear()
            if batch:
                cursor.executemany(statement, batch)
                count += len(batch)
        return count

    def finish(self) -> None:
        pass


# --- Reading and validating --------------------------------------------------------------


@dataclass
class _Trip:
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


def _optional(row: list[str], index: int | None) -> str | None:
    if index is None:
        return None
    value = row[index].strip()
    return value or None


class _Loader:
    """Reads a feed file by file, checks it, and hands rows to the writer."""

    def __init__(self, gtfs: GtfsSource, version: FeedVersion, progress: Progress) -> None:
        self.gtfs = gtfs
        self.version = version
        self.progress = progress
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
        self.trips: dict[str, _Trip] = {}
        self.writer: _Writer

    def load(self) -> None:
        """Read, check and write the whole feed. Call inside a transaction."""
        self.writer = (
            _PostgresWriter(self.version.id)
            if connection.vendor == "postgresql"
            else _SqliteWriter(self.version.id)
        )
        try:
            self._load()
        except IntegrityError as exc:
            # The primary keys catch what reading did not: a stop_sequence repeated in a trip
            # (on PostgreSQL when the key is built, on SQLite as the row goes in).
            raise self.problems.fatal(
                "stop_times.txt", None, "stop_sequence", f"duplicate key: {exc}".splitlines()[0]
            ) from None

    # The order matters: each file refers to ids the files before it defined.
    def _load(self) -> None:
        for required in ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt"):
            if not self.gtfs.has(required):
                self.problems.add(required, None, None, "required file is missing from the feed")
        if not self.gtfs.has("calendar.txt") and not self.gtfs.has("calendar_dates.txt"):
            self.problems.add(
                "calendar.txt", None, None, "calendar.txt or calendar_dates.txt is required"
            )
        self.problems.raise_if_any()

        self._read_agencies()
        stop_rows = self._read_stops()
        self._read_routes()
        self._read_services()
        self._read_shapes()
        self._read_trips()
        self.problems.raise_if_any()
        departures = self._read_stop_times()
        self.problems.raise_if_any()
        self._write_trips()
        self._write_stops(stop_rows, departures)
        self._read_transfers()
        self._read_feed_info()
        self.problems.raise_if_any()
        self.progress.phase("indexing")
        self.writer.finish()

    def _table(self, name: str, required: tuple[str, ...]) -> Table:
        self.progress.file_started(name, self.gtfs.size(name))
        return open_table(
            self.gtfs,
            name,
            required=required,
            problems=self.problems,
            on_read=self.progress.bytes_read,
        )

    def _finished(self, name: str, rows: int, started: float) -> None:
        self.counts[name.removesuffix(".txt")] = rows
        self.progress.file_finished(name, rows, time.monotonic() - started)

    def _int(self, table: Table, row: list[str], column: str, default: int | None = None) -> Any:
        index = table.index(column)
        text = row[index].strip() if index is not None else ""
        if not text:
            return default
        try:
            return int(text)
        except ValueError:
            self.problems.add(table.file, table.line, column, f"{text!r} is not a whole number")
            return default

    def _float(self, table: Table, row: list[str], column: str) -> float | None:
        index = table.index(column)
        text = row[index].strip() if index is not None else ""
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            self.problems.add(table.file, table.line, column, f"{text!r} is not a number")
            return None

    def _new_id(self, table: Table, ids: dict[str, int], value: str, column: str) -> int | None:
        if not value:
            self.problems.add(table.file, table.line, column, "is empty")
            return None
        if value in ids:
            self.problems.add(table.file, table.line, column, f"duplicate id {value!r}")
            return None
        ids[value] = len(ids) + 1
        return ids[value]

    def _read_agencies(self) -> None:
        started = time.monotonic()
        table = self._table("agency.txt", ("agency_name", "agency_timezone"))
        rows: list[tuple[Any, ...]] = []
        for row in table.rows:
            # agency_id may be left out by a feed with a single agency.
            agency_id = _optional(row, table.index("agency_id")) or ""
            if not agency_id and rows:
                self.problems.add(
                    table.file, table.line, "agency_id", "required when there are several agencies"
                )
                continue
            if agency_id in self.agencies:
                self.problems.add(
                    table.file, table.line, "agency_id", f"duplicate id {agency_id!r}"
                )
                continue
            pk = self.agencies[agency_id] = len(self.agencies) + 1
            zone = row[table.columns["agency_timezone"]].strip()
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                self.problems.add(
                    table.file, table.line, "agency_timezone", f"unknown time zone {zone!r}"
                )
            self.timezone = self.timezone or zone
            name = row[table.columns["agency_name"]].strip()
            url = _optional(row, table.index("agency_url"))
            rows.append(
                (pk, agency_id, name, url, zone, _optional(row, table.index("agency_lang")),
                 _optional(row, table.index("agency_phone")))
            )  # fmt: skip
        if not rows:
            self.problems.add(table.file, None, None, "no agency defined")
        self.info["agencies"] = [{"name": row[2], "url": row[3]} for row in rows]
        self._finished(table.file, self.writer.write(schema.AGENCY, rows), started)

    def _read_stops(self) -> list[list[Any]]:
        started = time.monotonic()
        table = self._table("stops.txt", ("stop_id",))
        rows: list[list[Any]] = []
        parents: list[tuple[int, str, int]] = []  # (row index, parent_station, line)
        parent_index = table.index("parent_station")
        name_index = table.index("stop_name")
        for row in table.rows:
            stop_id = row[table.columns["stop_id"]].strip()
            pk = self._new_id(table, self.stops, stop_id, "stop_id")
            if pk is None:
                continue
            location_type = self._int(table, row, "location_type", 0)
            name = row[name_index].strip() if name_index is not None else ""
            lat = self._float(table, row, "stop_lat")
            lon = self._float(table, row, "stop_lon")
            if location_type in (0, 1, 2) and (not name or lat is None or lon is None):
                column = "stop_name" if not name else "stop_lat"
                self.problems.add(table.file, table.line, column, "required for this location_type")
            parent = row[parent_index].strip() if parent_index is not None else ""
            if parent:
                parents.append((len(rows), parent, table.line))
            rows.append(
                [pk, stop_id, _optional(row, table.index("stop_code")), name or stop_id,
                 search_form(name or stop_id), lat, lon, location_type, None,
                 _optional(row, table.index("platform_code")), 0]
            )  # fmt: skip
        for position, parent, line in parents:
            parent_pk = self.stops.get(parent)
            if parent_pk is None:
                self.problems.add(table.file, line, "parent_station", f"unknown stop {parent!r}")
            else:
                rows[position][8] = parent_pk
        if not parents:
            self._group_sub_stations(rows)
        self._finished(table.file, len(rows), started)
        return rows

    def _group_sub_stations(self, rows: list[list[Any]]) -> None:
        """Feeds without parent stations may still split one station in several stops: DB's
        "Berlin Hbf" and "Berlin Hbf (tief)" (its lower level) are separate stops at the same
        place. A stop whose name is another nearby stop's name plus a suffix becomes that
        stop's child, so the station's board and search cover both."""
        by_name = {row[3]: row for row in rows if row[7] in (0, 1)}
        for row in rows:
            name, lat, lon = row[3], row[5], row[6]
            if row[7] != 0 or lat is None or lon is None:
                continue
            for cut in (name.rfind(" ("), name.rfind(" ")):
                station = by_name.get(name[:cut]) if cut > 0 else None
                if (
                    station is not None
                    and station is not row
                    and station[5] is not None
                    and great_circle_m(lat, lon, station[5], station[6]) <= SUB_STATION_RADIUS_M
                ):
                    row[8] = station[0]
                    break

    def _read_routes(self) -> None:
        started = time.monotonic()
        table = self._table("routes.txt", ("route_id", "route_type"))
        rows: list[tuple[Any, ...]] = []
        single_agency = next(iter(self.agencies.values())) if len(self.agencies) == 1 else None
        for row in table.rows:
            route_id = row[table.columns["route_id"]].strip()
            pk = self._new_id(table, self.routes, route_id, "route_id")
            if pk is None:
                continue
            agency_id = _optional(row, table.index("agency_id"))
            agency_pk = self.agencies.get(agency_id) if agency_id else single_agency
            if agency_id and agency_pk is None:
                self.problems.add(table.file, table.line, "agency_id", f"unknown {agency_id!r}")
            route_type = self._int(table, row, "route_type")
            if route_type is None:
                self.problems.add(table.file, table.line, "route_type", "is empty")
                route_type = 3
            short_name = _optional(row, table.index("route_short_name"))
            long_name = _optional(row, table.index("route_long_name"))
            if not short_name and not long_name:
                self.problems.add(
                    table.file, table.line, "route_short_name", "route needs a short or long name"
                )
            rows.append(
                (pk, route_id, agency_pk, short_name, long_name, route_type,
                 mode_for(route_type, short_name or long_name or ""),
                 _optional(row, table.index("route_color")),
                 _optional(row, table.index("route_text_color")))
            )  # fmt: skip
        self._finished(table.file, self.writer.write(schema.ROUTE, rows), started)

    def _read_services(self) -> None:
        dates: dict[str, set[date]] = defaultdict(set)
        weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        if self.gtfs.has("calendar.txt"):
            started = time.monotonic()
            table = self._table("calendar.txt", ("service_id", *weekdays, "start_date", "end_date"))
            count = 0
            seen: set[str] = set()
            for row in table.rows:
                count += 1
                service_id = row[table.columns["service_id"]].strip()
                if service_id in seen:
                    self.problems.add(table.file, table.line, "service_id", "duplicate id")
                    continue
                seen.add(service_id)
                runs = []
                for weekday in weekdays:
                    flag = row[table.columns[weekday]].strip()
                    if flag not in ("0", "1"):
                        message = f"{flag!r} is not 0 or 1"
                        self.problems.add(table.file, table.line, weekday, message)
                    runs.append(flag == "1")
                first = self._date(table, row, "start_date")
                last = self._date(table, row, "end_date")
                dates[service_id]  # a service may run on no day at all; it still exists
                if first and last:
                    if last < first:
                        self.problems.add(table.file, table.line, "end_date", "before start_date")
                    day_count = (last - first).days + 1
                    for offset in range(max(day_count, 0)):
                        day = first + timedelta(days=offset)
                        if runs[day.weekday()]:
                            dates[service_id].add(day)
            self._finished(table.file, count, started)
        if self.gtfs.has("calendar_dates.txt"):
            started = time.monotonic()
            table = self._table("calendar_dates.txt", ("service_id", "date", "exception_type"))
            count = 0
            for row in table.rows:
                count += 1
                service_id = row[table.columns["service_id"]].strip()
                exception_day = self._date(table, row, "date")
                kind = row[table.columns["exception_type"]].strip()
                if exception_day is None:
                    continue
                if kind == "1":
                    dates[service_id].add(exception_day)
                elif kind == "2":
                    dates[service_id].discard(exception_day)
                else:
                    self.problems.add(
                        table.file, table.line, "exception_type", f"{kind!r} is not 1 or 2"
                    )
            self._finished(table.file, count, started)
        service_rows: list[tuple[int, str]] = []
        date_rows: list[tuple[int, date]] = []
        for service_id, days in dates.items():
            pk = self.services[service_id] = len(self.services) + 1
            service_rows.append((pk, service_id))
            date_rows.extend((pk, day) for day in sorted(days))
        all_days = [row[1] for row in date_rows]
        self.first_date = min(all_days, default=None)
        self.last_date = max(all_days, default=None)
        self.writer.write(schema.SERVICE, service_rows)
        self.counts["service_dates"] = self.writer.write(schema.SERVICE_DATE, date_rows)

    def _date(self, table: Table, row: list[str], column: str) -> date | None:
        text = row[table.columns[column]].strip()
        try:
            return parse_date(text)
        except ValueError:
            self.problems.add(table.file, table.line, column, f"{text!r} is not a YYYYMMDD date")
            return None

    def _read_shapes(self) -> None:
        if not self.gtfs.has("shapes.txt"):
            return
        started = time.monotonic()
        table = self._table(
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
                self.problems.add(table.file, table.line, "shape_pt_lat", "not a number")
        rows = []
        for shape_id, shape in points.items():
            pk = self.shapes[shape_id] = len(self.shapes) + 1
            shape.sort()
            rows.append(
                (pk, shape_id, encode_path([(lat, lon) for _, lat, lon in shape]), len(shape))
            )
        self.writer.write(schema.SHAPE, rows)
        self._finished(table.file, count, started)

    def _read_trips(self) -> None:
        started = time.monotonic()
        table = self._table("trips.txt", ("route_id", "service_id", "trip_id"))
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
                self.problems.add(table.file, table.line, "trip_id", "is empty")
                continue
            if trip_id in self.trips:
                self.problems.add(table.file, table.line, "trip_id", f"duplicate id {trip_id!r}")
                continue
            route_id = row[route_index].strip()
            route_pk = self.routes.get(route_id)
            if route_pk is None:
                self.problems.add(table.file, table.line, "route_id", f"unknown route {route_id!r}")
                continue
            service_id = row[service_index].strip()
            service_pk = self.services.get(service_id)
            if service_pk is None:
                self.problems.add(
                    table.file, table.line, "service_id", f"unknown service {service_id!r}"
                )
                continue
            shape_pk = None
            shape_id = row[shape_index].strip() if shape_index is not None else ""
            if shape_id:
                shape_pk = self.shapes.get(shape_id)
                unknown_shapes += shape_pk is None
            self.trips[trip_id] = _Trip(
                pk=len(self.trips) + 1,
                trip_id=trip_id,
                route_pk=route_pk,
                service_pk=service_pk,
                headsign=_optional(row, table.index("trip_headsign")),
                short_name=_optional(row, table.index("trip_short_name")),
                direction_id=self._int(table, row, "direction_id"),
                block_id=_optional(row, table.index("block_id")),
                shape_pk=shape_pk,
            )
        if unknown_shapes:
            self.warnings.append(
                f"trips.txt: {unknown_shapes} trips name a shape_id that shapes.txt lacks; "
                "their routes are drawn stop to stop"
            )
        self._finished(table.file, count, started)

    def _read_stop_times(self) -> list[int]:
        """Stream stop_times into the database; return the departure count per stop pk."""
        started = time.monotonic()
        table = self._table("stop_times.txt", ("trip_id", "stop_id", "stop_sequence"))
        departures = [0] * (len(self.stops) + 1)
        self.counts["stop_times"] = self.writer.write(
            schema.STOP_TIME, self._stop_time_rows(table, departures)
        )
        self._finished(table.file, self.counts["stop_times"], started)
        return departures

    def _stop_time_rows(self, table: Table, departures: list[int]) -> Iterator[tuple[Any, ...]]:
        trips, stops, problems = self.trips, self.stops, self.problems
        trip_i, stop_i = table.columns["trip_id"], table.columns["stop_id"]
        seq_i = table.columns["stop_sequence"]
        arrival_i, departure_i = table.index("arrival_time"), table.index("departure_time")
        pickup_i, drop_off_i = table.index("pickup_type"), table.index("drop_off_type")
        headsign_i, dist_i = table.index("stop_headsign"), table.index("shape_dist_traveled")
        times: dict[str, int] = {}  # the same few thousand times repeat millions of times
        max_departure = 0
        file = table.file
        rows_read = 0
        report = self.progress.rows_read

        def seconds(text: str, column: str) -> int | None:
            text = text.strip()
            if not text:
                return None
            value = times.get(text)
            if value is None:
                try:
                    value = times[text] = parse_time(text)
                except ValueError:
                    problems.add(file, table.line, column, f"{text!r} is not a time (HH:MM:SS)")
                    return None
            return value

        for row in table.rows:
            rows_read += 1
            if not rows_read & 0xFFFF:
                report(rows_read)
            trip = trips.get(row[trip_i])
            if trip is None:
                trip_id = row[trip_i].strip()
                trip = trips.get(trip_id)
                if trip is None:
                    problems.add(file, table.line, "trip_id", f"unknown trip {trip_id!r}")
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
            arrival = seconds(row[arrival_i], "arrival_time") if arrival_i is not None else None
            departure = (
                seconds(row[departure_i], "departure_time") if departure_i is not None else None
            )
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
                problems.add(file, table.line, "pickup_type", "pickup/drop_off_type not 0-3")
                continue
            if seq > trip.last_seq:
                trip.last_seq = seq
            trip.stop_times += 1
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
        self.max_departure_s = max_departure

    def _write_trips(self) -> None:
        empty = [trip.trip_id for trip in self.trips.values() if trip.stop_times < 2]
        if empty:
            self.warnings.append(
                f"trips.txt: {len(empty)} trips have fewer than two stop times and were left out "
                f"(e.g. {empty[0]!r})"
            )
        rows = (
            (trip.pk, trip.trip_id, trip.route_pk, trip.service_pk, trip.headsign,
             trip.short_name, trip.direction_id, trip.block_id, trip.shape_pk, trip.last_seq)
            for trip in self.trips.values()
            if trip.stop_times >= 2
        )  # fmt: skip
        self.counts["trips"] = self.writer.write(schema.TRIP, rows)

    def _write_stops(self, rows: list[list[Any]], departures: list[int]) -> None:
        for row in rows:
            row[10] = departures[row[0]]
        # A station's busyness is that of all its platforms.
        by_pk = {row[0]: row for row in rows}
        for row in rows:
            parent = row[8]
            if parent is not None:
                by_pk[parent][10] += departures[row[0]]
        self.counts["stops"] = self.writer.write(schema.STOP, (tuple(row) for row in rows))

    def _read_transfers(self) -> None:
        if not self.gtfs.has("transfers.txt"):
            return
        started = time.monotonic()
        table = self._table("transfers.txt", ("from_stop_id", "to_stop_id", "transfer_type"))
        rows: dict[tuple[int, int], tuple[Any, ...]] = {}
        skipped = 0
        for row in table.rows:
            from_pk = self.stops.get(row[table.columns["from_stop_id"]].strip())
            to_pk = self.stops.get(row[table.columns["to_stop_id"]].strip())
            if from_pk is None or to_pk is None:
                skipped += 1
                continue
            rows[(from_pk, to_pk)] = (
                from_pk,
                to_pk,
                self._int(table, row, "transfer_type", 0),
                self._int(table, row, "min_transfer_time"),
            )
        if skipped:
            self.warnings.append(f"transfers.txt: {skipped} rows name unknown stops, left out")
        self._finished(table.file, self.writer.write(schema.TRANSFER, rows.values()), started)

    def _read_feed_info(self) -> None:
        if not self.gtfs.has("feed_info.txt"):
            return
        table = self._table("feed_info.txt", ())
        for row in table.rows:
            self.info["feed_info"] = {
                column: row[index].strip()
                for column, index in table.columns.items()
                if row[index].strip()
            }
            break
