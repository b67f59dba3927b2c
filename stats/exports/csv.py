"""CSV, streamed: rows are written as they are read, so an export of any size takes the same
memory. UTF-8 with a byte-order mark, without which Excel reads UTF-8 as Windows-1252; with the
semicolon separator (what German Excel expects) numbers get a decimal comma."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from stats.exports.columns import Kind, as_text, cells_of
from stats.exports.selectors import ExportSource

BOM = "\ufeff"
# Rows per chunk handed to the server: fewer, larger writes than one per row.
ROWS_PER_CHUNK = 200
# A cell starting with one of these is a formula to a spreadsheet (CSV injection, OWASP): text
# that starts so gets a leading apostrophe, which spreadsheets show as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _guard(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_chunks(source: ExportSource) -> Iterator[bytes]:
    """The export as CSV, in chunks of UTF-8 bytes (the first starts with the BOM)."""
    cells = cells_of(source.options.columns)
    semicolon = source.options.separator == ";"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=source.options.separator, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(cell.header for cell in cells)
    for position, journey in enumerate(source.journeys(), start=1):
        row = []
        for cell in cells:
            text = as_text(cell, cell.read(journey), decimal_comma=semicolon)
            row.append(_guard(text) if cell.kind is Kind.TEXT else text)
        writer.writerow(row)
        if position % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
