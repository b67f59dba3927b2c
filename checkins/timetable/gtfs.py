"""Reading GTFS files: sources (zip, folder), CSV by header name, values with their errors.

Pure Python, no database: the importer (checkins.timetable.importer) drives it. Problems are
collected with file, line and column so that a bad feed is described, not just refused. Limits
(the importer's TRAINY_IMPORT_* settings) bound what a feed may make the import read.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import sys
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

from django.template.defaultfilters import filesizeformat

# Real feeds put several MB into one field (shapes as WKT, long descriptions).
csv.field_size_limit(64 * 1024 * 1024)

MAX_LISTED_PROBLEMS = 10
# Members smaller than this are not held to the compression ratio: a small file cannot make an
# import read much, however well it compresses.
RATIO_CHECKED_FROM = 1024 * 1024


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class FeedError(Exception):
    """The feed cannot be imported; ``problems`` lists the first few, ``count`` all of them."""

    def __init__(self, problems: list[Problem], count: int | None = None) -> None:
        self.problems = problems
        self.count = count if count is not None else len(problems)
        super().__init__(self.describe())

    def describe(self) -> str:
        lines = [str(problem) for problem in self.problems[:MAX_LISTED_PROBLEMS]]
        if self.count > len(lines):
            lines.append(f"… and {self.count - len(lines)} more problems")
        return "\n".join(lines)


@dataclass
class Problems:
    """Collects problems while a feed is read; raises once at the end (or at a fatal one)."""

    listed: list[Problem] = field(default_factory=list)
    count: int = 0

    def add(self, file: str, line: int | None, column: str | None, message: str) -> None:
        self.count += 1
        if len(self.listed) < MAX_LISTED_PROBLEMS:
            self.listed.append(Problem(file, line, column, message))

    def fatal(self, file: str, line: int | None, column: str | None, message: str) -> FeedError:
        self.add(file, line, column, message)
        return FeedError(self.listed, self.count)

    def raise_if_any(self) -> None:
        if self.count:
            raise FeedError(self.listed, self.count)


@dataclass(frozen=True)
class Limits:
    """What a feed may make an import read; None is no limit. Each is named in its refusal by
    the setting it comes from."""

    unzipped_bytes: int | None = None
    compression_ratio: int | None = None
    rows: int | None = None


def _size(count: int) -> str:
    return str(filesizeformat(count)).replace("\xa0", " ")


class GtfsSource:
    """A GTFS feed as a zip file or a folder; files are found at the root or in one subfolder.

    A zip is held to ``limits`` from its central directory before anything is read: its total
    unpacked size, and each large member's compression ratio (a zip bomb's is hundreds to one).
    Reading cannot pass those declared sizes either: zipfile stops each member at the size the
    directory gives and then checks its CRC, so a member that holds more than it declares is
    refused as damaged once that much has been read.
    """

    def __init__(self, path: Path, limits: Limits | None = None) -> None:
        self.path = path
        self.limits = limits or Limits()
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        if path.is_dir():
            folder = path
            if not (folder / "stops.txt").exists():
                nested = [child for child in folder.iterdir() if (child / "stops.txt").exists()]
                if len(nested) == 1:
                    folder = nested[0]
            self._folder = folder
        elif path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except zipfile.BadZipFile:
                raise FeedError(
                    [
                        Problem(
                            path.name, None, None, "not a valid zip archive (truncated or corrupt)"
                        )
                    ]
                ) from None
            self._check_directory(self._zip.infolist())
            for info in self._zip.infolist():
                base = info.filename.rsplit("/", 1)[-1]
                if base.endswith(".txt") and base not in self._members and not info.is_dir():
                    self._members[base] = info.filename
        else:
            raise FeedError([Problem(str(path), None, None, "no such file or folder")])

    def _check_directory(self, members: list[zipfile.ZipInfo]) -> None:
        ratio = self.limits.compression_ratio
        for info in members:
            if (
                ratio is not None
                and info.file_size >= RATIO_CHECKED_FROM
                and info.file_size > ratio * max(info.compress_size, 1)
            ):
                self.close()
                actual = info.file_size // max(info.compress_size, 1)
                message = (
                    f"compressed {actual:,} to 1 in the archive, more than the limit of "
                    f"{ratio:,} to 1 (TRAINY_IMPORT_MAX_COMPRESSION_RATIO); GTFS files compress "
                    "about 3 to 20 to 1, a zip bomb far more"
                )
                raise FeedError([Problem(info.filename.rsplit("/", 1)[-1], None, None, message)])
        total = sum(info.file_size for info in members)
        limit = self.limits.unzipped_bytes
        if limit is not None and total > limit:
            self.close()
            message = (
                f"unpacks to {_size(total)}, more than the limit of {_size(limit)} "
                "(TRAINY_IMPORT_MAX_UNZIPPED_BYTES)"
            )
            raise FeedError([Problem(self.path.name, None, None, message)])

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> GtfsSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def has(self, name: str) -> bool:
        if self._zip is not None:
            return name in self._members
        return (self._folder / name).is_file()

    def size(self, name: str) -> int:
        if self._zip is not None:
            return self._zip.getinfo(self._members[name]).file_size
        return (self._folder / name).stat().st_size

    def open_binary(self, name: str) -> IO[bytes]:
        if self._zip is not None:
            return self._zip.open(self._members[name])
        return (self._folder / name).open("rb")


class CountingReader(io.RawIOBase):
    """Passes bytes through and reports how many went by (for the progress bar)."""

    def __init__(self, raw: IO[bytes], on_read: Callable[[int], None]) -> None:
        self._raw = raw
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        count = len(data)
        buffer[:count] = data
        if count:
            self._on_read(count)
        return count


class LineCount:
    """Where a file's reading has got to: ``line_num`` is the physical line of the last row
    read, as csv.reader's is."""

    def __init__(self, line_num: int) -> None:
        self.line_num = line_num


