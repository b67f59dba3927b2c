"""Departure boards checked against an independent reading of the two staged GTFS feeds.

Both feeds (../shared/data/gtfs, never copied into the repository) are imported into the test
database with ``import_gtfs``. Each board that ``departures()`` gives for a sampled (station,
instant) pair is compared with a board computed here from the files alone, with pandas and the
GTFS reference's rules, sharing no code with the importer or the selector:

- a trip runs on service date D when calendar.txt's weekday flag for D is set within
  start_date..end_date, plus calendar_dates.txt exception_type 1 (added), minus type 2
  (removed);
- a stop_times row of such a trip departs at (D at 12:00 local time - 12 h) + departure_time,
  so times past 24:00:00 fall on the following day(s) and DST days are exact;
- the trip's last stop (highest stop_sequence) and rows with pickup_type 1 are no departures;
- a parent station's board holds its platforms (a stop's board: itself and its children);
- the board is the next ``LIMIT`` departures at or after the instant, ordered by instant, then
  trip_id.

The comparison is exact: every departure the selector returns must be the true next one, in
order, with the same trip, platform, instant and service date. It may return fewer than
``LIMIT`` only when the true board has fewer than that within ``HORIZON`` of the instant (the
selector may stop looking after a day), and then none of those may be missing.
"""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.db import connection
from geopy.distance import geodesic

from tests.conftest import DB_FEED, MTA_FEED, require_service

FEEDS = {"db-fv-2019": DB_FEED, "mta-nyct-subway-2026": MTA_FEED}
LIMIT = 20
HORIZON = timedelta(hours=24)
CASES_PER_FEED = 60
SEED = 20190603

# The MTA import alone takes up to a minute, and it is part of the first test's setup.
pytestmark = [pytest.mark.services, pytest.mark.django_db, pytest.mark.timeout(900)]


# --- Reading the files (shared by the sampling and the reference) ------------------------------


def _open(source: Path, name: str) -> IO[bytes] | None:
    """A feed file as bytes, or None if the feed does not have it."""
    if source.is_dir():
        path = source / name
        return path.open("rb") if path.exists() else None
    archive = zipfile.ZipFile(source)
    if name not in archive.namelist():
        archive.close()
        return None
    return archive.open(name)


def _csv_rows(source: Path, name: str) -> list[dict[str, str]]:
    handle = _open(source, name)
    if handle is None:
        return []
    with handle, io.TextIOWrapper(handle, encoding="utf-8-sig", newline="") as text:
        return list(csv.DictReader(text))


def _frame(source: Path, name: str, **read_csv: Any) -> pd.DataFrame | None:
    handle = _open(source, name)
    if handle is None:
        return None
    with handle:
        return pd.read_csv(handle, encoding="utf-8-sig", **read_csv)


