"""Exports of a traveller's journeys: one module per format, all reading an ``ExportSource``
(stats.exports.selectors) and giving bytes; the export pages and the calendar feed in
``forms``, ``views`` and ``urls`` (included at the site's root by trainy/urls.py).

``export_chunks`` is the one entry point: streaming formats (CSV, JSON, GPX, GeoJSON) yield as
they read; the others (XLSX, PDF and the business-trip report) are built whole and yielded
once, from a temporary file that spills to disk when large.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from typing import IO

from stats.exports.csv import csv_chunks
from stats.exports.geo import geojson_chunks, gpx_chunks
from stats.exports.json import json_chunks
from stats.exports.options import FORMATS, ExportOptions, Format
from stats.exports.pdf import pdf_write
from stats.exports.report import report_pdf_write, report_xlsx_write
from stats.exports.selectors import ExportSource
from stats.exports.xlsx import xlsx_write

STREAMS: dict[str, Callable[[ExportSource], Iterator[bytes]]] = {
    "csv": csv_chunks,
    "json": json_chunks,
    "gpx": gpx_chunks,
    "geojson": geojson_chunks,
}
WRITERS: dict[str, Callable[[ExportSource, IO[bytes]], None]] = {
    "xlsx": xlsx_write,
    "pdf": pdf_write,
    "report-pdf": report_pdf_write,
    "report-xlsx": report_xlsx_write,
}
# Kept in memory up to this size, on disk beyond.
SPOOL_BYTES = 8 * 1024 * 1024

assert set(STREAMS) | set(WRITERS) == set(FORMATS), "every format needs a writer"


def export_chunks(source: ExportSource) -> Iterator[bytes]:
    """The export's file, in chunks."""
    stream = STREAMS.get(source.options.format)
    if stream is not None:
        yield from stream(source)
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as out:
        WRITERS[source.options.format](source, out)
        out.seek(0)
        yield out.read()


__all__ = ["FORMATS", "ExportOptions", "ExportSource", "Format", "export_chunks"]
