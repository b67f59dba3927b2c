"""Timetable writes started by people rather than the command line: imports queued from the
admin and run by a Celery task, and feeds deleted together with their timetable rows."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from checkins.timetable import schema
from checkins.timetable.download import download_feed
from checkins.timetable.gtfs import FeedError, GtfsSource
from checkins.timetable.importer import FEED_NAME, FILES_READ, Progress, feed_import
from checkins.timetable.models import Feed, FeedImport, FeedVersion
from trainy.accounts.models import User
from trainy.progress import PROGRESS_INTERVAL_S, RowProgress
from trainy.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

UNFINISHED = (FeedImport.Status.QUEUED, FeedImport.Status.RUNNING)


# --- Imports ------------------------------------------------------------------------------------


def feed_import_queue(
    *,
    feed_name: str,
    url: str = "",
    upload: bytes | None = None,
    filename: str = "",
    requested_by: User | None = None,
) -> FeedImport:
    """Record an import of the GTFS feed at ``url`` or of the ``upload``ed zip as a new
    version of feed ``feed_name``, and queue the task that runs it once this commits.

    Raises ValidationError unless exactly one of ``url`` (http or https) and ``upload`` is
    given and the name is a feed name. A broker that refuses the task marks the import failed.
    """
    if bool(url) == (upload is not None):
        raise ValidationError("Give either a file or a URL, not both.")
    if not FEED_NAME.match(feed_name):
        raise ValidationError(
            {"feed_name": "A feed name is lower-case letters, digits and dashes (e.g. db-fv)."}
        )
    if url and urlsplit(url).scheme not in ("http", "https"):
        raise ValidationError({"source_url": "Only http and https URLs can be fetched."})
    feed_import = FeedImport(
        feed_name=feed_name,
        source_url=url,
        filename=filename[:255],
        upload=upload,
        requested_by=requested_by,
    )
    # Not the upload: checking the URL-or-upload constraint would send the whole file to the
    # database in a query; it is checked above, and again by the constraint on INSERT.
    feed_import.full_clean(exclude=["upload", "requested_by"])
    feed_import.save()
    from checkins.tasks import import_timetable  # imported here: it imports this module

    def refused(feed_import_ids: list[int], error: BrokerUnavailable) -> None:
        feed_import_fail(
            feed_import_id=feed_import.id,
            error=f"The import could not be queued (the task queue is unavailable: {error}). "
            "Start it again later.",
        )

    enqueue_on_commit(import_timetable, [feed_import.id], on_refused=refused)
    return feed_import


def feed_import_run(*, feed_import_id: int) -> FeedImport | None:
    """Run a queued import (the task ``import_timetable``): fetch or unpack the feed, import
    it through feed_import with its progress recorded in the row, then record the outcome: the
    new active version, or the feed's problems. The uploaded bytes are let go either way.

    Does nothing for an import that has finished already (its message delivered twice). One
    found running was cut off (its worker died, and its transaction with it): it starts again.
    Errors other than a bad feed are raised (the task marks the import failed).
    """
    job = FeedImport.objects.defer("upload").filter(id=feed_import_id).first()
    if job is None or job.status not in UNFINISHED:
        return job
    FeedImport.objects.filter(id=job.id).update(
        status=FeedImport.Status.RUNNING,
        started_at=timezone.now(),
        phase="Starting",
        bytes_read=0,
        bytes_total=0,
        rows=0,
        error="",
    )
    folder = Path(tempfile.mkdtemp(prefix="trainy-import-"))
    progress = ImportProgress(job.id)
    try:
        if job.source_url:
            source, label = job.source_url, None
        else:
            path = folder / "feed.zip"
            _write_upload(job.id, path)
            progress.expect(_feed_size(path))
            source, label = str(path), f"uploaded file {job.filename or 'feed.zip'}"

        def download(url: str, reporter: Progress) -> Path:
            downloaded = download_feed(url, reporter)
            progress.expect(_feed_size(downloaded))
            return downloaded

        try:
            result = feed_import(
                source=source,
                name=job.feed_name,
                progress=progress,
                download=download,
                label=label,
            )
        except FeedError as error:
            progress.close()
            _finish(
                job.id,
                status=FeedImport.Status.FAILED,
                phase="The feed was not imported",
                error=error.describe(),
                rows=progress.rows,
            )
            logger.info("import %s of %s failed: %s", job.id, job.feed_name, error.describe())
            return FeedImport.objects.defer("upload").get(id=job.id)
        progress.close()
        version = result.version
        replaced = (
            f", replacing version {result.replaced_version_id}"
            if result.replaced_version_id
            else ""
        )
        _finish(
            job.id,
            status=FeedImport.Status.DONE,
            phase=f"Version {version.id} is active{replaced}"[:300],
            version=version,
            bytes_read=progress.total,
            bytes_total=progress.total,
            rows=progress.rows,
            warnings="\n".join(result.warnings),
        )
        logger.info("import %s: %s version %s active", job.id, job.feed_name, version.id)
        return FeedImport.objects.defer("upload").get(id=job.id)
    finally:
        progress.close()
        shutil.rmtree(folder, ignore_errors=True)


def feed_import_fail(*, feed_import_id: int, error: str) -> None:
    """Mark an unfinished import failed with ``error`` (the task gave up on it, or it could
    not be queued). A finished import keeps its outcome."""
    FeedImport.objects.filter(id=feed_import_id, status__in=UNFINISHED).update(
        status=FeedImport.Status.FAILED,
        phase="The feed was not imported",
        error=error,
        finished_at=timezone.now(),
        upload=None,
    )


def _finish(feed_import_id: int, **values: Any) -> None:
    FeedImport.objects.filter(id=feed_import_id).update(
        finished_at=timezone.now(), upload=None, **values
    )


def _write_upload(feed_import_id: int, path: Path) -> None:
    data = FeedImport.objects.filter(id=feed_import_id).values_list("upload", flat=True).get()
    path.write_bytes(bytes(data or b""))


def _feed_size(path: Path) -> int:
    """Bytes the importer will read from the feed at ``path``; 0 when it cannot be opened (the
    import says why)."""
    try:
        with GtfsSource(path) as gtfs:
            return sum(gtfs.size(name) for name in FILES_READ if gtfs.has(name))
    except FeedError:
        return 0


class ImportProgress:
    """The importer's Progress, written to the FeedImport row at most about once a second
    (and at once when a long step begins, such as indexing), apart from the import's own
    transaction (trainy.progress)."""

    def __init__(
        self,
        feed_import_id: int,
        *,
        interval: float = PROGRESS_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.feed_import_id = feed_import_id
        self.row = RowProgress(FeedImport, feed_import_id, interval=interval, clock=clock)
        self.text = ""
        self.read = 0
        self.total = 0
        self.rows_finished = 0
        self.rows_current = 0
        self.downloading = False

    @property
    def rows(self) -> int:
        return self.rows_finished + self.rows_current

    def expect(self, total: int) -> None:
        """The feed is at hand: from now on the bar counts its bytes out of ``total``."""
        self.read, self.total = 0, total
        self._write(force=True)

    # Progress
    def file_started(self, name: str, size: int) -> None:
        if name.startswith("download "):
            self.downloading = True
            self.text = f"Downloading {name.removeprefix('download ')}"
            self.read, self.total = 0, size
        else:
            self.text = f"Reading {name}"
        self.rows_current = 0
        self._write()

    def bytes_read(self, count: int) -> None:
        self.read += count
        self._write()

    def rows_read(self, count: int) -> None:
        self.rows_current = count
        self._write()

    def file_finished(self, name: str, rows: int, seconds: float) -> None:
        if self.downloading:
            self.downloading = False
        else:
            self.rows_finished += rows
        self.rows_current = 0
        self._write()

    def phase(self, text: str) -> None:
        # Phases are few and each may last long (indexing a large feed takes minutes).
        self.text = text[:1].upper() + text[1:]
        self._write(force=True)

    def close(self) -> None:
        self.row.close()

    def _write(self, *, force: bool = False) -> None:
        values = {
            "phase": self.text[:300],
            "bytes_read": self.read,
            "bytes_total": self.total,
            "rows": self.rows,
            "updated_at": timezone.now(),
        }
        self.row.write(values, force=force)


# --- Feeds --------------------------------------------------------------------------------------


def feed_delete(*, feed: Feed) -> None:
    """Delete the feed with every version's timetable rows (their tt_* partitions dropped) and
    its realtime data, in one transaction: PostgreSQL drops tables transactionally, so a
    failure leaves the feed whole. Journeys keep what they recorded: they have no foreign key
    into the timetable."""
    with transaction.atomic():
        feed = Feed.objects.select_for_update().get(id=feed.id)
        for version_id in FeedVersion.objects.filter(feed=feed).values_list("id", flat=True):
            schema.drop_version(connection, version_id)
        feed.delete()
    logger.info("feed %s deleted", feed.name)