def _gtfs_date(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


# --- The sampled cases (chosen at collection time from stops and calendars only) ---------------


@dataclass(frozen=True)
class Case:
    feed: str
    station: str
    at: datetime  # aware, in the feed's time zone
    by_name: bool  # pass feed=<name> to departures(); otherwise feed=None (all active feeds)

    @property
    def id(self) -> str:
        return f"{self.feed}:{self.station}@{self.at.isoformat(timespec='minutes')}"


def _instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """``minute`` real minutes after local midnight of ``day`` (so DST days keep every
    instant, and none is ambiguous)."""
    midnight = datetime.combine(day, time(), zone).astimezone(UTC)
    return (midnight + timedelta(minutes=minute)).astimezone(zone)


def _minute(rng: random.Random, kind: str) -> int:
    if kind == "late":  # 23:00-23:59, with services past 24:00 of the day before still running
        return rng.randrange(23 * 60, 24 * 60)
    if kind == "night":  # 00:00-03:00: where the previous service days' 24:xx+ rows fall
        return rng.randrange(0, 3 * 60 + 1)
    return rng.randrange(0, 24 * 60)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _cases() -> list[Case]:
    rng = random.Random(SEED)
    cases: list[Case] = []

    # DB Fernverkehr 2019: its stops (there are no parent stations), every other one drawn by
    # its number of stop_times rows, since most of them see a few trains a day and their boards
    # would rarely fill; dates in 2019 within the feed's calendar, with both DST changes
    # (31 March, 27 October) and the days after them.
    db = FEEDS["db-fv-2019"]
    berlin = ZoneInfo("Europe/Berlin")
    stations = sorted(row["stop_id"] for row in _csv_rows(db, "stops.txt"))
    calls = Counter(row["stop_id"] for row in _csv_rows(db, "stop_times.txt"))
    weights = [calls[station] for station in stations]
    year = _days(date(2019, 1, 1), date(2019, 12, 14))
    dst = [date(2019, 3, 31), date(2019, 4, 1), date(2019, 10, 27), date(2019, 10, 28)]
    plan = (
        [("dst", "night")] * 8 + [("dst", "any")] * 4 + [("year", "late")] * 14
        + [("year", "night")] * 14 + [("year", "any")] * 18
    )  # fmt: skip
    for days, kind in plan:
        day = rng.choice(dst if days == "dst" else year)
        at = _instant(day, _minute(rng, kind), berlin)
        busy = len(cases) % 2 == 0
        station = rng.choices(stations, weights)[0] if busy else rng.choice(stations)
        cases.append(Case("db-fv-2019", station, at, by_name=len(cases) % 4 in (1, 2)))
    # The very end of the service period: the board runs out.
    cases.append(Case("db-fv-2019", "8000105", _instant(date(2019, 12, 14), 22 * 60, berlin), True))
    cases.append(
        Case("db-fv-2019", "8011160", _instant(date(2019, 12, 14), 23 * 60, berlin), False)
    )

    # MTA subway 2026: parent stations; dates in the calendar's period, a third of them dates
    # that calendar_dates.txt adds or removes service on.
    mta = FEEDS["mta-nyct-subway-2026"]
    new_york = ZoneInfo("America/New_York")
    stops = _csv_rows(mta, "stops.txt")
    stations = sorted(row["stop_id"] for row in stops if row.get("location_type") == "1")
    period = _days(date(2026, 5, 26), date(2026, 10, 31))
    exceptions = sorted({_gtfs_date(row["date"]) for row in _csv_rows(mta, "calendar_dates.txt")})
    plan = (
        [("exceptions", "any")] * 12 + [("exceptions", "night")] * 4
        + [("exceptions", "late")] * 4 + [("period", "late")] * 10
        + [("period", "night")] * 10 + [("period", "any")] * 19
    )  # fmt: skip
    for days, kind in plan:
        day = rng.choice(exceptions if days == "exceptions" else period)
        at = _instant(day, _minute(rng, kind), new_york)
        cases.append(
            Case("mta-nyct-subway-2026", rng.choice(stations), at, by_name=len(cases) % 2 == 1)
        )
    # The last service day of the feed: late at night the board runs out.
    cases.append(
        Case(
            "mta-nyct-subway-2026",
            "127",
            _instant(date(2026, 10, 31), 23 * 60 + 30, new_york),
            True,
        )
    )
    return cases


CASES = _cases()


# --- The reference computation -----------------------------------------------------------------


# (instant as epoch seconds, trip_id, stop_id of the platform, service date, route_id)
Row = tuple[int, str, str, date, str]


def _seconds(text: str) -> int:
    hours, minutes, seconds = text.strip().split(":")
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds)


