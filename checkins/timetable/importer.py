"""Importing a GTFS feed as a new version of a named feed, and switching to it atomically.

``feed_import`` reads every file once, validates as it goes (references, ids, times, dates)
and streams rows into the new version's tables: COPY into index-less tables on PostgreSQL,
batched inserts on SQLite. Everything happens in one transaction, so a bad feed leaves the
active timetable untouched; the version that was active before is dropped after the commit.

This module is the orchestration (limits, progress, the order of the files, the atomic
swap) and the writers; each file of the feed has its reader in checkins.timetable.readers.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from checkins.timetable import schema
from checkins.timetable.gtfs import (
    FeedError,
    GtfsSource,
    Limits,
    Problem,
)
from checkins.timetable.models import Feed, FeedVersion
from checkins.timetable.readers import (
    agency,
    calendar,
    calendar_dates,
    feed_info,
    routes,
    shapes,
    stop_times,
    stops,
    transfers,
    trips,
)
from checkins.timetable.readers.base import FeedLoad, Writer

FEED_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# Every file the readers read; the rest of a feed is ignored. Their sizes make a progress total.
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
        with GtfsSource(path, import_limits()) as gtfs, transaction.atomic():
            loader = _load(gtfs, version, progress)
            previous = _activate(version, loader)
        if previous is not None:
            progress.phase(f"dropping version {previous}")
            schema.drop_version(connection, previous)
        if connection.vendor == "postgresql":
            progress.phase("vacuuming")
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


def _activate(version: FeedVersion, loader: FeedLoad) -> int | None:
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


class _PostgresWriter:
    """COPY into the version's own index-less tables; indexes and ATTACH come at the end.

    Binary COPY: for tens of millions of stop times, both psycopg (which packs each value)
    and the server (which reads it) do about half the work of text. FREEZE, allowed because
    the tables were created in this transaction, writes the rows frozen and all-visible: the
    board's index-only scans need no heap visit and no VACUUM has to visit the rows again."""

    def __init__(self, version_id: int) -> None:
        self.version_id = version_id
        schema.create_load_tables(connection, version_id)

    def write(self, table: schema.Table, rows: Iterable[tuple[Any, ...]]) -> int:
        name = schema.partition_name(table, self.version_id)
        columns = ", ".join(table.load_columns)
        types = [column.pg_type for column in table.columns if column.name != "version_id"]
        count = 0
        with connection.cursor() as cursor:
            raw_cursor = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
            statement = f"COPY {name} ({columns}) FROM STDIN (FORMAT BINARY, FREEZE)"
            with raw_cursor.copy(statement) as copy:
                copy.set_types(types)
                write_row = copy.write_row
                for row in rows:
                    write_row(row)
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


# --- Reading, file by file -------------------------------------------------------------------


def _load(gtfs: GtfsSource, version: FeedVersion, progress: Progress) -> FeedLoad:
    """Read, check and write the whole feed. Call inside a transaction."""
    writer: Writer = (
        _PostgresWriter(version.id)
        if connection.vendor == "postgresql"
        else _SqliteWriter(version.id)
    )
    load = FeedLoad(gtfs, version, progress, writer)
    try:
        _read_files(load)
    except IntegrityError as exc:
        # The primary keys catch what reading did not: a stop_sequence repeated in a trip
        # (on PostgreSQL when the key is built, on SQLite as the row goes in).
        raise load.problems.fatal(
            "stop_times.txt", None, "stop_sequence", f"duplicate key: {exc}".splitlines()[0]
        ) from None
    return load


# The order matters: each file refers to ids the files before it defined.
def _read_files(load: FeedLoad) -> None:
    for required in ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt"):
        if not load.gtfs.has(required):
            load.problems.add(required, None, None, "required file is missing from the feed")
    if not load.gtfs.has("calendar.txt") and not load.gtfs.has("calendar_dates.txt"):
        load.problems.add(
            "calendar.txt", None, None, "calendar.txt or calendar_dates.txt is required"
        )
    load.problems.raise_if_any()

    agency.read(load)
    stop_rows = stops.read(load)
    routes.read(load)
    service_days = calendar.read(load)
    calendar_dates.read(load, service_days)
    calendar.write_services(load, service_days)
    shapes.read(load)
    trips.read(load)
    load.problems.raise_if_any()
    departures = stop_times.read(load)
    load.problems.raise_if_any()
    trips.write(load)
    stops.write(load, stop_rows, departures)
    transfers.read(load)
    feed_info.read(load)
    load.problems.raise_if_any()
    load.progress.phase("indexing")
    load.writer.finish()
