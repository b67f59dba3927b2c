"""Fetching a GTFS feed over http(s) (how national feeds are published), with progress."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from checkins.timetable.gtfs import FeedError, Problem

if TYPE_CHECKING:
    from checkins.timetable.importer import Progress

CHUNK = 1 << 20
TIMEOUT_S = 30


def download_feed(url: str, progress: Progress) -> Path:
    """Download ``url`` into a new temporary folder; the caller removes the folder.

    Raises FeedError naming the URL when the server cannot be reached or answers with an error.
    """
    folder = Path(tempfile.mkdtemp(prefix="trainy-gtfs-"))
    target = folder / "feed.zip"
    try:
        with requests.get(url, stream=True, timeout=TIMEOUT_S) as response:
            response.raise_for_status()
            size = int(response.headers.get("Content-Length") or 0)
            progress.file_started(f"download {url}", size)
            with target.open("wb") as handle:
                for chunk in response.iter_content(CHUNK):
                    handle.write(chunk)
                    progress.bytes_read(len(chunk))
            progress.file_finished(f"download {url}", 0, 0.0)
    except requests.RequestException as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise FeedError([Problem(url, None, None, f"download failed: {exc}")]) from None
    return target
