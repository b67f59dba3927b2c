"""Points, as Träwelling counts them, so travellers who know it feel at home.

A journey earns the base points of its mode plus one point per started 10 km. Full points only
for checking in "live": from 20 minutes before the departure until the arrival; a journey
logged afterwards (or long before) earns a quarter, rounded up. Journeys without a computed
distance count their base points only.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Case, ExpressionWrapper, F, IntegerField, Q, Value, When
from django.db.models.functions import Ceil, Coalesce

from checkins.models import Mode

BASE_POINTS: dict[str, int] = {
    Mode.LONG_DISTANCE: 10,
    Mode.REGIONAL: 5,
    Mode.SUBURBAN: 3,
    Mode.FERRY: 3,
    Mode.SUBWAY: 2,
    Mode.TRAM: 2,
    Mode.BUS: 2,
    Mode.OTHER: 1,
}
LIVE_BEFORE = timedelta(minutes=20)


def points(mode: str, meters: int | None, live: bool) -> int:
    """The points of one journey (the same rule as ``points_expression``, in Python)."""
    full = BASE_POINTS.get(mode, 1) + (-(-(meters or 0) // 10_000))
    return full if live else -(-full // 4)


def points_expression() -> ExpressionWrapper:
    """The points of each journey, in SQL (for sums over many journeys)."""
    base = Case(
        *(When(mode=mode, then=Value(value)) for mode, value in BASE_POINTS.items()),
        default=Value(1),
        output_field=IntegerField(),
    )
    per_10_km = Ceil(Coalesce(F("distance_m"), Value(0)) / Value(10_000.0))
    full = ExpressionWrapper(base + per_10_km, output_field=IntegerField())
    live = Q(created_at__gte=F("departure_planned") - LIVE_BEFORE) & Q(
        created_at__lte=F("arrival_planned")
    )
    return ExpressionWrapper(
        Case(
            When(live, then=full),
            default=Ceil(full / Value(4.0)),
            output_field=IntegerField(),
        ),
        output_field=IntegerField(),
    )
