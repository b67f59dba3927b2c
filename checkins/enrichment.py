"""Building a journey's document: its stopovers, its route geometry and how far it went.

Pure computation over the check-in row and the timetable (no writes):
checkins.services.enrichment_lifecycle stores the result. A trip journey is looked up in its
feed's active timetable by trip id and service day; its geometry is the trip's shape cut
between the entry and exit stops when the feed has shapes, otherwise the line through its
stops.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from checkins.geo import MAP_PRECISION, encode_path, path_length_m, simplify_path
from checkins.models import CheckIn
from checkins.timetable.models import RealtimeTrip
from checkins.timetable.selectors import Trip, TripStop, realtime_trip, shape_path, trip_get

# Bumped whenever the document's shape or the enrichment method changes, so old documents can
# be found and rebuilt. 4: the geometry has an overview.
DOCUMENT_VERSION = 4

# The overview of a route, for maps of many journeys (the statistics map): the points that
# Douglas–Peucker keeps within 10 m of the route, at most 100, encoded at the map's precision
# (about a metre). The MTA subway's whole shapes (a point every 44 m or so, 581 at the median)
# keep 50 at the median at this tolerance, and 12 of the 257 reach the budget: it binds only
# on long or very winding routes, drawn at a zoom where 100 points are plenty.
OVERVIEW_TOLERANCE_M = 10
OVERVIEW_MAX_POINTS = 100

Point = tuple[float, float]


def _stopover(stop: TripStop, real: dict[str, Any] | None) -> dict[str, Any]:
    planned = stop.arrival or stop.departure
    zone = planned.tzinfo if planned else None  # real times in the feed's zone, like planned

    def moment(seconds: int | None) -> str | None:
        return None if seconds is None else datetime.fromtimestamp(seconds, zone).isoformat()

    stopover = {
        "stop_id": stop.stop_id,
        "name": stop.name,
        "platform": stop.platform,
        "lat": stop.lat,
        "lon": stop.lon,
        "arrival_planned": stop.arrival.isoformat() if stop.arrival else None,
        "departure_planned": stop.departure.isoformat() if stop.departure else None,
        "arrival_real": None,
        "departure_real": None,
        "realtime": None,
    }
    if real is not None:
        stopover["arrival_real"] = moment(real["arrival"])
        stopover["departure_real"] = moment(real["departure"])
        # "reported" by the feed, "carried" on from an earlier stop's delay, or "skipped".
        stopover["realtime"] = (
            "skipped" if real["skipped"] else "carried" if real["carried"] else "reported"
        )
    return stopover


def cut_shape(shape: list[Point], stops: list[Point]) -> list[Point]:
    """The part of ``shape`` from the point nearest the first stop to the point nearest the
    last, found in travel order (each stop is matched at or after the previous one, so a line
    that passes a place twice is cut at the right pass)."""
    start = 0
    indexes = []
    for lat, lon in stops:
        # Nearest by a flat-earth distance: exact enough between a stop and its own line, and
        # far cheaper than great circles over every shape point.
        scale = math.cos(math.radians(lat)) ** 2
        best = min(
            range(start, len(shape)),
            key=lambda i: (shape[i][0] - lat) ** 2 + scale * (shape[i][1] - lon) ** 2,
        )
        indexes.append(best)
        start = best
    first, last = indexes[0], indexes[-1]
    piece = shape[first : last + 1]
    # The stops themselves start and end the line, not the nearest shape points.
    return [stops[0], *piece[1:-1], stops[-1]] if len(piece) >= 2 else [stops[0], stops[-1]]


def _manual_document(checkin: CheckIn) -> dict[str, Any]:
    stops = [
        {"name": checkin.origin_name, "lat": checkin.origin_lat, "lon": checkin.origin_lon,
         "departure_planned": checkin.departure_planned.isoformat()},
        {"name": checkin.destination_name, "lat": checkin.destination_lat,
         "lon": checkin.destination_lon, "arrival_planned": checkin.arrival_planned.isoformat()},
    ]  # fmt: skip
    points: list[Point] = [
        (checkin.origin_lat, checkin.origin_lon),  # type: ignore[list-item]
        (checkin.destination_lat, checkin.destination_lon),  # type: ignore[list-item]
    ]
    located = None not in (*points[0], *points[1])
    return _document(
        checkin,
        stops,
        points if located else None,
        method="stop_to_stop" if located else "unknown",
        provenance={"source": "manual"},
    )


def imported_document(
    checkin: CheckIn, stopovers: list[dict[str, Any]], *, provenance: dict[str, Any]
) -> dict[str, Any]:
    """The document of an imported journey, from what its source had: its stopovers (else its
    two ends) with their planned and real times, its real times and its distance as the row
    holds them (checkins.services.imports sets them from the source)."""
    if len(stopovers) < 2:
        stopovers = [
            {"name": checkin.origin_name, "lat": checkin.origin_lat, "lon": checkin.origin_lon,
             "departure_planned": checkin.departure_planned.isoformat(),
             "departure_real": _iso(checkin.departure_real)},
            {"name": checkin.destination_name, "lat": checkin.destination_lat,
             "lon": checkin.destination_lon, "arrival_planned": checkin.arrival_planned.isoformat(),
             "arrival_real": _iso(checkin.arrival_real)},
        ]  # fmt: skip
    points = [(stop["lat"], stop["lon"]) for stop in stopovers]
    located = all(None not in point for point in points)
    document = _document(
        checkin, stopovers, points if located else None, method="", provenance=provenance
    )
    document["distance"] = {"meters": checkin.distance_m, "method": checkin.distance_method}
    document["times"]["departure_real"] = _iso(checkin.departure_real)
    document["times"]["arrival_real"] = _iso(checkin.arrival_real)
    return document


def matched_import_document(
    checkin: CheckIn, trip: Trip, *, provenance: dict[str, Any]
) -> dict[str, Any] | None:
    """The document of an imported journey that the local timetable has (its row names the
    trip, entry and exit) and whose source had only its two ends: the trip's stops and shape
    between them, with the source's real times, and its distance when it had one. None if the
    trip has not both stops."""
    document = _trip_document(checkin, trip)
    if document is None:
        return None
    document["provenance"] = {**provenance, "timetable": document["provenance"]}
    document["times"]["departure_real"] = _iso(checkin.departure_real)
    document["times"]["arrival_real"] = _iso(checkin.arrival_real)
    if checkin.distance_method == "source":
        document["distance"] = {"meters": checkin.distance_m, "method": "source"}
    return document


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _document(
    checkin: CheckIn,
    stopovers: list[dict[str, Any]],
    path: list[Point] | None,
    *,
    method: str,
    provenance: dict[str, Any],
) -> dict[str, Any]:
    first, last = (stopovers[0], stopovers[-1]) if stopovers else ({}, {})
    return {
        "version": DOCUMENT_VERSION,
        "checkin_id": checkin.id,
        "line": {
            "name": checkin.line_name,
            "mode": checkin.mode,
            "operator": checkin.operator_name,
        },
        "stopovers": stopovers,
        "geometry": route_geometry(path) if path else None,
        "distance": {
            "meters": round(path_length_m(path)) if path else None,
            "method": method,
        },
        "duration_s": checkin.planned_duration_s,
        # The journey's own ends, for the check-in row: real times when the feed told them.
        "times": {
            "departure_planned": checkin.departure_planned.isoformat(),
            "arrival_planned": checkin.arrival_planned.isoformat(),
            "departure_real": first.get("departure_real"),
            "arrival_real": last.get("arrival_real"),
        },
        "provenance": provenance,
    }


def route_geometry(path: list[Point]) -> dict[str, Any]:
    """The document's geometry for a route of two or more (lat, lon) points: the whole route
    (an encoded polyline of precision 6) and its overview (see OVERVIEW_MAX_POINTS; precision
    5)."""
    overview = simplify_path(path, tolerance_m=OVERVIEW_TOLERANCE_M, max_points=OVERVIEW_MAX_POINTS)
    return {
        "encoding": "polyline6",
        "path": encode_path(path),
        "points": len(path),
        "overview": {
            "encoding": f"polyline{MAP_PRECISION}",
            "path": encode_path(overview, MAP_PRECISION),
            "points": len(overview),
            "tolerance_m": OVERVIEW_TOLERANCE_M,
        },
    }


def _trip_document(checkin: CheckIn, trip: Trip) -> dict[str, Any] | None:
    on_board = [
        stop
        for stop in trip.stops
        if checkin.origin_seq is not None
        and checkin.destination_seq is not None
        and checkin.origin_seq <= stop.seq <= checkin.destination_seq
    ]
    if len(on_board) < 2:
        return None
    realtime = realtime_trip(feed=trip.feed, trip_id=trip.trip_id, service_date=trip.service_date)
    real = _real_by_seq(realtime)
    stop_points = [(stop.lat, stop.lon) for stop in on_board]
    located = all(lat is not None and lon is not None for lat, lon in stop_points)
    path: list[Point] | None = None
    method = "unknown"
    if located:
        points: list[Point] = [(float(lat), float(lon)) for lat, lon in stop_points]  # type: ignore[arg-type]
        shape = shape_path(trip.version_id, trip.shape_pk) if trip.shape_pk else None
        if shape and len(shape) >= 2:
            path, method = cut_shape(shape, points), "shape"
        else:
            path, method = points, "stop_to_stop"
    provenance: dict[str, Any] = {
        "source": "gtfs",
        "feed": trip.feed,
        "feed_version": trip.version_id,
        "trip_id": trip.trip_id,
        "service_date": trip.service_date.isoformat(),
    }
    if realtime is not None:
        provenance["realtime"] = {
            "source": "gtfs-rt",
            "observed_at": realtime.observed_at.isoformat(),
            "canceled": realtime.canceled,
        }
    return _document(
        checkin,
        [_stopover(stop, real.get(stop.seq)) for stop in on_board],
        path,
        method=method,
        provenance=provenance,
    )


def _real_by_seq(realtime: RealtimeTrip | None) -> dict[int, dict[str, Any]]:
    if realtime is None or realtime.canceled:
        return {}
    return {entry["seq"]: entry for entry in realtime.stops}


def build_document(checkin: CheckIn) -> dict[str, Any]:
    """The journey document for ``checkin``.

    A trip journey whose trip the active timetable no longer has (a newer feed version dropped
    it) falls back to what the row itself records, and says so in its provenance.
    """
    if checkin.trip_id and checkin.service_date:
        trip = trip_get(
            feed=checkin.feed_name, trip_id=checkin.trip_id, service_date=checkin.service_date
        )
        document = _trip_document(checkin, trip) if trip else None
        if document is not None:
            return document
        fallback = _manual_document(checkin)
        fallback["provenance"] = {
            "source": "checkin",
            "note": "the trip is no longer in the active timetable",
            "feed": checkin.feed_name,
            "trip_id": checkin.trip_id,
        }
        return fallback
    return _manual_document(checkin)
