"""GTFS-Realtime TripUpdates: real times for the timetable's trips.

The one module that reads GTFS-Realtime (protobuf, through gtfs-realtime-bindings). A feed's
TripUpdates message is matched against the feed's active timetable and each trip's real times
are stored, resolved to one entry per stop (checkins.timetable.models.RealtimeTrip), so that
readers never deal with the protocol's shortcuts:

- a stop time event gives an absolute ``time``, a ``delay`` against the timetable, or both;
- a delay carries on to the later stops the update says nothing about, until the next stop it
  does report (the GTFS-Realtime propagation rule); NO_DATA stops that; SKIPPED stops are marked;
- ``stop_sequence`` and ``stop_id`` do not always agree with the timetable in real feeds: the
  sequence is used when its stop matches, otherwise the stop id (or its parent station);
- the service day is the TripDescriptor's ``start_date``, or, when a feed leaves it out, the day
  (of the two the trip's times could belong to) on which the trip runs closest to the reported
  times.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2

from checkins.timetable.models import Feed, RealtimeTrip
from checkins.timetable.selectors import Trip, TripStop, active_versions, trip_exists, trip_get
from trainy.fetch import FetchError, read

# A whole country's TripUpdates take some tens of MB; a message is held in memory to be parsed.
REALTIME_MAX_BYTES = 256 * 1024 * 1024
# A trip whose reported times are further than this from its timetable on every candidate day
# is taken for another day's run (or a different trip reusing the id) and left alone.
MAX_SCHEDULE_OFFSET_S = 6 * 3600

_TripUpdate = Any  # gtfs_realtime_pb2.TripUpdate: the generated classes carry no type hints
_StopTimeUpdate = Any

SCHEDULED = gtfs_realtime_pb2.TripUpdate.StopTimeUpdate.SCHEDULED
SKIPPED = gtfs_realtime_pb2.TripUpdate.StopTimeUpdate.SKIPPED
NO_DATA = gtfs_realtime_pb2.TripUpdate.StopTimeUpdate.NO_DATA
TRIP_CANCELED = gtfs_realtime_pb2.TripDescriptor.CANCELED
TRIP_ADDED = gtfs_realtime_pb2.TripDescriptor.ADDED


class RealtimeError(Exception):
    """A realtime message that cannot be used, with what is wrong and where."""


@dataclass
class RealtimeResult:
    feed: str
    source: str
    observed_at: datetime
    trip_updates: int = 0
    stored: int = 0
    canceled: int = 0
    # Trips the timetable does not know, trips it has but not on any day that fits, trips the
    # message adds to the timetable (not tracked: nobody can check in to them from a board).
    unknown: list[str] = field(default_factory=list)
    not_running: list[str] = field(default_factory=list)
    added: int = 0
    # Older than what is stored already for the trip: not applied.
    outdated: int = 0
    changed: list[tuple[str, date]] = field(default_factory=list)

    def describe(self) -> str:
        parts = [
            f"{self.trip_updates} trip updates from {self.source or 'the message'} "
            f"({self.observed_at:%Y-%m-%d %H:%M:%S} UTC)",
            f"{self.stored} trips stored ({self.canceled} canceled)",
        ]
        if self.unknown:
            parts.append(f"{len(self.unknown)} not in the timetable")
        if self.not_running:
            parts.append(f"{len(self.not_running)} not running on any day that fits")
        if self.added:
            parts.append(f"{self.added} added trips ignored")
        if self.outdated:
            parts.append(f"{self.outdated} older than what was stored")
        return "; ".join(parts)


def fetch(url: str) -> bytes:
    """The message at ``url``, fetched by the rules of trainy.fetch (http(s), public addresses
    unless TRAINY_IMPORT_ALLOW_PRIVATE, at most REALTIME_MAX_BYTES). Raises RealtimeError."""
    try:
        return read(url, max_bytes=REALTIME_MAX_BYTES, limit="for a realtime message")
    except FetchError as error:
        raise RealtimeError(f"{url}: {error}") from None


def parse(data: bytes, source: str) -> Any:
    message = gtfs_realtime_pb2.FeedMessage()
    try:
        message.ParseFromString(data)
    except DecodeError as exc:
        raise RealtimeError(f"{source}: not a GTFS-Realtime FeedMessage ({exc})") from None
    if not message.HasField("header") or not message.header.gtfs_realtime_version:
        raise RealtimeError(f"{source}: not a GTFS-Realtime FeedMessage (no header)")
    return message


def realtime_ingest(*, feed: str, data: bytes, source: str = "") -> RealtimeResult:
    """Apply a TripUpdates message to ``feed``'s trips; returns what it did. Vehicle positions
    and alerts in the message are ignored. Raises RealtimeError for an unknown feed or a
    message that does not parse."""
    source = source or f"the {feed} realtime feed"
    feed_row = Feed.objects.filter(name=feed).first()
    versions = active_versions(feed)
    if feed_row is None or not versions:
        raise RealtimeError(f"{source}: there is no active timetable named {feed!r}")
    message = parse(data, source)
    observed = datetime.fromtimestamp(message.header.timestamp or 0, UTC)
    if not message.header.timestamp:
        observed = timezone.now()
    result = RealtimeResult(feed=feed, source=source, observed_at=observed)
    zone = versions[0].timezone
    rows: dict[tuple[str, date], RealtimeTrip] = {}
    for entity in message.entity:
        if not entity.HasField("trip_update"):
            continue
        update = entity.trip_update
        result.trip_updates += 1
        descriptor = update.trip
        if descriptor.schedule_relationship == TRIP_ADDED:
            result.added += 1
            continue
        trip = _trip_for(feed, update, zone, observed)
        if isinstance(trip, str):
            (result.unknown if trip == "unknown" else result.not_running).append(descriptor.trip_id)
            continue
        canceled = descriptor.schedule_relationship == TRIP_CANCELED
        rows[(trip.trip_id, trip.service_date)] = RealtimeTrip(
            feed=feed_row,
            trip_id=trip.trip_id,
            service_date=trip.service_date,
            canceled=canceled,
            stops=[] if canceled else real_times(trip, update.stop_time_update),
            observed_at=observed,
        )
        result.canceled += canceled
    _store(feed_row, rows, result)
    return result


def _store(feed: Feed, rows: dict[tuple[str, date], RealtimeTrip], result: RealtimeResult) -> None:
    with transaction.atomic():
        # A message older than what a trip already has (fetched out of order) changes nothing.
        stored = RealtimeTrip.objects.select_for_update().filter(
            feed=feed, trip_id__in={trip_id for trip_id, _ in rows}
        )
        for trip_id, service_date, observed_at in stored.values_list(
            "trip_id", "service_date", "observed_at"
        ):
            key = (trip_id, service_date)
            if key in rows and observed_at > rows[key].observed_at:
                del rows[key]
                result.outdated += 1
        now = timezone.now()
        for row in rows.values():
            row.created_at = row.updated_at = now
        RealtimeTrip.objects.bulk_create(
            rows.values(),
            update_conflicts=True,
            unique_fields=["feed", "trip_id", "service_date"],
            update_fields=["canceled", "stops", "observed_at", "updated_at"],
        )
    result.stored = len(rows)
    result.changed = sorted(rows)


# --- Matching a trip update to the timetable ---------------------------------------------------


def _trip_for(feed: str, update: _TripUpdate, zone: Any, observed: datetime) -> Trip | str:
    """The timetable trip (on its service day) the update is about, or why there is none:
    "unknown" (no such trip id) or "not running"."""
    descriptor = update.trip
    if descriptor.start_date:
        try:
            days = [datetime.strptime(descriptor.start_date, "%Y%m%d").date()]
        except ValueError:
            return "unknown"
    else:
        # A trip's times can run past midnight (25:10:00), so a reported time belongs to the
        # trip of that local day or of the day before.
        instants = _event_times(update.stop_time_update) or [int(observed.timestamp())]
        local = datetime.fromtimestamp(min(instants), zone).date()
        days = [local, local - timedelta(days=1)]
    best: tuple[float, Trip] | None = None
    exists = False
    for day in days:
        trip = trip_get(feed=feed, trip_id=descriptor.trip_id, service_date=day)
        if trip is None:
            exists = exists or trip_exists(feed=feed, trip_id=descriptor.trip_id)
            continue
        exists = True
        offset = _schedule_offset(trip, update.stop_time_update)
        if best is None or offset < best[0]:
            best = (offset, trip)
    if best is not None and best[0] <= MAX_SCHEDULE_OFFSET_S:
        return best[1]
    return "not running" if exists else "unknown"


def _event_times(updates: Iterable[_StopTimeUpdate]) -> list[int]:
    times = []
    for stu in updates:
        for name in ("arrival", "departure"):
            if stu.HasField(name) and getattr(stu, name).time:
                times.append(getattr(stu, name).time)
    return times


def _schedule_offset(trip: Trip, updates: Iterable[_StopTimeUpdate]) -> float:
    """How far (median, seconds) the reported absolute times are from the trip's timetable on
    its day; 0 when the update has delays only (they are relative to that day already)."""
    offsets = []
    last = -1
    for stu in updates:
        position = _position(trip, stu, after=last)
        if position is None:
            continue
        last = position
        stop = trip.stops[position]
        for name, planned in (("arrival", stop.arrival), ("departure", stop.departure)):
            planned = planned or stop.departure or stop.arrival
            if stu.HasField(name) and getattr(stu, name).time and planned is not None:
                offsets.append(abs(getattr(stu, name).time - planned.timestamp()))
    return statistics.median(offsets) if offsets else 0.0


def _same_stop(stop: TripStop, stop_id: str) -> bool:
    return stop_id in (stop.stop_id, stop.parent_stop_id)


def _position(trip: Trip, stu: _StopTimeUpdate, *, after: int) -> int | None:
    """Index in ``trip.stops`` of the stop ``stu`` reports, looking past ``after`` first."""
    if stu.HasField("stop_sequence"):
        for index, stop in enumerate(trip.stops):
            if stop.seq == stu.stop_sequence and (not stu.stop_id or _same_stop(stop, stu.stop_id)):
                return index
    if stu.stop_id:
        matches = [i for i, stop in enumerate(trip.stops) if _same_stop(stop, stu.stop_id)]
        later = [i for i in matches if i > after]
        return (later or matches)[0] if matches else None
    return None


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def _event(stu: _StopTimeUpdate, name: str, planned: int | None) -> int | None:
    """The real time of a stop time event: its absolute time, else the planned time plus its
    delay."""
    if not stu.HasField(name):
        return None
    event = getattr(stu, name)
    if event.time:
        return int(event.time)
    if event.HasField("delay") and planned is not None:
        return planned + event.delay
    return None


def real_times(trip: Trip, updates: Iterable[_StopTimeUpdate]) -> list[dict[str, Any]]:
    """One entry per stop of ``trip`` that has a real time (see RealtimeTrip.stops)."""
    reported: dict[int, _StopTimeUpdate] = {}
    last = -1
    for stu in updates:
        position = _position(trip, stu, after=last)
        if position is not None:
            reported[position] = stu
            last = position
    entries: list[dict[str, Any]] = []
    carried: int | None = None  # the delay in force, from the last stop reported
    for index, stop in enumerate(trip.stops):
        planned_arrival = _epoch(stop.arrival or stop.departure)
        planned_departure = _epoch(stop.departure or stop.arrival)
        stu = reported.get(index)
        if stu is not None and stu.schedule_relationship == SKIPPED:
            entries.append({"seq": stop.seq, "arrival": None, "departure": None,
                            "skipped": True, "carried": False})  # fmt: skip
            continue
        if stu is not None and stu.schedule_relationship == NO_DATA:
            carried = None
            continue
        if stu is not None:
            arrival = _event(stu, "arrival", planned_arrival)
            departure = _event(stu, "departure", planned_departure)
            # Only one of the two reported: the other runs as late as it.
            if arrival is None and departure is not None and planned_arrival is not None:
                arrival = min(departure, planned_arrival + (departure - planned_departure))  # type: ignore[operator]
            if departure is None and arrival is not None and planned_departure is not None:
                departure = max(arrival, planned_departure + (arrival - planned_arrival))  # type: ignore[operator]
            if departure is not None and planned_departure is not None:
                carried = departure - planned_departure
            elif arrival is not None and planned_arrival is not None:
                carried = arrival - planned_arrival
            if arrival is None and departure is None:
                continue
            entries.append({"seq": stop.seq, "arrival": arrival, "departure": departure,
                            "skipped": False, "carried": False})  # fmt: skip
        elif carried is not None and planned_arrival is not None and planned_departure is not None:
            entries.append({"seq": stop.seq, "arrival": planned_arrival + carried,
                            "departure": planned_departure + carried, "skipped": False,
                            "carried": True})  # fmt: skip
    return entries
