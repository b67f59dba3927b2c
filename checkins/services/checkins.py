"""Check-ins: recording, changing and deleting a journey, and the rules a journey must keep."""

from __future__ import annotations

import logging
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import EllipsisType
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from checkins.geo import great_circle_m
from checkins.models import CheckIn, Mode, Purpose
from checkins.services.enrichment_lifecycle import enrichment_queue
from checkins.timetable.selectors import Trip, trip_get
from feed.models import WebhookEvent
from feed.selectors import webhook_checkin_payload
from feed.services.webhooks import webhooks_emit
from trainy import metrics
from trainy.accounts.models import User
from trainy.documents import DocumentStoreError, journey_store
from trainy.generations import FEED, RANKS, STATS
from trainy.services import model_update

logger = logging.getLogger(__name__)

# Faster than any train in service (the fastest scheduled run is about 350 km/h).
MAX_SPEED_KMH = 500


class CheckInOverlap(Exception):
    """The journey overlaps others of the traveller; pass ``allow_overlap=True`` to insist."""

    def __init__(self, overlapping: list[CheckIn]) -> None:
        self.overlapping = overlapping
        super().__init__(f"overlaps {len(overlapping)} other journey(s)")


@dataclass(frozen=True)
class Place:
    name: str
    lat: float | None = None
    lon: float | None = None
    stop_id: str = ""
    seq: int | None = None


def check_plausible(
    *, origin: Place, destination: Place, departure: datetime, arrival: datetime
) -> None:
    """A journey's times and speed as a check-in's (and an import's) rules want them:
    ValidationError with the message for the arrival field otherwise."""
    seconds = (arrival - departure).total_seconds()
    if seconds <= 0:
        raise ValidationError({"arrival_planned": "The arrival must be after the departure."})
    if seconds >= 72 * 3600:
        raise ValidationError({"arrival_planned": "A journey must be shorter than 72 hours."})
    if None not in (origin.lat, origin.lon, destination.lat, destination.lon):
        km = great_circle_m(origin.lat, origin.lon, destination.lat, destination.lon) / 1000  # type: ignore[arg-type]
        speed = km / (seconds / 3600)
        if speed > MAX_SPEED_KMH:
            raise ValidationError(
                {
                    "arrival_planned": (
                        f"{km:,.0f} km in {seconds / 60:,.0f} minutes would be {speed:,.0f} km/h: "
                        "please check the times."
                    )
                }
            )


def _earlier_submit_or_overlapping(
    user: User, idempotency_key: uuid.UUID | None, departure: datetime, arrival: datetime
) -> tuple[CheckIn | None, list[CheckIn]]:
    """The journey an earlier submit of the same form created, else the traveller's journeys
    that overlap this one: both in one query, as they are asked on every check-in."""
    clashes = Q(departure_planned__lt=arrival, arrival_planned__gt=departure)
    if idempotency_key is not None:
        clashes |= Q(idempotency_key=idempotency_key)
    found = list(CheckIn.objects.filter(clashes, user=user).order_by("departure_planned")[:6])
    earlier = None
    if idempotency_key is not None:
        earlier = next((c for c in found if c.idempotency_key == idempotency_key), None)
    return earlier, found[:5]


def _emit(event: WebhookEvent, checkin: CheckIn) -> None:
    """Tell the traveller's webhooks (theirs only) about their journey; see webhooks_emit.
    The traveller is the journey's (loaded already by the check-in and by checkin_owned)."""
    webhooks_emit(
        event=event,
        owner=checkin.user,
        payload=lambda: webhook_checkin_payload(checkin=checkin),
    )


