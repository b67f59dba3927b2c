"""The export files of Träwelling and Travelynx, read into one shape: ``ImportedJourney``.

Each format is read as its service writes it (../shared/PEERS.md, "Export formats", from the
peers' own source). Which one a file is, is told from its content, never from its name:

- ``traewelling-json``: ``{"meta": {...}, "data": [{"status": {...}, "trip": {...}}]}``;
- ``traewelling-csv``: the machine headers (``status_id,journey_type,…``), tag columns after the
  fixed ones, older files with a totals row at the end (skipped), LF or CRLF line ends;
- ``travelynx-json``: ``history.json``, an array of journeys with epoch times;
- ``travelynx-csv``: ``history.csv``, naive local times in Europe/Berlin;
- ``travelynx-account``: the account export ``{"account": {...}, "journeys": [...], …}``;
- ``trainy-archive``: Trainy's own archive (stats.exports.archive), the ZIP or its
  ``trainy-archive.json``: every field of each journey and its document, restored as they were.

Levels of visibility become Trainy's, never wider than the source's:

======================  ==========================  ============================
Trainy                  Träwelling (``visibility``)  Travelynx (``visibility``)
======================  ==========================  ============================
public                  0 public                    100 public
unlisted                1 unlisted                  30 unlisted
followers               2 followers                 60 followers
authenticated           4 signed-in users           80 signed-in users
private                 3 private, 5 trusted users  10 private
======================  ==========================  ============================

Träwelling's "trusted users" (a list the traveller keeps) has no level of its own here: its
journeys become private rather than visible to more people. The CSV files carry no visibility;
their journeys take the one chosen on the import page. Träwelling's ``business`` (0, 1, 2) and
``travel_type`` give the purpose; Travelynx has none (private).

A row that cannot be read is a ``Problem`` with its line (CSV) or entry number (JSON) and the
reason; the rest of the file is still read. A file that is not one of these formats as a whole
(another format, not UTF-8, cut off) raises ``FormatError``.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

from checkins.models import Mode, Purpose, Visibility

TRAEWELLING_JSON = "traewelling-json"
TRAEWELLING_CSV = "traewelling-csv"
TRAVELYNX_JSON = "travelynx-json"
TRAVELYNX_CSV = "travelynx-csv"
TRAVELYNX_ACCOUNT = "travelynx-account"
TRAINY_ARCHIVE = "trainy-archive"
FORMAT_NAMES = {
    TRAEWELLING_JSON: "Träwelling export (JSON)",
    TRAEWELLING_CSV: "Träwelling export (CSV)",
    TRAVELYNX_JSON: "Travelynx history (JSON)",
    TRAVELYNX_CSV: "Travelynx history (CSV)",
    TRAVELYNX_ACCOUNT: "Travelynx account export (JSON)",
    TRAINY_ARCHIVE: "Trainy archive",
}

# Travelynx writes its CSV times in the local time of the German railways, without an offset.
TRAVELYNX_ZONE = ZoneInfo("Europe/Berlin")
# Journeys are of this world: a departure before the first railways, or a journey longer than a
# week, is a broken row, not a journey.
EARLIEST = datetime(1825, 1, 1, tzinfo=UTC)
LONGEST = timedelta(days=7)
# Bounds of what a row may carry into Trainy's columns (checkins.models.CheckIn).
MAX_NAME = 200
MAX_LINE = 100
MAX_MESSAGE = 280
MAX_SOURCE_ID = 64
# Half the world's circumference: no week-long journey goes further.
MAX_DISTANCE_M = 20_000_000
# The largest trainy-archive.json a Trainy archive (a ZIP) may unpack to: a zip bomb stops here.
MAX_UNZIPPED = 200 * 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"


class FormatError(ValueError):
    """The file as a whole is none of the formats, or cannot be read."""


@dataclass(frozen=True)
class Stopover:
    name: str
    lat: float | None
    lon: float | None
    arrival_planned: datetime | None
    arrival_real: datetime | None
    departure_planned: datetime | None
    departure_real: datetime | None


@dataclass(frozen=True)
class ImportedJourney:
    """One journey as its source had it, with Trainy's names for its fields."""

    number: int  # the row's line (CSV) or entry (JSON) in the file, for messages
    source_format: str
    source_id: str
    mode: str
    line_name: str
    journey_number: str
    operator_name: str
    origin_name: str
    origin_lat: float | None
    origin_lon: float | None
    destination_name: str
    destination_lat: float | None
    destination_lon: float | None
    departure_planned: datetime
    arrival_planned: datetime
    departure_real: datetime | None
    arrival_real: datetime | None
    distance_m: int | None
    message: str
    visibility: str | None  # None: the level chosen on the import page
    purpose: str
    stopovers: tuple[Stopover, ...] = ()
    source_user: str = ""
    # A Trainy archive's journey: every field of the model by attribute name, already checked,
    # and its journey document, restored as they were.
    restore: Mapping[str, Any] | None = None
    document: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Problem:
    number: int
    reason: str


