"""Fixtures of the check-in and timetable tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.checkins.feeds import write_feed
from tests.webserver import serve_directory


@pytest.fixture
def served(tmp_path) -> Iterator[str]:
    """The test feed as a zip on a web server on this machine; yields its URL."""
    zipped = write_feed(tmp_path / "served", as_zip=True)
    with serve_directory(zipped.parent) as base:
        yield f"{base}/{zipped.name}"