def checkin_create(
    *,
    user: User,
    origin: Place,
    destination: Place,
    departure_planned: datetime,
    arrival_planned: datetime,
    line_name: str,
    mode: str = Mode.OTHER,
    operator_name: str = "",
    message: str = "",
    visibility: str | None = None,
    purpose: str = Purpose.PRIVATE,
    time_zone: str = "",
    trip: tuple[str, int, str, date] | None = None,
    idempotency_key: uuid.UUID | None = None,
    allow_overlap: bool = False,
) -> CheckIn:
    """Record a journey and queue its enrichment once the transaction has committed.

    ``trip`` is (feed name, feed version id, trip id, service date) for timetable journeys.
    The same ``idempotency_key`` twice (a double submit) returns the first journey. Raises
    ValidationError with per-field messages for bad input, CheckInOverlap when the traveller
    is already travelling then and ``allow_overlap`` is not set.
    """
    earlier, overlapping = _earlier_submit_or_overlapping(
        user, idempotency_key, departure_planned, arrival_planned
    )
    if earlier is not None:
        return earlier
    check_plausible(
        origin=origin, destination=destination, departure=departure_planned, arrival=arrival_planned
    )
    if overlapping and not allow_overlap:
        raise CheckInOverlap(overlapping)
    checkin = CheckIn(
        user=user,
        mode=mode,
        line_name=line_name,
        operator_name=operator_name,
        origin_name=origin.name,
        origin_lat=origin.lat,
        origin_lon=origin.lon,
        origin_stop_id=origin.stop_id,
        origin_seq=origin.seq,
        destination_name=destination.name,
        destination_lat=destination.lat,
        destination_lon=destination.lon,
        destination_stop_id=destination.stop_id,
        destination_seq=destination.seq,
        departure_planned=departure_planned,
        arrival_planned=arrival_planned,
        message=message,
        visibility=visibility or user.default_visibility,
        purpose=purpose,
        time_zone=time_zone or timezone.get_current_timezone_name(),
        idempotency_key=idempotency_key,
    )
    if trip is not None:
        checkin.feed_name, checkin.feed_version_id, checkin.trip_id, checkin.service_date = trip
    # Field checks only: the table's constraints are enforced by PostgreSQL on INSERT, and
    # the rules behind them were checked above with better messages (validating constraints
    # here would cost a query each: 40% of a check-in). The user is the signed-in one.
    checkin.full_clean(exclude=["idempotency_key", "user"], validate_constraints=False)
    # Marked queued before the insert, so the common case costs no second write; cleared if
    # publishing fails (see enrichment_queue).
    checkin.enrichment_queued_at = timezone.now()
    try:
        # A savepoint only inside a caller's transaction, so that a lost race (below) leaves
        # it usable; on its own the INSERT is atomic and needs no transaction around it.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            checkin.save()
    except IntegrityError:
        # Two submits of one form raced past the lookup above: the other one won.
        existing = CheckIn.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if idempotency_key is None or existing is None:
            raise
        return existing
    metrics.checkin_created(checkin)
    enrichment_queue(checkin_ids=[checkin.id])
    _emit(WebhookEvent.CHECKIN_CREATED, checkin)
    FEED.changed()
    STATS.changed(user.pk)
    return checkin


def checkin_from_trip(
    *,
    user: User,
    feed: str,
    trip_id: str,
    service_date: date,
    origin_seq: int,
    destination_seq: int,
    message: str = "",
    visibility: str | None = None,
    purpose: str = Purpose.PRIVATE,
    idempotency_key: uuid.UUID | None = None,
    allow_overlap: bool = False,
    trip: Trip | None = None,
) -> CheckIn:
    """Check in to a timetable trip from one of its stops to a later one. ``trip`` may be the
    trip already read by the caller (it must be ``feed``'s ``trip_id`` on ``service_date``)."""
    if trip is None or (trip.feed, trip.trip_id, trip.service_date) != (
        feed,
        trip_id,
        service_date,
    ):
        trip = trip_get(feed=feed, trip_id=trip_id, service_date=service_date)
    if trip is None:
        raise ValidationError("This trip does not run on that day in the active timetable.")
    stops = {stop.seq: stop for stop in trip.stops}
    entry, exit_stop = stops.get(origin_seq), stops.get(destination_seq)
    if entry is None or exit_stop is None:
        raise ValidationError("The entry or exit stop is not a stop of this trip.")
    if exit_stop.seq <= entry.seq:
        raise ValidationError({"destination_seq": "The exit stop must come after the entry stop."})
    departure = entry.departure or entry.arrival
    arrival = exit_stop.arrival or exit_stop.departure
    if departure is None or arrival is None:
        raise ValidationError("The timetable has no times for these stops.")
    return checkin_create(
        user=user,
        origin=Place(entry.station_name, entry.lat, entry.lon, entry.stop_id, entry.seq),
        destination=Place(
            exit_stop.station_name, exit_stop.lat, exit_stop.lon, exit_stop.stop_id, exit_stop.seq
        ),
        departure_planned=departure,
        arrival_planned=arrival,
        line_name=trip.line,
        mode=trip.mode,
        operator_name=trip.agency,
        message=message,
        visibility=visibility,
        purpose=purpose,
        time_zone=str(departure.tzinfo),
        trip=(trip.feed, trip.version_id, trip.trip_id, trip.service_date),
        idempotency_key=idempotency_key,
        allow_overlap=allow_overlap,
    )