@dataclass
class Table:
    """One GTFS file being read: its columns by name and its rows as lists of strings."""

    file: str
    columns: dict[str, int]
    rows: Iterator[list[str]]
    reader: LineCount

    @property
    def line(self) -> int:
        return self.reader.line_num

    def index(self, column: str) -> int | None:
        return self.columns.get(column)


def open_table(
    source: GtfsSource,
    name: str,
    *,
    required: tuple[str, ...],
    problems: Problems,
    on_read: Callable[[int], None] | None = None,
) -> Table:
    """Open a file, check its header. Raises FeedError for problems that make it unreadable."""
    raw: IO[bytes] = source.open_binary(name)
    if on_read is not None:
        raw = io.BufferedReader(CountingReader(raw, on_read), buffer_size=1 << 20)
    # utf-8-sig: a BOM is allowed and dropped. Strict: anything else must be UTF-8 (GTFS says so).
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except UnicodeDecodeError:
        raise _encoding_problem(source, name, problems) from None
    except (csv.Error, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise problems.fatal(name, 1, None, f"cannot be read: {exc}") from None
    if header is None:
        raise problems.fatal(name, None, None, "the file is empty (a header line is required)")
    columns = {column.strip(): position for position, column in enumerate(header)}
    missing = [column for column in required if column not in columns]
    if missing:
        raise problems.fatal(
            name, 1, missing[0], f"required column {', '.join(missing)} missing from the header"
        )
    position = LineCount(reader.line_num)
    rows = _rows(name, text, position, len(header), problems, lambda: source, source.limits.rows)
    return Table(name, columns, rows, position)


def _encoding_problem(source: GtfsSource, name: str, problems: Problems) -> FeedError:
    """Name the first line that is not UTF-8. The decoder reads ahead in large blocks, so the
    line the CSV reader had reached says nothing; the file is scanned again, line by line."""
    with source.open_binary(name) as raw:
        for number, line in enumerate(raw, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return problems.fatal(name, number, None, _not_utf8(exc))
    return problems.fatal(name, None, None, "not UTF-8; GTFS files must be UTF-8 encoded")


def _not_utf8(exc: UnicodeDecodeError) -> str:
    byte = exc.object[exc.start : exc.start + 1].hex()
    return f"not UTF-8 (byte 0x{byte}); GTFS files must be UTF-8 encoded"


# What makes a block of a file more than plain lines of comma-separated values: a quote (a field
# may then hold commas and line breaks), NUL (which the csv module refuses) and the line breaks
# that str.splitlines() knows and CSV does not.
_NOT_PLAIN = re.compile('["\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]')
BLOCK_CHARS = 1 << 16


class _NulFound(Exception):
    pass


def _without_nul(lines: Iterable[str]) -> Iterator[str]:
    """The lines as they are, until one holds a NUL character: the csv module reads it as any
    other, and PostgreSQL refuses it in text, so the file is refused where it is."""
    for text_line in lines:
        if "\x00" in text_line:
            raise _NulFound
        yield text_line


def _rows(
    name: str,
    text: IO[str],
    position: LineCount,
    width: int,
    problems: Problems,
    source: Callable[[], GtfsSource],
    max_rows: int | None,
) -> Iterator[list[str]]:
    """The rows after the header, as csv.reader gives them, ``position`` following the lines.

    Most GTFS files have no quote at all, and stop_times.txt has millions of rows: blocks of
    plain lines are split with str methods, several times faster than the csv module. From the
    first block that is not plain, the csv module reads the rest of the file."""
    limit = sys.maxsize if max_rows is None else max_rows
    line = first = position.line_num
    try:
        pending = ""
        while True:
            chunk = text.read(BLOCK_CHARS)
            block = pending + chunk
            cut = block.rfind("\n") + 1 if chunk else len(block)
            if not block:
                return
            if not cut or _NOT_PLAIN.search(block, 0, cut):
                # The csv module from here, from the start of this block, on whole lines.
                lines = io.StringIO(block + text.readline(), newline="")
                reader = csv.reader(_without_nul(itertools.chain(lines, text)))
                count = line - first  # rows so far: plain lines are one row each
                for row in reader:
                    position.line_num = line + reader.line_num
                    count += 1
                    if count > limit:
                        raise _too_many(name, position.line_num, limit, problems)
                    if len(row) < width:
                        if not row or row == [""]:
                            continue  # blank lines, common at the end of files
                        # Short rows happen when trailing optional fields are left out.
                        row = row + [""] * (width - len(row))
                    yield row
                return
            pending = block[cut:]
            for plain in block[:cut].splitlines():
                line += 1
                position.line_num = line
                if line - first > limit:
                    raise _too_many(name, line, limit, problems)
                if not plain:
                    continue
                row = plain.split(",")
                if len(row) < width:
                    row = row + [""] * (width - len(row))
                yield row
    except UnicodeDecodeError:
        raise _encoding_problem(source(), name, problems) from None
    except csv.Error as exc:
        message = f"malformed CSV: {exc}"
        raise problems.fatal(name, position.line_num, None, message) from None
    except _NulFound:
        # The line after the last row read (a quoted field over several lines aside).
        message = "a NUL character (GTFS files are text)"
        raise problems.fatal(name, position.line_num + 1, None, message) from None
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        message = f"the archive is damaged (truncated?): {exc}"
        raise problems.fatal(name, position.line_num, None, message) from None


def _too_many(name: str, line: int, limit: int, problems: Problems) -> FeedError:
    message = f"more than the limit of {limit:,} rows (TRAINY_IMPORT_MAX_ROWS)"
    return problems.fatal(name, line, None, message)


# The largest whole number the timetable's integer columns hold. Binary COPY packs a value
# into its column's width as given, so a reader refuses a larger one: it would not fail, it
# would be stored wrapped around.
LARGEST_INTEGER = 2**31 - 1
# The same for the smallint columns (location_type, direction_id, transfer_type…).
LARGEST_SMALL_INTEGER = 2**15 - 1
# Hours of a time: past 24 for a trip that runs past midnight, and within the seconds column.
LARGEST_HOUR = LARGEST_INTEGER // 3600 - 1


def parse_time(text: str) -> int:
    """GTFS time (H:MM:SS, hours may pass 24) to seconds after noon minus 12 h. ValueError."""
    hours, minutes, seconds = text.split(":")
    if len(minutes) != 2 or len(seconds) != 2 or not hours:
        raise ValueError(text)
    hour, minute, second = int(hours), int(minutes), int(seconds)
    if not 0 <= hour <= LARGEST_HOUR or not 0 <= minute <= 59 or not 0 <= second <= 59:
        raise ValueError(text)
    return hour * 3600 + minute * 60 + second


def parse_date(text: str) -> date:
    """GTFS date YYYYMMDD. ValueError."""
    if len(text) != 8 or not text.isdigit():
        raise ValueError(text)
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


_COLOR = re.compile(r"[0-9A-Fa-f]{6}")


def parse_color(text: str | None) -> str | None:
    """A GTFS colour (route_color, route_text_color: six hexadecimal digits, no "#"), lower
    case, or None for anything else. Colours end up in the page's styles, so a feed's text
    never gets there unchecked."""
    if text is None or not _COLOR.fullmatch(text.strip()):
        return None
    return text.strip().lower()


def search_form(name: str) -> str:
    """A stop name as search sees it: lower case, no accents, punctuation as spaces.

    "Frankfurt(Main)Hbf" -> "frankfurt main hbf", "München Hbf" -> "munchen hbf". German
    transliterations ("muenchen") are added after the plain form, so either spelling matches.
    """
    lowered = name.casefold()
    plain = _fold(lowered)
    german = _fold(
        lowered.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    )
    return plain if german == plain else f"{plain} {german}"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    kept = [
        character if character.isalnum() else " "
        for character in decomposed
        if not unicodedata.combining(character)
    ]
    return " ".join("".join(kept).split())
