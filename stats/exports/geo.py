"""The journeys' routes as GPX 1.1 (one track per journey) and as a GeoJSON FeatureCollection
(one LineString feature per journey, with its details as properties).

The route is the journey document's geometry (the shape the train ran along, cut at the
traveller's stops). A journey without a document (not enriched yet, or the document store is
away) is drawn as a straight line from its origin to its destination and says so
(``route: "straight"``); one without coordinates either has no geometry (GeoJSON ``null``; left
out of the GPX, whose tracks need points)."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from django.conf import settings
from django.utils import timezone

from checkins.geo import decode_path
from checkins.models import CheckIn
from stats.exports.columns import MODES, PURPOSES, distance_km, journey_zone
from stats.exports.selectors import ExportSource
from trainy.documents import DocumentStoreError, journey_store

logger = logging.getLogger(__name__)

# Documents fetched per round trip to the store.
BATCH = 500
Point = tuple[float, float]


@dataclass(frozen=True)
class Route:
    journey: CheckIn
    points: list[Point]  # (lat, lon); empty: no geometry known
    source: str  # "route" (the document's), "straight" (origin to destination) or "none"


def _straight(journey: CheckIn) -> list[Point]:
    ends = (
        journey.origin_lat,
        journey.origin_lon,
        journey.destination_lat,
        journey.destination_lon,
    )
    if None in ends:
        return []
    return [(ends[0], ends[1]), (ends[2], ends[3])]  # type: ignore[list-item]


def routes(journeys: Iterable[CheckIn]) -> Iterator[Route]:
    """Each journey with its route, documents fetched a batch at a time."""
    iterator = iter(journeys)
    while batch := list(itertools.islice(iterator, BATCH)):
        try:
            documents = journey_store().get_many(journey.id for journey in batch)
        except DocumentStoreError as error:
            logger.warning("routes drawn as straight lines: %s", error)
            documents = {}
        for journey in batch:
            geometry = (documents.get(journey.id) or {}).get("geometry") or {}
            points: list[Point] = []
            if geometry.get("encoding") == "polyline6" and geometry.get("path"):
                points = decode_path(geometry["path"])
            if len(points) >= 2:
                yield Route(journey, points, "route")
                continue
            straight = _straight(journey)
            yield Route(journey, straight, "straight" if straight else "none")


def _utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(moment: datetime | None, journey: CheckIn) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(journey_zone(journey)).isoformat(timespec="seconds")


def _title(journey: CheckIn) -> str:
    return f"{journey.line_name}: {journey.origin_name} → {journey.destination_name}"


def _summary(source: ExportSource) -> str:
    totals = source.totals()
    return (
        f"{source.criteria.describe()} · {totals.journeys} journeys · "
        f"{totals.distance_km:.1f} km · {totals.hours:.1f} h"
    )


def gpx_chunks(source: ExportSource) -> Iterator[bytes]:
    """GPX 1.1: metadata (traveller, range, the totals), then one <trk> per journey with the
    departure and arrival times on its first and last points."""
    owner = source.owner
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<gpx version="1.1" creator={quoteattr(settings.TRAINY_SITE_NAME)} '
        'xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.topografix.com/GPX/1/1 '
        'http://www.topografix.com/GPX/1/1/gpx.xsd">\n'
        "<metadata>"
        f"<name>{escape(f'Journeys of {owner.name}')}</name>"
        f"<desc>{escape(_summary(source))}</desc>"
        f"<author><name>{escape(owner.name)}</name></author>"
        f"<time>{_utc(timezone.now())}</time>"
        "</metadata>\n"
    ).encode()
    for route in routes(source.journeys()):
        if not route.points:
            continue
        journey = route.journey
        km = distance_km(journey)
        desc = " · ".join(
            part
            for part in (
                journey.operator_name,
                f"{km:.1f} km" if km is not None else "",
                "straight line (no route known)" if route.source == "straight" else "",
            )
            if part
        )
        last = len(route.points) - 1
        points = []
        for index, (lat, lon) in enumerate(route.points):
            moment = (
                journey.departure_real or journey.departure_planned
                if index == 0
                else journey.arrival_real or journey.arrival_planned
                if index == last
                else None
            )
            time = f"<time>{_utc(moment)}</time>" if moment else ""
            points.append(f'<trkpt lat="{lat:.6f}" lon="{lon:.6f}">{time}</trkpt>')
        yield (
            f"<trk><name>{escape(_title(journey))}</name>"
            f"<desc>{escape(desc)}</desc>"
            f"<number>{journey.id}</number>"
            f"<type>{escape(journey.mode)}</type>"
            f"<trkseg>{''.join(points)}</trkseg></trk>\n"
        ).encode()
    yield b"</gpx>\n"


def feature(route: Route) -> dict[str, Any]:
    journey = route.journey
    geometry = (
        {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in route.points]}
        if route.points
        else None
    )
    return {
        "type": "Feature",
        "id": journey.id,
        "geometry": geometry,
        "properties": {
            "id": journey.id,
            "title": _title(journey),
            "line": journey.line_name,
            "trip_id": journey.trip_id or None,
            "operator": journey.operator_name or None,
            "mode": journey.mode,
            "mode_label": MODES.get(journey.mode, journey.mode),
            "purpose": journey.purpose,
            "purpose_label": PURPOSES.get(journey.purpose, journey.purpose),
            "origin": journey.origin_name,
            "destination": journey.destination_name,
            "departure_planned": _local(journey.departure_planned, journey),
            "departure_real": _local(journey.departure_real, journey),
            "arrival_planned": _local(journey.arrival_planned, journey),
            "arrival_real": _local(journey.arrival_real, journey),
            "time_zone": journey_zone(journey).key,
            "distance_m": journey.distance_m,
            "duration_s": journey.duration_s,
            "arrival_delay_s": journey.arrival_delay_s,
            "route": route.source,
        },
    }


def geojson_chunks(source: ExportSource) -> Iterator[bytes]:
    """A FeatureCollection (RFC 7946: WGS84, longitude first); the traveller, filter and totals
    ride along as foreign members."""
    criteria = source.criteria
    totals = source.totals()
    head = {
        "type": "FeatureCollection",
        "name": f"Journeys of {source.owner.name}",
        "filter": {
            "start": criteria.start.isoformat() if criteria.start else None,
            "end": criteria.end.isoformat() if criteria.end else None,
            "purposes": list(criteria.purposes),
            "modes": list(criteria.modes),
            "time_zone": criteria.zone.key,
        },
        "totals": {
            "journeys": totals.journeys,
            "distance_km": totals.distance_km,
            "hours": totals.hours,
        },
    }
    yield (json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [').encode()
    separator = "\n"
    for route in routes(source.journeys()):
        yield (separator + json.dumps(feature(route), ensure_ascii=False)).encode()
        separator = ",\n"
    yield b"\n]}\n"