@dataclass
class Reading:
    """What a file holds: its format, the journeys read and the rows refused."""

    format: str
    journeys: list[ImportedJourney] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Whose export it is, as the file says (empty when it does not).
    source_users: set[str] = field(default_factory=set)


class RowError(ValueError):
    """This row cannot be read; the message says why."""


def read_export(data: bytes, *, max_journeys: int) -> Reading:
    """The journeys of an export file of any of the formats, recognised from its content.
    More than ``max_journeys`` rows is refused as a whole (FormatError)."""
    if data.startswith(ZIP_MAGIC):
        data = _unzipped_archive(data)
    text = _text(data)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return _read_json(stripped, max_journeys)
    first_line = stripped.split("\n", 1)[0].strip().lower()
    if first_line.startswith("status_id,"):
        return _read_rows(
            TRAEWELLING_CSV, _traewelling_csv_rows(text), _traewelling_csv, max_journeys
        )
    if first_line.startswith("type,line,number,departure stop name"):
        return _read_rows(TRAVELYNX_CSV, _csv_rows(text), _travelynx_csv, max_journeys)
    raise FormatError(
        "This is not an export Trainy can read: expected a Träwelling export (JSON or CSV), "
        "a Travelynx history (JSON or CSV) or a Travelynx account export."
    )