class ReferenceFeed:
    """One GTFS feed read with pandas, answering "every departure at these stops in
    [start, end)" by brute force over its service days."""

    def __init__(self, source: Path) -> None:
        strings = {"dtype": str, "keep_default_na": False}
        agency = _frame(source, "agency.txt", **strings)
        assert agency is not None and len(agency), "agency.txt is required"
        self.zone = ZoneInfo(agency["agency_timezone"].iloc[0])

        stops = _frame(source, "stops.txt", **strings)
        assert stops is not None
        self.stop_ids = stops["stop_id"].to_numpy()
        self.children: dict[str, list[str]] = {}
        if "parent_station" in stops and stops["parent_station"].astype(bool).any():
            for stop_id, parent in zip(stops["stop_id"], stops["parent_station"], strict=True):
                if parent:
                    self.children.setdefault(parent, []).append(stop_id)
        else:
            self._group_levels(stops)
        stop_index = pd.Index(stops["stop_id"])

        trips = _frame(
            source, "trips.txt", usecols=["trip_id", "route_id", "service_id"], **strings
        )
        assert trips is not None
        self.trip_ids = trips["trip_id"].to_numpy()
        self.trip_routes = trips["route_id"].to_numpy()
        trip_index = pd.Index(trips["trip_id"])

        self._read_calendars(
            trips,
            _frame(source, "calendar.txt", **strings),
            _frame(source, "calendar_dates.txt", **strings),
        )
        self._read_stop_times(source, trip_index, stop_index)

    def _group_levels(self, stops: pd.DataFrame) -> None:
        """Trainy's documented rule for feeds without parent stations: a stop named like
        another plus " (…)" or " …", within 400 m of it, belongs to that station (DB's
        "Berlin Hbf (tief)")."""
        places = {
            name: (stop_id, float(lat), float(lon))
            for stop_id, name, lat, lon in zip(
                stops["stop_id"], stops["stop_name"], stops["stop_lat"], stops["stop_lon"],
                strict=True,
            )
        }  # fmt: skip
        for name, (stop_id, lat, lon) in places.items():
            for cut in (name.rfind(" ("), name.rfind(" ")):
                station = places.get(name[:cut]) if cut > 0 else None
                if station and station[0] != stop_id:
                    metres = geodesic((lat, lon), (station[1], station[2])).meters
                    if metres <= 400:
                        self.children.setdefault(station[0], []).append(stop_id)
                        break

    def _read_calendars(
        self,
        trips: pd.DataFrame,
        calendar: pd.DataFrame | None,
        calendar_dates: pd.DataFrame | None,
    ) -> None:
        assert calendar is not None or calendar_dates is not None
        services: set[str] = set(trips["service_id"])
        ordinals: list[int] = []
        if calendar is not None:
            services |= set(calendar["service_id"])
            for column in ("start_date", "end_date"):
                ordinals += [_gtfs_date(text).toordinal() for text in calendar[column]]
        if calendar_dates is not None:
            services |= set(calendar_dates["service_id"])
            ordinals += [_gtfs_date(text).toordinal() for text in set(calendar_dates["date"])]
        self.first_ordinal = min(ordinals)
        days = max(ordinals) - self.first_ordinal + 1
        service_index = {service: n for n, service in enumerate(sorted(services))}
        # runs[service, day]: the service runs on date.fromordinal(first_ordinal + day).
        self.runs = np.zeros((len(service_index), days), dtype=bool)
        weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        for row in [] if calendar is None else calendar.to_dict("records"):
            start = _gtfs_date(row["start_date"]).toordinal()
            end = _gtfs_date(row["end_date"]).toordinal()
            span = np.arange(start, end + 1)
            # date.fromordinal(1) is a Monday.
            flags = np.array([row[day] == "1" for day in weekdays])
            on = span[flags[(span - 1) % 7]]
            self.runs[service_index[row["service_id"]], on - self.first_ordinal] = True
        for row in [] if calendar_dates is None else calendar_dates.to_dict("records"):
            day = _gtfs_date(row["date"]).toordinal() - self.first_ordinal
            service = service_index[row["service_id"]]
            if row["exception_type"] == "1":
                self.runs[service, day] = True
            elif row["exception_type"] == "2":
                self.runs[service, day] = False
        self.trip_services = np.array([service_index[s] for s in trips["service_id"]])

    def _read_stop_times(self, source: Path, trip_index: pd.Index, stop_index: pd.Index) -> None:
        wanted = {"trip_id", "stop_id", "departure_time", "stop_sequence", "pickup_type"}
        stop_times = _frame(
            source,
            "stop_times.txt",
            usecols=lambda column: column in wanted,
            # Strings, not categories: pandas would turn numeric-looking ids into integers.
            dtype={column: str for column in wanted - {"stop_sequence"}}
            | {"stop_sequence": "int64"},
            keep_default_na=False,
        )
        assert stop_times is not None
        # A few thousand distinct times: parse each once.
        codes, times = pd.factorize(stop_times["departure_time"])
        assert "" not in set(times), "the reference does not interpolate empty times"
        departure_s = np.array([_seconds(text) for text in times], dtype=np.int64)[codes]
        self.max_departure_s = int(departure_s.max())

        trip = trip_index.get_indexer(stop_times["trip_id"])
        stop = stop_index.get_indexer(stop_times["stop_id"])
        assert (trip >= 0).all() and (stop >= 0).all()
        sequence = stop_times["stop_sequence"].to_numpy()

        last = np.full(len(trip_index), -1, dtype=np.int64)
        np.maximum.at(last, trip, sequence)
        departs = sequence < last[trip]
        if "pickup_type" in stop_times:
            departs &= (stop_times["pickup_type"].str.strip() != "1").to_numpy()

        order = np.argsort(stop[departs], kind="stable")
        self.by_stop = stop[departs][order]
        self.departure_s = departure_s[departs][order]
        self.trip = trip[departs][order]
        self.stop_position = {stop_id: n for n, stop_id in enumerate(stop_index)}

    def board_stops(self, stop_id: str) -> list[str]:
        return [stop_id, *self.children.get(stop_id, [])]

    def departures(self, stop_id: str, start: int, end: int) -> list[Row]:
        """Every departure at the stop (and its children) with start <= instant < end, as
        epoch seconds, ordered by instant, trip_id (then platform and service date)."""
        chunks = []
        for board_stop in self.board_stops(stop_id):
            position = self.stop_position[board_stop]
            low, high = np.searchsorted(self.by_stop, [position, position + 1])
            chunks.append(np.arange(low, high))
        rows = np.concatenate(chunks)
        seconds = self.departure_s[rows]
        trips = self.trip[rows]
        services = self.trip_services[trips]
        found: list[Row] = []
        # Service days whose times (up to max_departure_s) can reach the window, one spare day
        # each side for DST's 23- and 25-hour days.
        first = datetime.fromtimestamp(start - self.max_departure_s, self.zone).date()
        last = datetime.fromtimestamp(end, self.zone).date()
        day = first - timedelta(days=1)
        while day <= last + timedelta(days=1):
            index = day.toordinal() - self.first_ordinal
            if 0 <= index < self.runs.shape[1]:
                noon = datetime.combine(day, time(12), self.zone)
                base = int(noon.timestamp()) - 12 * 3600
                instants = base + seconds
                hit = self.runs[services, index] & (instants >= start) & (instants < end)
                for instant, trip, row in zip(instants[hit], trips[hit], rows[hit], strict=True):
                    found.append(
                        (
                            int(instant),
                            str(self.trip_ids[trip]),
                            str(self.stop_ids[self.by_stop[row]]),
                            day,
                            str(self.trip_routes[trip]),
                        )
                    )
            day += timedelta(days=1)
        found.sort()
        return found


