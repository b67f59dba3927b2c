"""Statistics are SQL aggregations over the check-ins; they never need the document store."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Sum

from checkins.models import CheckIn, Mode, Purpose
from checkins.selectors import Totals, checkin_totals
from feed.models import User


@dataclass(frozen=True)
class Breakdown:
    key: str
    label: str
    journeys: int
    distance_km: float


@dataclass(frozen=True)
class UserStatistics:
    totals: Totals
    by_mode: list[Breakdown]
    by_purpose: list[Breakdown]


def _breakdown(queryset, field: str, labels: dict[str, str]) -> list[Breakdown]:  # type: ignore[no-untyped-def]
    rows = (
        queryset.values(field)
        .annotate(journeys=Count("id"), distance_m=Sum("distance_m"))
        .order_by("-journeys", field)
    )
    return [
        Breakdown(
            key=row[field],
            label=labels.get(row[field], row[field]),
            journeys=row["journeys"],
            distance_km=round((row["distance_m"] or 0) / 1000, 1),
        )
        for row in rows
    ]


def user_statistics(*, user: User) -> UserStatistics:
    """The traveller's own statistics over all their journeys (private ones included)."""
    journeys = CheckIn.objects.filter(user=user)
    return UserStatistics(
        totals=checkin_totals(journeys),
        by_mode=_breakdown(journeys, "mode", dict(Mode.choices)),
        by_purpose=_breakdown(journeys, "purpose", dict(Purpose.choices)),
    )
