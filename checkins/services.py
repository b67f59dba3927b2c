"""Writes of the check-in domain. Views, APIs and tasks call these; rules live here once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from checkins.geo import encode_path, path_length_m
from checkins.models import CheckIn, Mode, Purpose, Visibility
from feed.models import User
from trainy.documents import journey_store

# Bumped whenever the document's shape or the enrichment method changes, so old documents can
# be found and rebuilt.
DOCUMENT_VERSION = 1


@transaction.atomic
def checkin_create(
    *,
    user: User,
    origin_name: str,
    destination_name: str,
    departure_planned: datetime,
    arrival_planned: datetime,
    line_name: str,
    mode: str = Mode.OTHER,
    operator_name: str = "",
    origin_coordinates: tuple[float, float] | None = None,
    destination_coordinates: tuple[float, float] | None = None,
    message: str = "",
    visibility: str = Visibility.PUBLIC,
    purpose: str = Purpose.PRIVATE,
) -> CheckIn:
    """Record a journey and queue its enrichment once the transaction has committed.

    Raises django.core.exceptions.ValidationError with per-field messages for bad input.
    """
    checkin = CheckIn(
        user=user,
        mode=mode,
        line_name=line_name,
        operator_name=operator_name,
        origin_name=origin_name,
        destination_name=destination_name,
        departure_planned=departure_planned,
        arrival_planned=arrival_planned,
        message=message,
        visibility=visibility,
        purpose=purpose,
    )
    if origin_coordinates:
        checkin.origin_lat, checkin.origin_lon = origin_coordinates
    if destination_coordinates:
        checkin.destination_lat, checkin.destination_lon = destination_coordinates
    checkin.full_clean()
    checkin.save()
    _enqueue_enrichment(checkin.id)
    return checkin


def _enqueue_enrichment(checkin_id: int) -> None:
    from checkins.tasks import enrich_journey

    # robust: a broker outage is logged, not raised; the check-in is committed either way and
    # the enrichment sweeper queues it again later.
    transaction.on_commit(lambda: enrich_journey.delay(checkin_id), robust=True)


def journey_document_build(*, checkin: CheckIn) -> dict[str, Any]:
    """The journey document of a check-in, computed from its row alone (no side effects)."""
    stops = [
        {
            "name": checkin.origin_name,
            "lat": checkin.origin_lat,
            "lon": checkin.origin_lon,
            "departure_planned": checkin.departure_planned.isoformat(),
        },
        {
            "name": checkin.destination_name,
            "lat": checkin.destination_lat,
            "lon": checkin.destination_lon,
            "arrival_planned": checkin.arrival_planned.isoformat(),
        },
    ]
    coordinates = [
        (checkin.origin_lat, checkin.origin_lon),
        (checkin.destination_lat, checkin.destination_lon),
    ]
    points = [(lat, lon) for lat, lon in coordinates if lat is not None and lon is not None]
    located = len(points) == len(coordinates)
    return {
        "version": DOCUMENT_VERSION,
        "checkin_id": checkin.id,
        "line": {
            "name": checkin.line_name,
            "mode": checkin.mode,
            "operator": checkin.operator_name,
        },
        "stopovers": stops,
        "geometry": (
            {"encoding": "polyline6", "path": encode_path(points), "points": len(points)}
            if located
            else None
        ),
        "distance": (
            {"meters": round(path_length_m(points)), "method": "stop_to_stop"}
            if located
            else {"meters": None, "method": "unknown"}
        ),
        "duration_s": checkin.planned_duration_s,
        "provenance": {"source": "manual"},
    }


def journey_enrich(*, checkin_id: int) -> CheckIn | None:
    """Build and store the journey document, then write its summary back to the check-in.

    Idempotent: the document replaces any earlier one and the summary is overwritten. Returns
    None if the check-in no longer exists. Raises DocumentStoreUnavailable if the store is down
    (the task retries).
    """
    checkin = CheckIn.objects.filter(id=checkin_id).first()
    if checkin is None:
        return None
    document = journey_document_build(checkin=checkin)
    journey_store().put(checkin.id, document)
    CheckIn.objects.filter(id=checkin.id).update(
        distance_m=document["distance"]["meters"],
        distance_method=document["distance"]["method"],
        duration_s=document["duration_s"],
        enriched_at=timezone.now(),
    )
    checkin.refresh_from_db()
    return checkin