# --- Fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def references() -> dict[str, ReferenceFeed]:
    for name, source in FEEDS.items():
        assert source.exists(), f"the staged feed {name} is missing: {source}"
    return {name: ReferenceFeed(source) for name, source in FEEDS.items()}


@pytest.fixture(scope="module")
def imported_feeds(django_db_setup, django_db_blocker) -> Iterator[list[str]]:
    """Both feeds imported into the test database, once for this module. The import commits
    its own transaction, so the feeds are removed again at the end."""
    require_service("postgres")
    from checkins.timetable.models import Feed, FeedVersion
    from checkins.timetable.schema import drop_version

    with django_db_blocker.unblock():
        assert connection.vendor == "postgresql"
        for name, source in FEEDS.items():
            call_command("import_gtfs", str(source), name=name, verbosity=0, stdout=io.StringIO())
    try:
        yield list(FEEDS)
    finally:
        with django_db_blocker.unblock():
            for version_id in FeedVersion.objects.filter(feed__name__in=FEEDS).values_list(
                "id", flat=True
            ):
                drop_version(connection, version_id)
            Feed.objects.filter(name__in=FEEDS).delete()


# --- The comparison --------------------------------------------------------------------------


def _expected(
    reference: ReferenceFeed, station: str, at: datetime, got: int, limit: int = LIMIT
) -> list[Row]:
    """The true board for ``at`` as long as ``got`` may be: ``limit`` departures, or fewer
    only when fewer than ``limit`` fall within HORIZON (and then all of those)."""
    start = int(at.timestamp())
    # Two horizons' worth, so that a selector that looks further than one day is still exact.
    every = reference.departures(station, start, start + 2 * int(HORIZON.total_seconds()))
    within = [row for row in every if row[0] < start + int(HORIZON.total_seconds())]
    if got >= limit or len(within) >= limit:
        return every[:limit]
    return every[: max(got, len(within))]


