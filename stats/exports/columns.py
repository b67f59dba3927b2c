"""The columns a traveller can pick for the tabular exports (CSV, XLSX, PDF): what each one
holds, typed, so that every format writes the same values its own way.

Times are in the journey's own time zone (the feed's, or the traveller's for journeys typed in
by hand): a train that left New York at 23:30 left at 23:30, whatever the reader's zone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from checkins.models import CheckIn, Mode, Purpose

PURPOSES = dict(Purpose.choices)
MODES = dict(Mode.choices)


class Kind(Enum):
    """How a value is typed in a spreadsheet and formatted in text."""

    INTEGER = "integer"
    NUMBER = "number"  # a float; ``places`` decimals in text
    MONEY = "money"  # a Decimal in settings.TRAINY_CURRENCY
    DATETIME = "datetime"  # aware, in the journey's zone
    TEXT = "text"


Value = str | int | float | Decimal | datetime | None


@dataclass(frozen=True)
class Cell:
    """One output column: a header, a type and how to read it off a journey."""

    header: str
    kind: Kind
    read: Callable[[CheckIn], Value]
    places: int = 0  # decimals shown for NUMBER
    width: int = 12  # characters, for spreadsheets and the PDF's proportions
    # The widest value the PDF must fit on one line; none: text that wraps in what is left.
    sample: str = ""


@dataclass(frozen=True)
class Column:
    """A choice on the export form; coordinates are two cells (latitude, longitude)."""

    key: str
    label: str
    cells: tuple[Cell, ...]


def journey_zone(journey: CheckIn) -> ZoneInfo:
    """The zone the journey's times are shown in; the current zone when it has none (or an
    unknown one, from a feed that named a zone this system does not have)."""
    if journey.time_zone:
        try:
            return ZoneInfo(journey.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_current_timezone()


def local(moment: datetime | None, journey: CheckIn) -> datetime | None:
    return None if moment is None else moment.astimezone(journey_zone(journey))


def distance_km(journey: CheckIn) -> float | None:
    # Exact to the metre, so that a sum of the column equals the total.
    return None if journey.distance_m is None else journey.distance_m / 1000


def duration_min(journey: CheckIn) -> float | int | None:
    if journey.duration_s is None:
        return None
    minutes = journey.duration_s / 60
    return int(minutes) if minutes.is_integer() else minutes


def delay_min(journey: CheckIn) -> int | None:
    """The arrival delay in whole minutes (negative when early); None without a real time."""
    delay = journey.arrival_delay_s
    return None if delay is None else round(delay / 60)


def journeys_text(count: int) -> str:
    """ "1 journey", "2,345 journeys"."""
    return f"{count:,} journey{'' if count == 1 else 's'}"


def _text(read: Callable[[CheckIn], str]) -> Callable[[CheckIn], Value]:
    return lambda journey: read(journey) or None


COORDINATE = "-123.456789"
MOMENT = "2025-12-31 23:59"

COLUMNS: tuple[Column, ...] = (
    Column(
        "id",
        "Journey id",
        (Cell("Journey id", Kind.INTEGER, lambda j: j.id, width=10, sample="1234567"),),
    ),
    Column(
        "purpose",
        "Purpose",
        (
            Cell(
                "Purpose",
                Kind.TEXT,
                lambda j: PURPOSES.get(j.purpose, j.purpose),
                width=10,
            ),
        ),
    ),
    Column(
        "mode", "Mode", (Cell("Mode", Kind.TEXT, lambda j: MODES.get(j.mode, j.mode), width=16),)
    ),
    Column("line", "Line", (Cell("Line", Kind.TEXT, _text(lambda j: j.line_name), width=12),)),
    Column("trip", "Trip number", (Cell("Trip", Kind.TEXT, _text(lambda j: j.trip_id), width=14),)),
    Column(
        "operator",
        "Operator",
        (Cell("Operator", Kind.TEXT, _text(lambda j: j.operator_name), width=20),),
    ),
    Column("origin", "From", (Cell("From", Kind.TEXT, lambda j: j.origin_name, width=24),)),
    Column(
        "origin_coordinates",
        "From: coordinates",
        (
            Cell(
                "From latitude",
                Kind.NUMBER,
                lambda j: j.origin_lat,
                places=6,
                width=11,
                sample=COORDINATE,
            ),
            Cell(
                "From longitude",
                Kind.NUMBER,
                lambda j: j.origin_lon,
                places=6,
                width=11,
                sample=COORDINATE,
            ),
        ),
    ),
    Column(
        "departure_planned",
        "Departure (planned)",
        (
            Cell(
                "Departure (planned)",
                Kind.DATETIME,
                lambda j: local(j.departure_planned, j),
                width=17,
                sample=MOMENT,
            ),
        ),
    ),
    Column(
        "departure_real",
        "Departure (real)",
        (
            Cell(
                "Departure (real)",
                Kind.DATETIME,
                lambda j: local(j.departure_real, j),
                width=17,
                sample=MOMENT,
            ),
        ),
    ),
    Column("destination", "To", (Cell("To", Kind.TEXT, lambda j: j.destination_name, width=24),)),
    Column(
        "destination_coordinates",
        "To: coordinates",
        (
            Cell(
                "To latitude",
                Kind.NUMBER,
                lambda j: j.destination_lat,
                places=6,
                width=11,
                sample=COORDINATE,
            ),
            Cell(
                "To longitude",
                Kind.NUMBER,
                lambda j: j.destination_lon,
                places=6,
                width=11,
                sample=COORDINATE,
            ),
        ),
    ),
    Column(
        "arrival_planned",
        "Arrival (planned)",
        (
            Cell(
                "Arrival (planned)",
                Kind.DATETIME,
                lambda j: local(j.arrival_planned, j),
                width=17,
                sample=MOMENT,
            ),
        ),
    ),
    Column(
        "arrival_real",
        "Arrival (real)",
        (
            Cell(
                "Arrival (real)",
                Kind.DATETIME,
                lambda j: local(j.arrival_real, j),
                width=17,
                sample=MOMENT,
            ),
        ),
    ),
    Column(
        "time_zone",
        "Time zone",
        (
            Cell(
                "Time zone",
                Kind.TEXT,
                lambda j: journey_zone(j).key,
                width=16,
                sample="America/New_York",
            ),
        ),
    ),
    Column(
        "duration",
        "Duration (min)",
        (Cell("Duration (min)", Kind.NUMBER, duration_min, places=0, width=10, sample="12345"),),
    ),
    Column(
        "distance",
        "Distance (km)",
        (Cell("Distance (km)", Kind.NUMBER, distance_km, places=3, width=11, sample="12,345.6"),),
    ),
    Column(
        "delay",
        "Delay at arrival (min)",
        (Cell("Delay (min)", Kind.INTEGER, delay_min, width=9, sample="-123"),),
    ),
    Column(
        "message", "Message", (Cell("Message", Kind.TEXT, _text(lambda j: j.message), width=30),)
    ),
    Column(
        "ticket_price",
        "Ticket price",
        (Cell("Ticket price", Kind.MONEY, lambda j: j.ticket_price, width=11, sample="1,234.56"),),
    ),
    Column(
        "cost_centre",
        "Cost centre",
        (Cell("Cost centre", Kind.TEXT, _text(lambda j: j.cost_centre), width=14),),
    ),
)

BY_KEY = {column.key: column for column in COLUMNS}
# What the form starts with: everything but the coordinates and the message.
DEFAULT_COLUMNS: tuple[str, ...] = tuple(
    column.key
    for column in COLUMNS
    if column.key not in {"origin_coordinates", "destination_coordinates", "message"}
)


def cells_of(keys: tuple[str, ...]) -> tuple[Cell, ...]:
    """The output cells of the chosen columns, in the order of COLUMNS (not of the choice)."""
    chosen = set(keys)
    return tuple(cell for column in COLUMNS if column.key in chosen for cell in column.cells)


def as_text(cell: Cell, value: Value, *, decimal_comma: bool = False) -> str:
    """The value as text files write it: ISO 8601 times with their offset, numbers without
    thousands separators (a decimal comma on request), empty for unknown."""
    if value is None:
        return ""
    if cell.kind is Kind.DATETIME:
        assert isinstance(value, datetime)
        return value.isoformat(timespec="seconds")
    if cell.kind is Kind.TEXT:
        return str(value)
    if cell.kind is Kind.MONEY:
        text = f"{value:.2f}"
    elif isinstance(value, float):
        text = f"{value:.{cell.places}f}" if cell.places else f"{value:.2f}".rstrip("0")
        text = text.rstrip(".")
    else:
        text = str(value)
    return text.replace(".", ",") if decimal_comma else text
