"""Finding a journey logged elsewhere in the local timetable: its station by name or place, its
trip by line and time (checkins.services.imports links imported journeys to what it finds).

A journey matches a trip of an active feed when, on a day the trip runs:
- the trip leaves a stop of the journey's origin within TIME_SLACK_S of its planned departure
  (the origin is every stop whose name is the journey's, case and accents aside, with its
  platforms, and every stop within NEAR_M of the journey's coordinates);
- the trip's line is the journey's ("ICE 1601", "S 7" for "S7", "RE 1" for "RE1 (4242)"), or
  its number is the trip's;
- a later stop of the trip is the journey's destination, by the same rule.
Nothing else is guessed: a journey without a line, or whose line or stations the feed does not
know, stays a manual journey. Only journeys inside a feed's dates are looked at, so a file of
many years costs queries for the few weeks the timetable covers.

Reads only, in plain SQL over the tt_* tables like checkins.timetable.selectors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from checkins.geo import great_circle_m
from checkins.timetable.gtfs import search_form
from checkins.timetable.selectors import (
    ActiveVersion,
    Trip,
    TripStop,
    active_versions,
    fetch_rows,
    line_name,
    normalise_query,
    placeholders,
    service_day_start,
    trip_get,
)

# Planned times of one train in two sources differ by a minute at most (rounding, a
# timetable change at the edges).
TIME_SLACK_S = 120
# A station's platforms and entrances lie within a few hundred metres of its point.
NEAR_M = 300
# Trips looked at per journey, nearest departure first (a station with several lines leaving
# in the same two minutes).
CANDIDATES = 3
# Names per query.
CHUNK = 500


# A stop of the timetable: its key in the version (stop_pk), and its id in the feed.
Stop = tuple[int, str]


@dataclass(frozen=True)
class Place:
    name: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class Wanted:
    """A journey as another service logged it."""

    origin: Place
    destination: Place
    departure: datetime  # planned, aware
    line: str
    number: str = ""


@dataclass(frozen=True)
class TripMatch:
    trip: Trip
    entry: TripStop
    exit: TripStop


def trips_matching(wanted: Sequence[Wanted]) -> dict[int, TripMatch]:
    """The trips of the active timetable that the journeys ``wanted`` were on, by their index
    in ``wanted``; journeys without a match are left out."""
    found: dict[int, TripMatch] = {}
    for version in active_versions():
        days = {
            index: _service_days(version, journey.departure)
            for index, journey in enumerate(wanted)
            if index not in found and _line_words(journey.line, journey.number)
        }
        days = {index: candidates for index, candidates in days.items() if candidates}
        if not days:
            continue
        stops = _StopFinder(version, [wanted[index] for index in days])
        for index, candidates in days.items():
            match = _match(version, wanted[index], candidates, stops)
            if match is not None:
                found[index] = match
    return found


def _service_days(version: ActiveVersion, departure: datetime) -> list[tuple[date, int]]:
    """The service days, within the version's dates, that a trip leaving at ``departure`` may
    belong to, each with the departure's seconds from that day's GTFS zero: the local day, and
    the day before for trips running past midnight (times past 24:00)."""
    local_day = departure.astimezone(version.timezone).date()
    days = []
    for day in (local_day, local_day - timedelta(days=1)):
        seconds = int((departure - service_day_start(day, version.timezone)).total_seconds())
        if seconds > version.max_departure_s + TIME_SLACK_S:
            continue
        if version.start_date and day < version.start_date:
            continue
        if version.end_date and day > version.end_date:
            continue
        days.append((day, seconds))
    return days


class _StopFinder:
    """The stops of one version that are a journey's origin or destination, read for all the
    journeys of a file at once by name; by place, one query per distinct point."""

    def __init__(self, version: ActiveVersion, journeys: Sequence[Wanted]) -> None:
        self.version = version
        names = {
            search_form(place.name)
            for journey in journeys
            for place in (journey.origin, journey.destination)
        } - {""}
        self.by_name: dict[str, set[Stop]] = {}
        ordered = sorted(names)
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start : start + CHUNK]
            rows = fetch_rows(
                f"""
                SELECT s.search_name, s.stop_pk, s.stop_id FROM tt_stop s
                WHERE s.version_id = %s AND s.search_name IN ({placeholders(chunk)})
                UNION ALL
                SELECT p.search_name, c.stop_pk, c.stop_id FROM tt_stop p
                JOIN tt_stop c ON c.version_id = p.version_id AND c.parent_pk = p.stop_pk
                WHERE p.version_id = %s AND p.search_name IN ({placeholders(chunk)})
                """,
                [version.id, *chunk, version.id, *chunk],
            )
            for name, stop_pk, stop_id in rows:
                self.by_name.setdefault(name, set()).add((stop_pk, stop_id))
        self.by_point: dict[tuple[float, float], set[Stop]] = {}

    def of(self, place: Place) -> set[Stop]:
        found = set(self.by_name.get(search_form(place.name), ()))
        if place.lat is not None and place.lon is not None:
            point = (round(place.lat, 5), round(place.lon, 5))
            if point not in self.by_point:
                self.by_point[point] = self._near(*point)
            found |= self.by_point[point]
        return found

    def _near(self, lat: float, lon: float) -> set[Stop]:
        dlat = NEAR_M / 111_195
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        rows = fetch_rows(
            """
            SELECT stop_pk, stop_id, lat, lon FROM tt_stop
            WHERE lat BETWEEN %s AND %s AND lon BETWEEN %s AND %s AND version_id = %s
            """,
            [lat - dlat, lat + dlat, lon - dlon, lon + dlon, self.version.id],
        )
        return {
            (stop_pk, stop_id)
            for stop_pk, stop_id, stop_lat, stop_lon in rows
            if great_circle_m(lat, lon, stop_lat, stop_lon) <= NEAR_M
        }


def _match(
    version: ActiveVersion,
    journey: Wanted,
    days: list[tuple[date, int]],
    stops: _StopFinder,
) -> TripMatch | None:
    origin = stops.of(journey.origin)
    if not origin:
        return None
    destination: set[Stop] | None = None
    words = _line_words(journey.line, journey.number)
    for day, seconds in days:
        ordered = sorted(
            _departures(version, {pk for pk, _ in origin}, day, seconds),
            key=lambda row: abs(row[2] - seconds),
        )
        tried = 0
        for trip_id, _, _, trip_short, route_short, route_long, route_id in ordered:
            line = line_name(route_short, route_long, trip_short, route_id)
            if not _same_line(words, _line_words(line, trip_short or "")):
                continue
            tried += 1
            if tried > CANDIDATES:
                break
            trip = trip_get(feed=version.feed, trip_id=trip_id, service_date=day)
            if trip is None:
                continue
            if destination is None:
                destination = stops.of(journey.destination)
            match = _ends(trip, origin, destination, seconds, day, version.timezone)
            if match is not None:
                return match
    return None


def _departures(
    version: ActiveVersion, stop_pks: set[int], day: date, seconds: int
) -> list[tuple[str, int, int, str | None, str | None, str | None, str]]:
    """Trips running on ``day`` that leave one of ``stop_pks`` within the slack of
    ``seconds`` (the departure board's index: stop, then time)."""
    ordered = sorted(stop_pks)
    return fetch_rows(
        f"""
        SELECT t.trip_id, st.seq, st.departure_s, t.short_name, r.short_name, r.long_name,
               r.route_id
        FROM tt_stop_time st
        JOIN tt_service_date sd ON sd.version_id = st.version_id
             AND sd.service_pk = st.service_pk AND sd.date = %s
        JOIN tt_trip t ON t.version_id = st.version_id AND t.trip_pk = st.trip_pk
        JOIN tt_route r ON r.version_id = t.version_id AND r.route_pk = t.route_pk
        WHERE st.version_id = %s AND st.stop_pk IN ({placeholders(ordered)})
          AND st.departure_s BETWEEN %s AND %s
        """,
        [day, version.id, *ordered, seconds - TIME_SLACK_S, seconds + TIME_SLACK_S],
    )


def _ends(
    trip: Trip,
    origin: set[Stop],
    destination: set[Stop],
    seconds: int,
    day: date,
    zone: ZoneInfo,
) -> TripMatch | None:
    """The journey's entry and exit stops on ``trip``: the entry leaving within the slack,
    the first later stop that is the destination."""
    entry_ids = {stop_id for _, stop_id in origin}
    exit_ids = {stop_id for _, stop_id in destination}
    base = service_day_start(day, zone)
    for position, stop in enumerate(trip.stops):
        if stop.stop_id not in entry_ids or stop.departure is None:
            continue
        if abs((stop.departure - base).total_seconds() - seconds) > TIME_SLACK_S:
            continue
        for later in trip.stops[position + 1 :]:
            if later.stop_id in exit_ids:
                return TripMatch(trip=trip, entry=stop, exit=later)
    return None


_WORD = re.compile(r"[^\W_]+")


def _line_words(line: str, number: str) -> frozenset[str]:
    """A line's name as words, letters and digits apart ("RE1" is "re", "1"), with its
    number; nothing for a line logged without a name."""
    words = {
        part
        for word in _WORD.findall(normalise_query(f"{line} {number}"))
        for part in re.findall(r"\d+|\D+", word)
    }
    return frozenset(words - {"?"})


def _same_line(journey: frozenset[str], timetable: frozenset[str]) -> bool:
    """The same line when one's words are all the other's and they share a number ("ICE
    1601" and "ICE 16 1601"; "100" and "Bus 100"): a number is what tells lines apart."""
    if not journey or not timetable:
        return False
    shared = journey & timetable
    return any(word.isdigit() for word in shared) and (journey <= timetable or timetable <= journey)