def _describe(rows: list[Row], zone: ZoneInfo) -> str:
    return "\n".join(
        f"  {datetime.fromtimestamp(instant, zone).isoformat()} trip {trip} at {stop} "
        f"(service day {day}, route {route})"
        for instant, trip, stop, day, route in rows
    )


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_board_matches_an_independent_reading_of_the_feed(
    case: Case, imported_feeds: list[str], references: dict[str, ReferenceFeed]
) -> None:
    from checkins.timetable.selectors import departures

    reference = references[case.feed]
    # Stop ids of the two feeds do not collide, so feed=None must give the same board.
    other = next(name for name in FEEDS if name != case.feed)
    assert case.station not in references[other].stop_position

    for at in _instants_to_check(reference, case):
        board = departures(
            stop_id=case.station, at=at, limit=LIMIT, feed=case.feed if case.by_name else None
        )
        got: list[Row] = [
            (
                int(item.departure.timestamp()),
                item.trip_id,
                item.stop_id,
                item.service_date,
                item.route_id,
            )
            for item in board
        ]
        expected = _expected(reference, case.station, at, len(got))
        order = [(row[0], row[1]) for row in got]
        assert order == sorted(order), (
            f"not ordered by instant, trip_id:\n{_describe(got, reference.zone)}"
        )
        assert sorted(got) == expected, (
            f"board at {case.station} for {at.isoformat()} ({case.feed}):\n"
            f"expected {len(expected)}:\n{_describe(expected, reference.zone)}\n"
            f"got {len(got)}:\n{_describe(sorted(got), reference.zone)}"
        )
        for item in board:
            # In the feed's time zone, not merely the same instant.
            assert (
                item.departure.utcoffset() == item.departure.astimezone(reference.zone).utcoffset()
            )


def _instants_to_check(reference: ReferenceFeed, case: Case) -> list[datetime]:
    """The sampled instant and, when the board is not empty, exactly its first departure:
    "at or after" includes a train leaving at that very second."""
    start = int(case.at.timestamp())
    first = reference.departures(case.station, start, start + int(HORIZON.total_seconds()))
    if not first:
        return [case.at]
    return [case.at, datetime.fromtimestamp(first[0][0], reference.zone)]


# --- The reference on a feed small enough to work out by hand ---------------------------------

