"""Fetching a GTFS feed over http(s) (how national feeds are published), with progress.

The request itself goes through trainy.fetch (http(s) only, public addresses only, at most
five redirects); this adds the feed's size limit and the progress bar.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from checkins.timetable.gtfs import FeedError, Problem
from trainy.fetch import FetchError, download

if TYPE_CHECKING:
    from checkins.timetable.importer import Progress


def download_feed(url: str, progress: Progress) -> Path:
    """Download ``url`` into a new temporary folder; the caller removes the folder.

    Raises FeedError naming the URL when it is refused (scheme, address, a redirect, larger
    than TRAINY_IMPORT_MAX_DOWNLOAD_BYTES), cannot be reached, or answers with an error.
    """
    folder = Path(tempfile.mkdtemp(prefix="trainy-gtfs-"))
    name = f"download {url}"
    try:
        download(
            url,
            folder / "feed.zip",
            max_bytes=settings.TRAINY_IMPORT_MAX_DOWNLOAD_BYTES,
            limit="TRAINY_IMPORT_MAX_DOWNLOAD_BYTES",
            on_start=lambda size: progress.file_started(name, size),
            on_chunk=progress.bytes_read,
        )
    except FetchError as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise FeedError([Problem(url, None, None, str(error))]) from None
    progress.file_finished(name, 0, 0.0)
    return folder / "feed.zip"