@transaction.atomic
def checkin_update(
    *,
    checkin: CheckIn,
    message: str,
    visibility: str,
    purpose: str,
    destination_seq: int | None = None,
    departure_planned: datetime | None = None,
    arrival_planned: datetime | None = None,
    ticket_price: Decimal | EllipsisType | None = ...,
    cost_centre: str | None = None,
) -> CheckIn:
    """Change what the traveller may change; re-enrich when the journey itself changed. The
    ticket price and cost centre stay as they are unless given (a price of None clears it).
    Only the columns that changed are written: an enrichment finishing meanwhile keeps the
    figures it wrote."""
    data: dict[str, Any] = {"message": message, "visibility": visibility, "purpose": purpose}
    if destination_seq is not None and destination_seq != checkin.destination_seq:
        trip = trip_get(
            feed=checkin.feed_name, trip_id=checkin.trip_id, service_date=checkin.service_date
        ) if checkin.trip_id and checkin.service_date else None  # fmt: skip
        stop = next((s for s in trip.stops if s.seq == destination_seq), None) if trip else None
        if stop is None or checkin.origin_seq is None or destination_seq <= checkin.origin_seq:
            raise ValidationError({"destination_seq": "Pick a later stop of this trip."})
        data |= {
            "destination_seq": stop.seq,
            "destination_stop_id": stop.stop_id,
            "destination_name": stop.station_name,
            "destination_lat": stop.lat,
            "destination_lon": stop.lon,
            "arrival_planned": stop.arrival or stop.departure or checkin.arrival_planned,
        }
    if departure_planned is not None:
        data["departure_planned"] = departure_planned
    if arrival_planned is not None:
        data["arrival_planned"] = arrival_planned
    if not isinstance(ticket_price, EllipsisType):
        data["ticket_price"] = ticket_price
    if cost_centre is not None:
        data["cost_centre"] = cost_centre.strip()

    def new(name: str) -> Any:
        return data.get(name, getattr(checkin, name))

    moved = any(
        new(name) != getattr(checkin, name)
        for name in ("destination_seq", "departure_planned", "arrival_planned")
    )
    if moved:
        check_plausible(
            origin=Place(checkin.origin_name, checkin.origin_lat, checkin.origin_lon),
            destination=Place(
                new("destination_name"), new("destination_lat"), new("destination_lon")
            ),
            departure=new("departure_planned"),
            arrival=new("arrival_planned"),
        )
        data |= {"enriched_at": None, "enrichment_queued_at": timezone.now()}
    # Field checks only, as at check-in (see checkin_create).
    changed = model_update(instance=checkin, data=data, validate_constraints=False)
    if moved:
        enrichment_queue(checkin_ids=[checkin.id])
    if changed:
        _emit(WebhookEvent.CHECKIN_UPDATED, checkin)
        FEED.changed()
        RANKS.changed()
        STATS.changed(checkin.user_id)
    return checkin


@transaction.atomic
def checkin_delete(*, checkin: CheckIn) -> None:
    """Delete the journey; its document goes after the commit (or stays orphaned, harmlessly,
    while the document store is down)."""
    checkin_id = checkin.id
    _emit(WebhookEvent.CHECKIN_DELETED, checkin)
    checkin.delete()

    def forget() -> None:
        try:
            journey_store().delete(checkin_id)
        except DocumentStoreError:
            logger.warning("journey document %s not deleted: store unavailable", checkin_id)

    transaction.on_commit(forget)
    FEED.changed()
    RANKS.changed()
    STATS.changed(checkin.user_id)