# Column orders differ from the spec's on purpose. Weekday service from Monday 25 March to Sunday
# 7 April 2019 but not on Monday 1 April; one extra trip on Sunday 31 March, the day clocks go
# forward in Berlin (its 12:00 - 12 h is 00:00 CET = 23:00 UTC the day before, so its 01:30:00 is
# 00:30 local time).
TINY_FEED = {
    "agency.txt": """agency_timezone,agency_id,agency_name,agency_url
Europe/Berlin,A,Tiny Rail,https://example.org
""",
    "stops.txt": """stop_id,stop_name,location_type,parent_station,stop_lat,stop_lon
TINY-A,Tiny A,1,,52.5,13.4
TINY-A1,Tiny A Gleis 1,0,TINY-A,52.5,13.4
TINY-A2,Tiny A Gleis 2,0,TINY-A,52.5,13.4
TINY-B,Tiny B,0,,52.6,13.5
TINY-C,Tiny C,,,52.7,13.6
""",
    "routes.txt": """route_id,agency_id,route_short_name,route_long_name,route_type
R1,A,X1,,2
""",
    "trips.txt": """trip_id,route_id,service_id,trip_headsign
T-DAY,R1,WEEKDAY,Tiny B
T-NIGHT,R1,WEEKDAY,Tiny C
T-EXTRA,R1,EXTRA,Tiny B
T-ENDS,R1,WEEKDAY,Tiny A
T-NO-PICKUP,R1,WEEKDAY,Tiny B
""",
    "stop_times.txt": """stop_id,trip_id,stop_sequence,arrival_time,departure_time,pickup_type
TINY-A1,T-DAY,1,08:00:00,08:00:00,
TINY-B,T-DAY,2,09:00:00,09:00:00,
TINY-B,T-NIGHT,1,23:50:00,23:50:00,0
TINY-A2,T-NIGHT,2,24:25:00,24:30:00,0
TINY-C,T-NIGHT,3,25:30:00,25:30:00,0
TINY-A1,T-EXTRA,5,01:30:00,01:30:00,
TINY-B,T-EXTRA,7,03:00:00,03:00:00,
TINY-B,T-ENDS,1,10:00:00,10:00:00,
TINY-A2,T-ENDS,2,11:00:00,11:00:00,
TINY-A1,T-NO-PICKUP,1,12:00:00,12:00:00,1
TINY-B,T-NO-PICKUP,2,13:00:00,13:00:00,
""",
    "calendar.txt": (
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
        "WEEKDAY,1,1,1,1,1,0,0,20190325,20190407\n"
    ),
    "calendar_dates.txt": """service_id,date,exception_type
WEEKDAY,20190401,2
EXTRA,20190331,1
""",
}
TINY_BOARD = [  # TINY-A from Thursday 28 March 00:00 to Wednesday 3 April 01:00
    ("2019-03-28T00:30:00+01:00", "T-NIGHT", "TINY-A2", "2019-03-27"),
    ("2019-03-28T08:00:00+01:00", "T-DAY", "TINY-A1", "2019-03-28"),
    ("2019-03-29T00:30:00+01:00", "T-NIGHT", "TINY-A2", "2019-03-28"),
    ("2019-03-29T08:00:00+01:00", "T-DAY", "TINY-A1", "2019-03-29"),
    ("2019-03-30T00:30:00+01:00", "T-NIGHT", "TINY-A2", "2019-03-29"),
    ("2019-03-31T00:30:00+01:00", "T-EXTRA", "TINY-A1", "2019-03-31"),
    ("2019-04-02T08:00:00+02:00", "T-DAY", "TINY-A1", "2019-04-02"),
    ("2019-04-03T00:30:00+02:00", "T-NIGHT", "TINY-A2", "2019-04-02"),
]


@pytest.fixture
def tiny_feed(tmp_path: Path) -> Path:
    for name, text in TINY_FEED.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_the_reference_follows_the_gtfs_rules_on_a_tiny_feed(tiny_feed: Path) -> None:
    reference = ReferenceFeed(tiny_feed)
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2019, 3, 28, tzinfo=berlin)
    end = datetime(2019, 4, 3, 1, tzinfo=berlin)
    board = reference.departures("TINY-A", int(start.timestamp()), int(end.timestamp()))
    assert [
        (datetime.fromtimestamp(instant, berlin).isoformat(), trip, stop, day.isoformat())
        for instant, trip, stop, day, _route in board
    ] == TINY_BOARD
    assert reference.departures("TINY-A1", int(start.timestamp()), int(end.timestamp())) == [
        row for row in board if row[2] == "TINY-A1"
    ]