def _text(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FormatError(
            f"The file is not UTF-8 text (byte {error.start + 1} cannot be read); export it "
            "again from the service, unchanged."
        ) from None
    return text.removeprefix("\ufeff")


def _read_json(text: str, max_journeys: int) -> Reading:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise FormatError(
            f"The JSON is cut off or broken at line {error.lineno}, column {error.colno}: "
            f"{error.msg}."
        ) from None
    except RecursionError:
        raise FormatError("The JSON is nested too deeply to be an export.") from None
    if isinstance(document, dict) and isinstance(document.get("data"), list) and "meta" in document:
        reading = _read_rows(TRAEWELLING_JSON, enumerate(document["data"], 1), _traewelling_json,
                             max_journeys)  # fmt: skip
        user = _get(document, "meta", "user", "username")
        if isinstance(user, str) and user:
            reading.source_users.add(user)
        return reading
    if (
        isinstance(document, dict)
        and isinstance(document.get("journeys"), list)
        and "account" in document
    ):
        reading = _read_rows(TRAVELYNX_ACCOUNT, enumerate(document["journeys"], 1),
                             _travelynx_account, max_journeys)  # fmt: skip
        user = _get(document, "account", "name")
        if isinstance(user, str) and user:
            reading.source_users.add(user)
        return reading
    if isinstance(document, dict) and document.get("schema") == TRAINY_ARCHIVE:
        return _read_archive(document, max_journeys)
    if isinstance(document, list) and all(
        isinstance(entry, dict) and "sched_dep_ts" in entry for entry in document
    ):
        return _read_rows(TRAVELYNX_JSON, enumerate(document, 1), _travelynx_json, max_journeys)
    raise FormatError(
        "This JSON is not an export Trainy can read: expected a Träwelling export "
        '({"meta", "data"}), a Travelynx history (a list of journeys) or a Travelynx account '
        'export ({"account", "journeys"}).'
    )


def _read_rows(
    name: str,
    rows: Iterable[tuple[int, Any]],
    read: Callable[[int, Any], ImportedJourney],
    max_journeys: int,
) -> Reading:
    reading = Reading(format=name)
    for count, (number, row) in enumerate(rows, 1):
        if count > max_journeys:
            raise FormatError(
                f"The file holds more than {max_journeys:,} journeys; split it (by year) and "
                "import the parts one after the other."
            )
        try:
            if isinstance(row, dict) and None in row:
                raise RowError("It has more fields than the header: a comma out of place?")
            journey = _checked(read(number, row))
        except RowError as error:
            reading.problems.append(Problem(number, str(error)))
            continue
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:
            reading.problems.append(Problem(number, f"Cannot be read ({_describe(error)})."))
            continue
        reading.journeys.append(journey)
        if journey.source_user:
            reading.source_users.add(journey.source_user)
    return reading


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"the field {error.args[0]!r} is missing"
    return str(error) or type(error).__name__


def _checked(journey: ImportedJourney) -> ImportedJourney:
    """The row, if its times, names and figures make a journey that fits Trainy's columns
    (RowError otherwise); an operator's name too long for them is cut."""
    if journey.departure_planned < EARLIEST:
        raise RowError(f"The departure ({journey.departure_planned:%Y-%m-%d}) is impossible.")
    if journey.arrival_planned < journey.departure_planned:
        raise RowError("It arrives before it departs (planned times).")
    if journey.arrival_planned - journey.departure_planned > LONGEST:
        raise RowError("It lasts more than a week (planned times).")
    if not journey.source_id or len(journey.source_id) > MAX_SOURCE_ID:
        raise RowError(f"Its id is missing or longer than {MAX_SOURCE_ID} characters.")
    if not journey.origin_name or not journey.destination_name:
        raise RowError("The origin or the destination has no name.")
    if max(len(journey.line_name), len(journey.journey_number)) > MAX_LINE:
        raise RowError(f"The line's name or number is longer than {MAX_LINE} characters.")
    if max(len(journey.origin_name), len(journey.destination_name)) > MAX_NAME:
        raise RowError(f"A station's name is longer than {MAX_NAME} characters.")
    if journey.distance_m is not None and journey.distance_m > MAX_DISTANCE_M:
        raise RowError(f"Its distance ({journey.distance_m:,} m) is impossible.")
    return replace(journey, operator_name=journey.operator_name[:MAX_NAME])


# --- Träwelling ------------------------------------------------------------------------------

# Träwelling's categories (HAFAS's product classes) as Trainy's modes.
TRAEWELLING_MODES = {
    "nationalexpress": Mode.LONG_DISTANCE,
    "national": Mode.LONG_DISTANCE,
    "regionalexp": Mode.REGIONAL,
    "regional": Mode.REGIONAL,
    "suburban": Mode.SUBURBAN,
    "subway": Mode.SUBWAY,
    "tram": Mode.TRAM,
    "bus": Mode.BUS,
    "ferry": Mode.FERRY,
}
TRAEWELLING_VISIBILITY = {
    0: Visibility.PUBLIC,
    1: Visibility.UNLISTED,
    2: Visibility.FOLLOWERS,
    3: Visibility.PRIVATE,
    4: Visibility.AUTHENTICATED,
    5: Visibility.PRIVATE,  # trusted users only: no wider than private here
}
TRAEWELLING_PURPOSES = {0: Purpose.PRIVATE, 1: Purpose.BUSINESS, 2: Purpose.COMMUTE}
TRAEWELLING_TRAVEL_TYPES = {
    "PRIVATE": Purpose.PRIVATE,
    "BUSINESS": Purpose.BUSINESS,
    "COMMUTE": Purpose.COMMUTE,
}
TRAEWELLING_CSV_COLUMNS = (
    "status_id", "journey_type", "line_name", "journey_number", "origin_name",
    "origin_coordinates", "departure_planned", "departure_real", "destination_name",
    "destination_coordinates", "arrival_planned", "arrival_real", "duration", "distance",
    "points", "body", "travel_type", "operator",
)  # fmt: skip


def _traewelling_json(number: int, entry: Mapping[str, Any]) -> ImportedJourney:
    status = entry["status"]
    checkin = status["checkin"]
    origin, destination = checkin["origin"], checkin["destination"]
    departure_planned = _required(
        _iso_or_none(_stop_time(origin, "departure", "Planned")), "planned departure"
    )
    arrival_planned = _required(
        _iso_or_none(_stop_time(destination, "arrival", "Planned")), "planned arrival"
    )
    trip = entry.get("trip") or {}
    return ImportedJourney(
        number=number,
        source_format=TRAEWELLING_JSON,
        source_id=str(status["id"]),
        mode=TRAEWELLING_MODES.get(str(checkin.get("category", "")).lower(), Mode.OTHER),
        line_name=_text_of(checkin.get("lineName")),
        journey_number=_text_of(checkin.get("journeyNumber")),
        operator_name=_text_of(_get(checkin, "operator", "name")),
        origin_name=_stop_name(origin),
        origin_lat=_float(_stop_station(origin).get("latitude")),
        origin_lon=_float(_stop_station(origin).get("longitude")),
        destination_name=_stop_name(destination),
        destination_lat=_float(_stop_station(destination).get("latitude")),
        destination_lon=_float(_stop_station(destination).get("longitude")),
        departure_planned=departure_planned,
        arrival_planned=arrival_planned,
        # A time the traveller entered by hand wins over the live one, as on Träwelling.
        departure_real=_iso_or_none(
            checkin.get("manualDeparture") or _stop_time(origin, "departure", "Real")
        ),
        arrival_real=_iso_or_none(
            checkin.get("manualArrival") or _stop_time(destination, "arrival", "Real")
        ),
        distance_m=_int_or_none(checkin.get("distance")),
        message=_text_of(status.get("body"))[:MAX_MESSAGE],
        visibility=_level(TRAEWELLING_VISIBILITY, status.get("visibility")),
        purpose=TRAEWELLING_PURPOSES.get(
            _int_or_none(status.get("business")) or 0, Purpose.PRIVATE
        ),
        stopovers=tuple(_traewelling_stopover(stop) for stop in trip.get("stopovers") or ()),
        source_user=_text_of(_get(status, "user", "username")),
    )


def _stop_station(stop: Mapping[str, Any]) -> Mapping[str, Any]:
    station = stop.get("station")
    return station if isinstance(station, Mapping) else stop


def _stop_name(stop: Mapping[str, Any]) -> str:
    return _text_of(_stop_station(stop).get("name") or stop.get("name"))


def _stop_time(stop: Mapping[str, Any], event: str, kind: str) -> Any:
    # "departurePlanned"; older exports name the planned time "departure" alone.
    value = stop.get(f"{event}{kind}")
    if value is None and kind == "Planned":
        value = stop.get(event)
    return value


def _traewelling_stopover(stop: Mapping[str, Any]) -> Stopover:
    station = _stop_station(stop)
    return Stopover(
        name=_stop_name(stop),
        lat=_float(station.get("latitude")),
        lon=_float(station.get("longitude")),
        arrival_planned=_iso_or_none(_stop_time(stop, "arrival", "Planned")),
        arrival_real=_iso_or_none(stop.get("arrivalReal")),
        departure_planned=_iso_or_none(_stop_time(stop, "departure", "Planned")),
        departure_real=_iso_or_none(stop.get("departureReal")),
    )


def _traewelling_csv_rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows with their line numbers; older files' totals row (no status id) is left out."""
    for number, row in _csv_rows(text):
        if not (row.get("status_id") or "").strip():
            continue
        yield number, row


def _traewelling_csv(number: int, row: Mapping[str, str]) -> ImportedJourney:
    origin_lat, origin_lon = _latlon(row["origin_coordinates"])
    destination_lat, destination_lon = _latlon(row["destination_coordinates"])
    return ImportedJourney(
        number=number,
        source_format=TRAEWELLING_JSON,  # the same statuses as the JSON: one source, one id
        source_id=row["status_id"].strip(),
        mode=TRAEWELLING_MODES.get(row["journey_type"].strip().lower(), Mode.OTHER),
        line_name=row["line_name"].strip(),
        journey_number=row["journey_number"].strip(),
        operator_name=row["operator"].strip(),
        origin_name=row["origin_name"].strip(),
        origin_lat=origin_lat,
        origin_lon=origin_lon,
        destination_name=row["destination_name"].strip(),
        destination_lat=destination_lat,
        destination_lon=destination_lon,
        departure_planned=_required(_iso_or_none(row["departure_planned"]), "departure_planned"),
        arrival_planned=_required(_iso_or_none(row["arrival_planned"]), "arrival_planned"),
        departure_real=_iso_or_none(row["departure_real"]),
        arrival_real=_iso_or_none(row["arrival_real"]),
        distance_m=_int_or_none(row["distance"]),
        message=row["body"][:MAX_MESSAGE],
        visibility=None,
        purpose=TRAEWELLING_TRAVEL_TYPES.get(row["travel_type"].strip().upper(), Purpose.PRIVATE),
    )


# --- Travelynx -------------------------------------------------------------------------------

# Travelynx's train types (the category before the number) as Trainy's modes.
TRAVELYNX_MODES = {
    **dict.fromkeys(
        ("ICE", "IC", "EC", "ECE", "EN", "NJ", "FLX", "TGV", "RJ", "RJX", "D", "ES", "EST",
         "THA", "WB", "IR", "ICN"),
        Mode.LONG_DISTANCE,
    ),
    **dict.fromkeys(
        ("RE", "RB", "IRE", "MEX", "R", "REX", "RS", "ALX", "ERB", "ME", "NWB", "TLX"),
        Mode.REGIONAL,
    ),
    "S": Mode.SUBURBAN,
    "U": Mode.SUBWAY,
    "STR": Mode.TRAM,
    "TRAM": Mode.TRAM,
    "BUS": Mode.BUS,
    "F": Mode.FERRY,
    "SCH": Mode.FERRY,
}  # fmt: skip
TRAVELYNX_VISIBILITY = {
    100: Visibility.PUBLIC,
    80: Visibility.AUTHENTICATED,
    60: Visibility.FOLLOWERS,
    30: Visibility.UNLISTED,
    10: Visibility.PRIVATE,
}


def _travelynx_line(kind: str, line: str, number: str) -> str:
    """What the traveller saw: "ICE 1601", "S 5", "RE 1", "M4"; a line of its own name (with
    letters) stands alone, a bare number follows the train type."""
    kind, line, number = kind.strip(), line.strip(), number.strip()
    if line and not line.isdigit():
        return line
    return " ".join(part for part in (kind, line or number) if part)


def _travelynx_visibility(journey: Mapping[str, Any]) -> str | None:
    # ``effective_visibility`` is what the journey had, the traveller's default included.
    level = journey.get("effective_visibility")
    return _level(TRAVELYNX_VISIBILITY, journey.get("visibility") if level is None else level)


def _travelynx_json(number: int, journey: Mapping[str, Any]) -> ImportedJourney:
    user_data = journey.get("user_data") or {}
    from_lat, from_lon = _pair(journey.get("from_latlon"))
    to_lat, to_lon = _pair(journey.get("to_latlon"))
    kind = _text_of(journey.get("type"))
    return ImportedJourney(
        number=number,
        source_format=TRAVELYNX_JSON,
        source_id=str(journey["id"]),
        mode=TRAVELYNX_MODES.get(kind.upper(), Mode.OTHER),
        line_name=_travelynx_line(kind, _text_of(journey.get("line")), _text_of(journey.get("no"))),
        journey_number=_text_of(journey.get("no")),
        operator_name=_travelynx_operator(user_data),
        origin_name=_text_of(journey.get("from_name")),
        origin_lat=from_lat,
        origin_lon=from_lon,
        destination_name=_text_of(journey.get("to_name")),
        destination_lat=to_lat,
        destination_lon=to_lon,
        departure_planned=_required(_epoch_or_none(journey["sched_dep_ts"]), "sched_dep_ts"),
        arrival_planned=_required(_epoch_or_none(journey["sched_arr_ts"]), "sched_arr_ts"),
        departure_real=_epoch_or_none(journey.get("rt_dep_ts")),
        arrival_real=_epoch_or_none(journey.get("rt_arr_ts")),
        distance_m=_travelynx_distance(journey),
        message=_text_of(user_data.get("comment"))[:MAX_MESSAGE],
        visibility=_travelynx_visibility(journey),
        purpose=Purpose.PRIVATE,
        stopovers=_travelynx_route(journey.get("route")),
    )


def _travelynx_operator(user_data: Mapping[str, Any]) -> str:
    operators = user_data.get("operators")
    if isinstance(operators, list) and operators:
        return " | ".join(_text_of(name) for name in operators)[:MAX_NAME]
    return _text_of(user_data.get("operator"))[:MAX_NAME]


def _travelynx_distance(journey: Mapping[str, Any]) -> int | None:
    # The best Travelynx knew, as it shows it: along the train's path, else the route, else
    # the straight line.
    for name in ("distance", "distance_polyline", "distance_route", "distance_beeline"):
        value = _int_or_none(journey.get(name))
        if value:
            return value
    return None


def _travelynx_route(route: Any) -> tuple[Stopover, ...]:
    """``[[name, eva, {sched_arr, rt_arr, sched_dep, rt_dep, lat, lon, …}], …]``."""
    stops = []
    for stop in route or ():
        name, _eva, details = [*stop, None, None, None][:3]
        details = details if isinstance(details, Mapping) else {}
        stops.append(
            Stopover(
                name=_text_of(name),
                lat=_float(details.get("lat")),
                lon=_float(details.get("lon")),
                arrival_planned=_epoch_or_none(details.get("sched_arr")),
                arrival_real=_epoch_or_none(details.get("rt_arr")),
                departure_planned=_epoch_or_none(details.get("sched_dep")),
                departure_real=_epoch_or_none(details.get("rt_dep")),
            )
        )
    return tuple(stops)


def _travelynx_csv(number: int, row: Mapping[str, str]) -> ImportedJourney:
    departure = _required(_berlin_or_none(row["scheduled departure"]), "scheduled departure")
    arrival = _required(
        _berlin_or_none(row["scheduled arrival"], not_before=departure), "scheduled arrival"
    )
    departure_real = _berlin_or_none(row["real-time departure"])
    kind = row["type"].strip()
    operators = row["operators"].strip() or row["operator"].strip()
    return ImportedJourney(
        number=number,
        source_format=TRAVELYNX_JSON,  # the same journeys as history.json: one source, one id
        source_id=row["id"].strip(),
        mode=TRAVELYNX_MODES.get(kind.upper(), Mode.OTHER),
        line_name=_travelynx_line(kind, row["line"], row["number"]),
        journey_number=row["number"].strip(),
        operator_name=operators[:MAX_NAME],
        origin_name=row["departure stop name"].strip(),
        origin_lat=None,
        origin_lon=None,
        destination_name=row["arrival stop name"].strip(),
        destination_lat=None,
        destination_lon=None,
        departure_planned=departure,
        arrival_planned=arrival,
        departure_real=departure_real,
        arrival_real=_berlin_or_none(row["real-time arrival"], not_before=departure_real),
        distance_m=None,
        message=row["comment"][:MAX_MESSAGE],
        visibility=None,
        purpose=Purpose.PRIVATE,
    )


def _travelynx_account(number: int, journey: Mapping[str, Any]) -> ImportedJourney:
    """A journey of the account export: the database row, with stations as EVA numbers (their
    names from the route, where it has them)."""
    route = _travelynx_route(journey.get("route"))
    names = {
        str(stop[1]): _text_of(stop[0])
        for stop in journey.get("route") or ()
        if isinstance(stop, list | tuple) and len(stop) > 1
    }
    dep_eva, arr_eva = _text_of(journey.get("dep_eva")), _text_of(journey.get("arr_eva"))
    origin = next((stop for stop in route if stop.name == names.get(dep_eva)), None)
    destination = next((stop for stop in route if stop.name == names.get(arr_eva)), None)
    kind = _text_of(journey.get("train_type"))
    user_data = journey.get("user_data") or {}
    return ImportedJourney(
        number=number,
        source_format=TRAVELYNX_JSON,  # the same journeys as history.json: one source, one id
        source_id=str(journey["journey_id"]),
        mode=TRAVELYNX_MODES.get(kind.upper(), Mode.OTHER),
        line_name=_travelynx_line(
            kind, _text_of(journey.get("train_line")), _text_of(journey.get("train_no"))
        ),
        journey_number=_text_of(journey.get("train_no")),
        operator_name=_travelynx_operator(user_data),
        origin_name=names.get(dep_eva) or dep_eva,
        origin_lat=origin.lat if origin else None,
        origin_lon=origin.lon if origin else None,
        destination_name=names.get(arr_eva) or arr_eva,
        destination_lat=destination.lat if destination else None,
        destination_lon=destination.lon if destination else None,
        departure_planned=_required(
            _epoch_or_none(_first(journey, "sched_departure", "sched_dep_ts")), "sched_departure"
        ),
        arrival_planned=_required(
            _epoch_or_none(_first(journey, "sched_arrival", "sched_arr_ts")), "sched_arrival"
        ),
        departure_real=_epoch_or_none(_first(journey, "real_departure", "rt_dep_ts")),
        arrival_real=_epoch_or_none(_first(journey, "real_arrival", "rt_arr_ts")),
        distance_m=_travelynx_distance(journey),
        message=_text_of(user_data.get("comment"))[:MAX_MESSAGE],
        visibility=_travelynx_visibility(journey),
        purpose=Purpose.PRIVATE,
        stopovers=route,
    )


# --- Values ----------------------------------------------------------------------------------


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows as dicts by header, each with the line it starts on (quoted fields may span lines;
    LF or CRLF alike). A row with more fields than the header keeps the rest under None."""
    reader = csv.DictReader(io.StringIO(text, newline=""), restval="")
    if reader.fieldnames is None:
        return
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
    line = reader.line_num + 1
    for row in reader:
        yield line, row
        line = reader.line_num + 1


def _level(levels: Mapping[int, str], value: Any) -> str | None:
    """Trainy's visibility for a source's level; an unknown level is private (never wider than
    the source meant), a missing one None (the import page's choice)."""
    level = _int_or_none(value)
    if level is None:
        return None
    return levels.get(level, Visibility.PRIVATE)


def _get(mapping: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def _first(mapping: Mapping[str, Any], *names: str) -> Any:
    return next((mapping[name] for name in names if mapping.get(name) is not None), None)


def _text_of(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _float(value: Any) -> float | None:
    if value in (None, ""):
        return None
    number = float(value)
    return number if -180.0 <= number <= 180.0 else None


def _int_or_none(value: Any) -> int | None:
    if value in (None, ""):
        return None
    number = int(float(value))
    return number if number >= 0 else None


def _pair(value: Any) -> tuple[float | None, float | None]:
    if isinstance(value, list | tuple) and len(value) >= 2:
        return _float(value[0]), _float(value[1])
    return None, None


def _latlon(text: str) -> tuple[float | None, float | None]:
    """Träwelling's ``"lat,lon"`` field."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2 or not all(parts):
        return None, None
    return _float(parts[0]), _float(parts[1])


def _iso_or_none(value: Any) -> datetime | None:
    text = _text_of(value)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RowError(f"{text!r} is not a time (ISO 8601 with its offset).") from None
    if moment.tzinfo is None:
        raise RowError(f"{text!r} has no offset from UTC.")
    return moment


def _epoch_or_none(value: Any) -> datetime | None:
    # Travelynx writes 0 or null where it knows no time.
    if value in (None, "", 0, "0"):
        return None
    try:
        return datetime.fromtimestamp(int(float(value)), UTC)
    except (ValueError, OverflowError, OSError):
        raise RowError(f"{value!r} is not a time (seconds since 1970).") from None


def _required(moment: datetime | None, what: str) -> datetime:
    if moment is None:
        raise RowError(f"The {what} time is missing.")
    return moment


def _berlin_or_none(text: str, not_before: datetime | None = None) -> datetime | None:
    """A naive ``YYYY-MM-DD HH:MM:SS`` in Europe/Berlin, as UTC. In the hour that occurs twice
    when summer time ends, the earlier reading is taken unless it falls before ``not_before``
    (an arrival before its own departure): then the later one. (In UTC, so that comparisons
    see the difference: within one zone Python compares wall times.)"""
    text = text.strip()
    if not text:
        return None
    try:
        naive = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise RowError(f"{text!r} is not a time (YYYY-MM-DD HH:MM:SS).") from None
    moment = naive.replace(tzinfo=TRAVELYNX_ZONE).astimezone(UTC)
    if not_before is not None and moment < not_before:
        later = naive.replace(tzinfo=TRAVELYNX_ZONE, fold=1).astimezone(UTC)
        if later >= not_before:
            return later
    return moment


# --- Trainy's own archive ----------------------------------------------------------------------


def _unzipped_archive(data: bytes) -> bytes:
    """The trainy-archive.json of a Trainy archive (a ZIP), read no further than MAX_UNZIPPED
    whatever the ZIP claims."""
    from stats.exports.archive import ARCHIVE_NAME

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if ARCHIVE_NAME not in archive.namelist():
                raise FormatError(
                    f"This ZIP is not a Trainy archive: it has no {ARCHIVE_NAME}. Upload the "
                    "archive as Trainy made it, or an export of Träwelling or Travelynx."
                )
            with archive.open(ARCHIVE_NAME) as member:
                content = member.read(MAX_UNZIPPED + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as error:
        raise FormatError(f"The ZIP is cut off or broken ({error}).") from None
    if len(content) > MAX_UNZIPPED:
        raise FormatError(
            f"The archive's {ARCHIVE_NAME} unpacks to more than {MAX_UNZIPPED // 2**20} MB."
        )
    return content


def _read_archive(document: dict[str, Any], max_journeys: int) -> Reading:
    from stats.exports.archive import SCHEMA_VERSION, journey_fields

    version = document.get("schema_version")
    if not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
        raise FormatError(
            f"This Trainy archive has schema version {version!r}; this Trainy reads versions "
            f"1 to {SCHEMA_VERSION}. Update Trainy, or export from the other one again."
        )
    journeys = document.get("journeys")
    if not isinstance(journeys, list):
        raise FormatError("This Trainy archive has no list of journeys.")
    read = functools.partial(_archived, journey_fields())
    reading = _read_rows(TRAINY_ARCHIVE, enumerate(journeys, 1), read, max_journeys)
    owner = _get(document, "profile", "username")
    if isinstance(owner, str) and owner:
        reading.source_users.add(owner)
    return reading


def _archived(fields: list[Any], number: int, record: Any) -> ImportedJourney:
    """One journey of a Trainy archive: each of the model's ``fields`` checked as the model
    checks it."""
    from stats.exports.archive import RESTORED_APART

    if not isinstance(record, dict) or not isinstance(record.get("fields"), dict):
        raise RowError('It is not a journey of a Trainy archive ({"id", "fields"}).')
    given = record["fields"]
    values: dict[str, Any] = {}
    for model_field in fields:
        if model_field.name not in given or model_field.name in RESTORED_APART:
            continue  # a field the archive's Trainy did not have: the model's default
        raw = given[model_field.name]
        try:
            if raw is None and model_field.null:
                value = None
            elif raw == "" and model_field.blank:
                value = ""
            else:
                value = model_field.clean(raw, None)
        except ValidationError as error:
            raise RowError(f"{model_field.name}: {' '.join(error.messages)}") from None
        values[model_field.attname] = value
    for needed in ("line_name", "origin_name", "destination_name", "departure_planned",
                   "arrival_planned"):  # fmt: skip
        if values.get(needed) in (None, ""):
            raise RowError(f"{needed}: missing.")
    entry, exit_ = values.get("origin_seq"), values.get("destination_seq")
    if entry is not None and exit_ is not None and exit_ <= entry:
        raise RowError("destination_seq: the exit must come after the entry.")
    source, source_id = given.get("import_source"), given.get("import_source_id")
    if not (isinstance(source, str) and source and isinstance(source_id, str) and source_id):
        # A journey made on the archive's Trainy: known by its id there.
        source, source_id = TRAINY_ARCHIVE, str(record.get("id", ""))
    document = record.get("document")
    return ImportedJourney(
        number=number,
        source_format=source[:32],
        source_id=source_id,
        mode=values.get("mode", Mode.OTHER),
        line_name=values["line_name"],
        journey_number="",
        operator_name=values.get("operator_name", ""),
        origin_name=values["origin_name"],
        origin_lat=values.get("origin_lat"),
        origin_lon=values.get("origin_lon"),
        destination_name=values["destination_name"],
        destination_lat=values.get("destination_lat"),
        destination_lon=values.get("destination_lon"),
        departure_planned=values["departure_planned"],
        arrival_planned=values["arrival_planned"],
        departure_real=values.get("departure_real"),
        arrival_real=values.get("arrival_real"),
        distance_m=values.get("distance_m"),
        message=values.get("message", ""),
        visibility=values.get("visibility"),
        purpose=values.get("purpose", Purpose.PRIVATE),
        restore=values,
        document=document if isinstance(document, dict) else None,
    )
