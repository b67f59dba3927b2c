"""JSON: every field of every journey, for programs. Streamed like the CSV. ``schema_version``
changes only when a field is removed or changes meaning; new fields may appear at any time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from checkins.models import CheckIn
from stats.exports.columns import journey_zone
from stats.exports.selectors import ExportSource

SCHEMA_VERSION = 1


def _time(moment: datetime | None, journey: CheckIn) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(journey_zone(journey)).isoformat(timespec="seconds")


def journey_json(journey: CheckIn) -> dict[str, Any]:
    """One journey; times in its own zone with their offset, amounts as decimal strings (a
    float would turn 0.10 into 0.1000000000000000055)."""
    return {
        "id": journey.id,
        "purpose": journey.purpose,
        "mode": journey.mode,
        "line": journey.line_name,
        "trip_id": journey.trip_id or None,
        "operator": journey.operator_name or None,
        "feed": journey.feed_name or None,
        "service_date": journey.service_date.isoformat() if journey.service_date else None,
        "origin": {
            "name": journey.origin_name,
            "lat": journey.origin_lat,
            "lon": journey.origin_lon,
            "stop_id": journey.origin_stop_id or None,
        },
        "destination": {
            "name": journey.destination_name,
            "lat": journey.destination_lat,
            "lon": journey.destination_lon,
            "stop_id": journey.destination_stop_id or None,
        },
        "departure": {
            "planned": _time(journey.departure_planned, journey),
            "real": _time(journey.departure_real, journey),
            "delay_s": journey.departure_delay_s,
        },
        "arrival": {
            "planned": _time(journey.arrival_planned, journey),
            "real": _time(journey.arrival_real, journey),
            "delay_s": journey.arrival_delay_s,
        },
        "time_zone": journey_zone(journey).key,
        "duration_s": journey.duration_s,
        "distance_m": journey.distance_m,
        "distance_method": journey.distance_method or None,
        "message": journey.message,
        "visibility": journey.visibility,
        "ticket_price": None if journey.ticket_price is None else f"{journey.ticket_price:.2f}",
        "cost_centre": journey.cost_centre or None,
        "created_at": _time(journey.created_at, journey),
        "updated_at": _time(journey.updated_at, journey),
    }


def json_chunks(source: ExportSource) -> Iterator[bytes]:
    """The export as one JSON object: the traveller, the filter echoed, the totals (the
    statistics page's), then the journeys oldest first."""
    criteria = source.criteria
    totals = source.totals()
    head = {
        "schema_version": SCHEMA_VERSION,
        "generator": settings.TRAINY_SITE_NAME,
        "exported_at": timezone.localtime().isoformat(timespec="seconds"),
        "traveller": {"username": source.owner.username, "name": source.owner.name},
        "filter": {
            "period": source.options.period,
            "start": criteria.start.isoformat() if criteria.start else None,
            "end": criteria.end.isoformat() if criteria.end else None,
            "purposes": list(criteria.purposes),
            "modes": list(criteria.modes),
            "time_zone": criteria.zone.key,
        },
        "currency": settings.TRAINY_CURRENCY,
        "totals": {
            "journeys": totals.journeys,
            "distance_km": totals.distance_km,
            "hours": totals.hours,
            "distance_m": totals.distance_m,
            "duration_s": totals.duration_s,
            "ticket_price": f"{totals.ticket_price:.2f}",
        },
    }
    # The head without its closing brace, then the journeys one by one.
    opening = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    yield (opening + ',\n "journeys": [').encode()
    separator = "\n  "
    for journey in source.journeys():
        yield (separator + json.dumps(journey_json(journey), ensure_ascii=False)).encode()
        separator = ",\n  "
    yield b"\n ]\n}\n"