def test_the_selector_agrees_on_the_tiny_feed(tiny_feed: Path) -> None:
    """The rules the staged feeds do not exercise (pickup_type 1, a removed weekday, a trip
    ending at the station), through the importer and the selector. The import runs inside this
    test's transaction and is rolled back with it."""
    require_service("postgres")
    from checkins.timetable.selectors import departures

    call_command("import_gtfs", str(tiny_feed), name="tiny-reference", verbosity=0,
                 stdout=io.StringIO())  # fmt: skip
    reference = ReferenceFeed(tiny_feed)
    berlin = reference.zone
    checked = [datetime(2019, 3, 28, tzinfo=berlin)]
    checked += [datetime.fromisoformat(row[0]) for row in TINY_BOARD]
    checked += [at + timedelta(seconds=1) for at in checked]
    for at in checked:
        for station in ("TINY-A", "TINY-A1", "TINY-A2", "TINY-B", "TINY-C"):
            board = departures(stop_id=station, at=at, limit=3, feed="tiny-reference")
            got = [
                (int(item.departure.timestamp()), item.trip_id, item.stop_id, item.service_date,
                 item.route_id)
                for item in board
            ]  # fmt: skip
            expected = _expected(reference, station, at, len(got), limit=3)
            assert got == expected, f"{station} at {at.isoformat()}"


# A few boards through the command line, whose --at is local wall-clock time and whose JSON gives
# departures in the feed's time zone.
def _unambiguous(at: datetime) -> bool:
    """The local wall-clock time names exactly this instant (not skipped or repeated by DST)."""
    wall = at.replace(tzinfo=None)
    return all(
        wall.replace(tzinfo=at.tzinfo, fold=fold).timestamp() == at.timestamp() for fold in (0, 1)
    )


COMMAND_CASES = [case for case in CASES if _unambiguous(case.at)][::12]


@pytest.mark.parametrize("case", COMMAND_CASES, ids=[case.id for case in COMMAND_CASES])
def test_the_departures_command_prints_the_same_board_as_json(
    case: Case, imported_feeds: list[str], references: dict[str, ReferenceFeed]
) -> None:
    reference = references[case.feed]
    output = io.StringIO()
    local = case.at.strftime("%Y-%m-%dT%H:%M")
    call_command(
        "departures", case.station, "--at", local, "--limit", str(LIMIT), "--json", stdout=output
    )
    board = json.loads(output.getvalue())
    got: list[Row] = []
    for item in board:
        departure = datetime.fromisoformat(item["departure"])
        assert departure.utcoffset() == departure.astimezone(reference.zone).utcoffset(), item
        assert {"line", "headsign"} <= item.keys()
        got.append(
            (
                int(departure.timestamp()),
                item["trip_id"],
                item["stop_id"],
                date.fromisoformat(item["service_date"]),
                item["route_id"],
            )
        )
    expected = _expected(reference, case.station, case.at, len(got))
    assert got == expected, (
        f"departures {case.station} --at {local} ({case.feed}):\n"
        f"expected:\n{_describe(expected, reference.zone)}\ngot:\n{_describe(got, reference.zone)}"
    )


def test_the_sample_exercises_what_it_is_meant_to(references: dict[str, ReferenceFeed]) -> None:
    """Guards the fixed sample: full boards, departures from an earlier service day (times
    past 24:00:00), boards that run out within a day, and both DST days."""
    seen: Counter[str] = Counter()
    for case in CASES:
        reference = references[case.feed]
        board = _expected(reference, case.station, case.at, 0)
        seen[f"{case.feed} full"] += len(board) == LIMIT
        seen[f"{case.feed} short"] += 0 < len(board) < LIMIT
        seen[f"{case.feed} earlier day"] += any(row[3] < case.at.date() for row in board)
        seen["dst"] += board != [] and case.at.date() in (date(2019, 3, 31), date(2019, 10, 27))
    assert Counter(case.feed for case in CASES) == dict.fromkeys(FEEDS, CASES_PER_FEED)
    for feed in FEEDS:
        assert seen[f"{feed} full"] >= 20, seen
        assert seen[f"{feed} earlier day"] >= 5, seen
    assert seen["db-fv-2019 short"] >= 10, seen
    assert seen["dst"] >= 4, seen
