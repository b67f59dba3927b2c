"""Reads of the timetable: active feeds, station search, departure boards, trips.

These are SQL over the tt_* tables (see checkins.timetable.schema), written to use their
indexes: every query names its versions (partition pruning on PostgreSQL) and the board query
walks the (stop, departure time) index of each platform.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from checkins.geo import decode_path, great_circle_m
from checkins.timetable.gtfs import _fold, parse_color
from checkins.timetable.models import Feed, FeedVersion, RealtimeTrip

DAY_S = 86_400
# A first look ahead that fills most boards. A board it leaves short (a quiet station, the
# night) looks again over a window widened by how short it fell, up to a day: a day's window at
# a big station reads thousands of candidate rows, where four hours at night read a few dozen.
FIRST_WINDOW_S = 2 * 3600
FULL_WINDOW_S = DAY_S


def next_window(window_s: int, found: int, wanted: int) -> int:
    """The window to look over after ``window_s`` found ``found`` of ``wanted`` departures:
    wide enough for half again as many at the same rate, at least twice as wide, at most a day."""
    factor = max(2, math.ceil(1.5 * wanted / found)) if found else FULL_WINDOW_S
    return min(FULL_WINDOW_S, window_s * factor)


@dataclass(frozen=True)
class ActiveVersion:
    id: int
    feed: str
    timezone: ZoneInfo
    start_date: date | None
    end_date: date | None
    max_departure_s: int


@dataclass(frozen=True)
class Station:
    feed: str
    version_id: int
    stop_pk: int
    stop_id: str
    name: str
    lat: float | None
    lon: float | None
    location_type: int
    departures: int


@dataclass(frozen=True)
class Departure:
    feed: str
    trip_id: str
    route_id: str
    line: str
    mode: str
    headsign: str
    stop_id: str
    stop_name: str
    platform: str | None
    departure: datetime  # aware, in the feed's time zone
    service_date: date
    route_color: str | None
    route_text_color: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "trip_id": self.trip_id,
            "route_id": self.route_id,
            "line": self.line,
            "mode": self.mode,
            "headsign": self.headsign,
            "stop_id": self.stop_id,
            "stop_name": self.stop_name,
            "platform": self.platform,
            "departure": self.departure.isoformat(),
            "service_date": self.service_date.isoformat(),
        }


@dataclass(frozen=True)
class TripStop:
    seq: int
    stop_id: str
    name: str
    platform: str | None
    lat: float | None
    lon: float | None
    arrival: datetime | None
    departure: datetime | None
    parent_stop_id: str | None
    parent_name: str | None

    @property
    def station_id(self) -> str:
        return self.parent_stop_id or self.stop_id

    @property
    def station_name(self) -> str:
        """What travellers call the place: the station, not its platform or level."""
        return self.parent_name or self.name


@dataclass(frozen=True)
class Trip:
    feed: str
    version_id: int
    trip_id: str
    route_id: str
    line: str
    mode: str
    headsign: str
    agency: str
    service_date: date
    stops: list[TripStop]
    shape_pk: int | None


def active_versions(feed: str | None = None) -> list[ActiveVersion]:
    """The active version of each feed (or of ``feed`` only), by feed name.

    Plain SQL, as the rest of this module: every board, trip and check-in asks, and building
    the same ORM query each time cost more than running it. Only the columns used: a version
    row also holds its import's counts and feed info (JSON)."""
    sql = f"""
        SELECT v.id, f.name, v.timezone, v.start_date, v.end_date, v.max_departure_s
        FROM {FeedVersion._meta.db_table} v JOIN {Feed._meta.db_table} f ON f.id = v.feed_id
        WHERE v.status = %s {"AND f.name = %s" if feed is not None else ""}
        ORDER BY f.name
    """
    params = [FeedVersion.Status.ACTIVE.value] + ([feed] if feed is not None else [])
    return [
        ActiveVersion(
            id=version_id,
            feed=name,
            timezone=_zone(zone),
            start_date=start_date,
            end_date=end_date,
            max_departure_s=max_departure_s,
        )
        for version_id, name, zone, start_date, end_date, max_departure_s in fetch_rows(sql, params)
    ]


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def placeholders(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def fetch_rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- Stations ------------------------------------------------------------------------------

STATION_COLUMNS = "stop_pk, stop_id, name, lat, lon, location_type, departures, version_id"


def _station(row: tuple[Any, ...], feeds: dict[int, str]) -> Station:
    stop_pk, stop_id, name, lat, lon, location_type, departures, version_id = row
    return Station(
        feed=feeds[version_id],
        version_id=version_id,
        stop_pk=stop_pk,
        stop_id=stop_id,
        name=name,
        lat=lat,
        lon=lon,
        location_type=location_type,
        departures=departures,
    )


def line_name(route_short: str | None, route_long: str | None, trip_short: str | None,
              route_id: str) -> str:  # fmt: skip
    """What riders call the line: "ICE 1601", "S7", "A"; the trip's number joins the route's
    name unless it already carries it."""
    route = route_short or route_long or ""
    if not trip_short:
        return route or route_id
    if not route or trip_short.startswith(route):
        return trip_short
    return f"{route} {trip_short}"


# A station name is a few words; the bounds keep a search one cheap query (every word is a
# condition of its own).
MAX_QUERY_LENGTH = 100
MAX_QUERY_WORDS = 8


def normalise_query(text: str) -> str:
    return _fold(text.casefold())


def station_search(query: str, limit: int = 10) -> list[Station]:
    """Stations whose name contains every word of the query (case, accents and punctuation
    ignored), names starting with the query first, then the busiest. Only the first
    MAX_QUERY_WORDS words of the first MAX_QUERY_LENGTH characters count (the forms refuse
    more, with a message), so no query text makes the search expensive."""
    words = normalise_query(query[:MAX_QUERY_LENGTH]).split()[:MAX_QUERY_WORDS]
    versions = active_versions()
    if not words or not versions:
        return []
    feeds = {version.id: version.feed for version in versions}
    phrase = " ".join(words)
    conditions = " AND ".join(["search_name LIKE %s"] * len(words))
    sql = f"""
        SELECT {STATION_COLUMNS} FROM tt_stop
        WHERE version_id IN ({placeholders(versions)})
          AND parent_pk IS NULL AND location_type IN (0, 1)
          AND {conditions}
        ORDER BY
          CASE WHEN search_name = %s THEN 0
               WHEN search_name LIKE %s THEN 1
               WHEN search_name LIKE %s THEN 2 ELSE 3 END,
          departures DESC, name
        LIMIT %s
    """
    params = [
        *feeds,
        *(f"%{word}%" for word in words),
        phrase,
        f"{phrase}%",
        f"% {phrase}%",
        limit,
    ]
    return [_station(row, feeds) for row in fetch_rows(sql, params)]


def stations_nearby(
    lat: float, lon: float, *, radius_m: float = 1500, limit: int = 10
) -> list[tuple[Station, float]]:
    """Stations within ``radius_m`` of a point, nearest first, with their distance in metres."""
    versions = active_versions()
    if not versions:
        return []
    feeds = {version.id: version.feed for version in versions}
    dlat = radius_m / 111_195
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    sql = f"""
        SELECT {STATION_COLUMNS} FROM tt_stop
        WHERE lat BETWEEN %s AND %s AND lon BETWEEN %s AND %s
          AND version_id IN ({placeholders(versions)})
          AND parent_pk IS NULL AND location_type IN (0, 1)
    """
    rows = fetch_rows(sql, [lat - dlat, lat + dlat, lon - dlon, lon + dlon, *feeds])
    found = []
    for row in rows:
        station = _station(row, feeds)
        distance = great_circle_m(lat, lon, station.lat or 0.0, station.lon or 0.0)
        if distance <= radius_m:
            found.append((station, distance))
    found.sort(key=lambda pair: pair[1])
    return found[:limit]


def station_get(*, feed: str, stop_id: str) -> Station | None:
    versions = active_versions(feed)
    return _station_of(versions[0], stop_id) if versions else None


def _station_of(version: ActiveVersion, stop_id: str) -> Station | None:
    rows = fetch_rows(
        f"SELECT {STATION_COLUMNS} FROM tt_stop WHERE version_id = %s AND stop_id = %s",
        [version.id, stop_id],
    )
    return _station(rows[0], {version.id: version.feed}) if rows else None


def version_of_stop(stop_id: str, feed: str | None = None) -> ActiveVersion | None:
    """The first active version (by feed name) that has this stop id."""
    for version in active_versions(feed):
        if fetch_rows(
            "SELECT 1 FROM tt_stop WHERE version_id = %s AND stop_id = %s", [version.id, stop_id]
        ):
            return version
    return None


def _board_place(version: ActiveVersion, stop_id: str) -> tuple[Station, list[int]] | None:
    """The station ``stop_id`` of ``version`` and its stop pks (itself first, then its
    platforms), in one round trip; None if the version has no such stop."""
    rows = fetch_rows(
        f"""
        SELECT 0, {STATION_COLUMNS} FROM tt_stop WHERE version_id = %s AND stop_id = %s
        UNION ALL
        SELECT 1, {", ".join(f"c.{column.strip()}" for column in STATION_COLUMNS.split(","))}
        FROM tt_stop p
        JOIN tt_stop c ON c.version_id = p.version_id AND c.parent_pk = p.stop_pk
        WHERE p.version_id = %s AND p.stop_id = %s
        ORDER BY 1, 2
        """,
        [version.id, stop_id, version.id, stop_id],
    )
    if not rows or rows[0][0] != 0:
        return None
    return _station(rows[0][1:], {version.id: version.feed}), [row[1] for row in rows]


def _board_stop_pks(version_id: int, stop_id: str) -> list[int]:
    """The stop itself (first) and, for a station, all its platforms; empty if the version has
    no such stop. One round trip: boards are hot."""
    rows = fetch_rows(
        """
        SELECT 0, stop_pk FROM tt_stop WHERE version_id = %s AND stop_id = %s
        UNION ALL
        SELECT 1, c.stop_pk FROM tt_stop p
        JOIN tt_stop c ON c.version_id = p.version_id AND c.parent_pk = p.stop_pk
        WHERE p.version_id = %s AND p.stop_id = %s
        ORDER BY 1, 2
        """,
        [version_id, stop_id, version_id, stop_id],
    )
    return [stop_pk for _, stop_pk in rows]


# --- Departures ----------------------------------------------------------------------------


def service_day_start(day: date, zone: ZoneInfo) -> datetime:
    """GTFS's zero for a service day: noon local time minus 12 h (midnight but on DST days)."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=zone).astimezone(UTC) - timedelta(
        hours=12
    )


def departures(
    *,
    stop_id: str,
    at: datetime,
    limit: int = 20,
    feed: str | None = None,
    modes: Sequence[str] | None = None,
    before: bool = False,
    versions: Sequence[ActiveVersion] | None = None,
) -> list[Departure]:
    """The next ``limit`` departures at or after ``at`` (or the ``limit`` before it, when
    ``before``) at the stop or station ``stop_id`` and all its platforms, in every active feed
    that has that stop (or only ``feed``; or only ``versions``, when the caller has them).
    Trips ending there and stops without pick-up are not departures. Services from earlier
    days running past midnight are included.
    """
    if at.tzinfo is None:
        raise ValueError("departures() needs an aware datetime")
    found: list[tuple[int, Departure]] = []
    for version in active_versions(feed) if versions is None else versions:
        stop_pks = _board_stop_pks(version.id, stop_id)
        if stop_pks:
            found += _version_departures(version, stop_pks, at, limit, modes, before)
    return _in_order(found, limit, before)


def _version_departures(
    version: ActiveVersion,
    stop_pks: list[int],
    at: datetime,
    limit: int,
    modes: Sequence[str] | None,
    before: bool,
) -> list[tuple[int, Departure]]:
    """The next ``limit`` departures (or those before ``at``) of one version's stops, each
    with its instant: the first window, widened while it falls short."""
    window = FIRST_WINDOW_S
    rows = _board_rows(version, stop_pks, at, window, limit, modes, before)
    while len(rows) < limit and window < FULL_WINDOW_S:
        window = next_window(window, len(rows), limit)
        rows = _board_rows(version, stop_pks, at, window, limit, modes, before)
    return rows


def _in_order(found: list[tuple[int, Departure]], limit: int, before: bool) -> list[Departure]:
    """A board's ``limit`` departures, in time order, of those found (in any versions)."""
    found.sort(key=lambda pair: (pair[0], pair[1].trip_id), reverse=before)
    chosen = [departure for _, departure in found[:limit]]
    return chosen[::-1] if before else chosen


# Departures a board lists (the page's and the API's).
BOARD_SIZE = 20


@dataclass(frozen=True)
class Board:
    """A station's departure board: ``departures`` from ``at`` (aware, in the feed's time zone,
    to the minute), and where the boards before and after this one start."""

    station: Station
    version: ActiveVersion
    at: datetime
    departures: list[Departure]

    @property
    def earlier_at(self) -> datetime:
        """Where the board before this one ends (asked for with ``earlier``)."""
        return self.departures[0].departure if self.departures else self.at

    @property
    def later_at(self) -> datetime:
        return (self.departures[-1].departure if self.departures else self.at) + timedelta(
            minutes=1
        )

    @property
    def outside_service(self) -> bool:
        """Whether ``at`` is outside the days the timetable covers (so the board is empty)."""
        start, end = self.version.start_date, self.version.end_date
        return bool(start and end and not start <= self.at.date() <= end)


def board_get(
    *,
    feed: str,
    stop_id: str,
    at: datetime | None = None,
    modes: Sequence[str] | None = None,
    earlier: bool = False,
    limit: int = BOARD_SIZE,
) -> Board | None:
    """The departure board of station ``stop_id`` of ``feed`` (None if the active timetables
    have no such station): ``limit`` departures from ``at`` (or the ``limit`` before it, when
    ``earlier``) of ``modes`` (None: all). ``at`` is the feed's wall-clock time, whatever
    offset it carries (a form reads it in the site's zone); None: now. ``limit`` 0 lists none
    (a board whose filter is not valid)."""
    # The active version once, and the station with its platforms in one query: a board is
    # hot, and each lookup is a round trip.
    versions = active_versions(feed)
    place = _board_place(versions[0], stop_id) if versions else None
    if place is None:
        return None
    station, stop_pks = place
    version = versions[0]
    if at is None:
        moment = timezone.now().astimezone(version.timezone).replace(second=0, microsecond=0)
    else:
        moment = at.replace(tzinfo=None).replace(tzinfo=version.timezone)
    rows = (
        _in_order(
            _version_departures(version, stop_pks, moment, limit, modes, earlier), limit, earlier
        )
        if limit
        else []
    )
    return Board(station=station, version=version, at=moment, departures=rows)


def _board_rows(
    version: ActiveVersion,
    stop_pks: list[int],
    at: datetime,
    window_s: int,
    limit: int,
    modes: Sequence[str] | None,
    before: bool,
) -> list[tuple[int, Departure]]:
    at_epoch = int(at.timestamp())
    # Earliest and latest instants of the window, as epoch seconds.
    low, high = (at_epoch - window_s, at_epoch) if before else (at_epoch, at_epoch + window_s)
    zone = version.timezone
    first_day = datetime.fromtimestamp(low - version.max_departure_s, zone).date()
    last_day = datetime.fromtimestamp(high, zone).date()
    # Candidates first, straight from the (stop, departure time, service) index: one time range
    # per service day, only trips whose service runs that day. Only these few rows are then
    # joined to their trips and routes. (Left to itself, PostgreSQL starts from the day's trips
    # and probes thousands of them.)
    branches = []
    params: list[Any] = []
    day = first_day - timedelta(days=1)  # one more for DST days
    while day <= last_day:
        if (version.start_date is None or day >= version.start_date) and (
            version.end_date is None or day <= version.end_date
        ):
            base = int(service_day_start(day, zone).timestamp())
            lo, hi = low - base, high - base
            if hi >= 0 and lo <= version.max_departure_s:
                branches.append(f"""
                    SELECT %s AS base, %s AS day, trip_pk, seq, stop_pk, departure_s, headsign
                    FROM tt_stop_time
                    WHERE version_id = %s AND stop_pk IN ({placeholders(stop_pks)})
                      AND departure_s >= %s AND departure_s < %s AND pickup_type <> 1
                      AND service_pk IN (
                        SELECT service_pk FROM tt_service_date WHERE version_id = %s AND date = %s
                      )
                """)
                params += [base, day, version.id, *stop_pks, lo, hi, version.id, day]
        day += timedelta(days=1)
    if not branches:
        return []
    order = "DESC" if before else "ASC"
    mode_filter = f"AND r.mode IN ({placeholders(modes)})" if modes else ""
    if connection.vendor == "postgresql":
        materialized = "MATERIALIZED"
        # Each candidate's trip through its primary key, said as a LATERAL of at most one row:
        # the planner knows nothing of the materialized candidates' trip_pks, and as a plain
        # join it estimated candidates x trips / 200 rows. At a national feed's million trips
        # that estimate passed jit_above_cost, and each board spent ~600 ms compiling JIT
        # code for a 2 ms query. The plan is the same nested loop over the primary key.
        trip_join = """
            CROSS JOIN LATERAL (
                SELECT trip_id, route_pk, short_name, headsign FROM tt_trip
                WHERE version_id = %s AND trip_pk = c.trip_pk AND c.seq < last_seq LIMIT 1
            ) t"""
    else:
        materialized = ""
        trip_join = """
            JOIN tt_trip t ON t.version_id = %s AND t.trip_pk = c.trip_pk
                AND c.seq < t.last_seq"""
    sql = f"""
        WITH candidate AS {materialized} ({" UNION ALL ".join(branches)})
        SELECT c.base + c.departure_s AS instant, c.day, t.trip_id, r.route_id, r.short_name,
               r.long_name, t.short_name, r.mode, COALESCE(c.headsign, t.headsign, ''),
               s.stop_id, s.name, s.platform_code, r.color, r.text_color
        FROM candidate c
        {trip_join}
        JOIN tt_route r ON r.version_id = %s AND r.route_pk = t.route_pk
        JOIN tt_stop s ON s.version_id = %s AND s.stop_pk = c.stop_pk
        WHERE 1 = 1 {mode_filter}
        ORDER BY 1 {order}, 3 {order}
        LIMIT %s
    """
    params += [version.id] * 3 + list(modes or [])
    rows = fetch_rows(sql, [*params, limit])
    result = []
    for row in rows:
        (instant, service_date, trip_id, route_id, short_name, long_name, trip_short_name,
         mode, headsign, board_stop_id, stop_name, platform, color, text_color) = row  # fmt: skip
        departure = Departure(
            feed=version.feed,
            trip_id=trip_id,
            route_id=route_id,
            line=line_name(short_name, long_name, trip_short_name, route_id),
            mode=mode,
            headsign=headsign,
            stop_id=board_stop_id,
            stop_name=stop_name,
            platform=platform,
            departure=datetime.fromtimestamp(instant, zone),
            service_date=date.fromisoformat(str(service_date)),
            # Checked here, on the way to the page, whatever an older import let in.
            route_color=parse_color(color),
            route_text_color=parse_color(text_color),
        )
        result.append((instant, departure))
    return result


# --- Trips ---------------------------------------------------------------------------------


def trip_get(*, feed: str, trip_id: str, service_date: date) -> Trip | None:
    """A trip on a service day with all its stops and their times, or None if the trip does
    not exist in the feed's active version or does not run that day."""
    versions = active_versions(feed)
    if not versions:
        return None
    version = versions[0]
    head = fetch_rows(
        """
        SELECT t.trip_pk, t.trip_id, r.route_id, r.short_name, r.long_name, t.short_name,
               r.mode, COALESCE(t.headsign, ''), COALESCE(a.name, ''), t.shape_pk
        FROM tt_trip t
        JOIN tt_route r ON r.version_id = t.version_id AND r.route_pk = t.route_pk
        LEFT JOIN tt_agency a ON a.version_id = r.version_id AND a.agency_pk = r.agency_pk
        JOIN tt_service_date sd ON sd.version_id = t.version_id
             AND sd.service_pk = t.service_pk AND sd.date = %s
        WHERE t.version_id = %s AND t.trip_id = %s
        """,
        [service_date, version.id, trip_id],
    )
    if not head:
        return None
    (trip_pk, trip_id, route_id, short_name, long_name, trip_short_name, mode, headsign,
     agency, shape_pk) = head[0]  # fmt: skip
    base = service_day_start(service_date, version.timezone)
    zone = version.timezone

    def instant(seconds: int | None) -> datetime | None:
        return None if seconds is None else (base + timedelta(seconds=seconds)).astimezone(zone)

    rows = fetch_rows(
        """
        SELECT st.seq, s.stop_id, s.name, s.platform_code, s.lat, s.lon, st.arrival_s,
               st.departure_s, p.stop_id, p.name
        FROM tt_stop_time st
        JOIN tt_stop s ON s.version_id = st.version_id AND s.stop_pk = st.stop_pk
        LEFT JOIN tt_stop p ON p.version_id = s.version_id AND p.stop_pk = s.parent_pk
        WHERE st.version_id = %s AND st.trip_pk = %s
        ORDER BY st.seq
        """,
        [version.id, trip_pk],
    )
    stops = [
        TripStop(
            seq=seq, stop_id=stop_id, name=name, platform=platform, lat=lat, lon=lon,
            arrival=instant(arrival_s), departure=instant(departure_s), parent_stop_id=parent,
            parent_name=parent_name,
        )
        for (seq, stop_id, name, platform, lat, lon, arrival_s, departure_s, parent,
             parent_name) in rows
    ]  # fmt: skip
    return Trip(
        feed=version.feed,
        version_id=version.id,
        trip_id=trip_id,
        route_id=route_id,
        line=line_name(short_name, long_name, trip_short_name, route_id),
        mode=mode,
        headsign=headsign or (stops[-1].name if stops else ""),
        agency=agency,
        service_date=service_date,
        stops=stops,
        shape_pk=shape_pk,
    )


def trip_exists(*, feed: str, trip_id: str) -> bool:
    """Whether the feed's active version has the trip at all, whatever the day."""
    versions = active_versions(feed)
    return bool(versions) and bool(
        fetch_rows(
            "SELECT 1 FROM tt_trip WHERE version_id = %s AND trip_id = %s",
            [versions[0].id, trip_id],
        )
    )


def realtime_trip(*, feed: str, trip_id: str, service_date: date) -> RealtimeTrip | None:
    """What the feed's realtime source last said about the trip that day, if anything."""
    return RealtimeTrip.objects.filter(
        feed__name=feed, trip_id=trip_id, service_date=service_date
    ).first()


@lru_cache(maxsize=2048)
def shape_path(version_id: int, shape_pk: int) -> list[tuple[float, float]]:
    """A shape's points (lat, lon) in order; empty if the version has no such shape. Cached:
    a version's shapes never change, and a feed has few shapes for many journeys."""
    rows = fetch_rows(
        "SELECT path FROM tt_shape WHERE version_id = %s AND shape_pk = %s", [version_id, shape_pk]
    )
    return decode_path(rows[0][0]) if rows else []
