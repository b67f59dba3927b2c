"""Reads of the check-in domain. Every read of journeys goes through ``checkins_visible_to``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet, Sum

from checkins.models import CheckIn, Visibility
from feed.models import User

Viewer = User | AnonymousUser


def checkins_visible_to(viewer: Viewer) -> QuerySet[CheckIn]:
    """All check-ins the viewer may see, with what a listing needs loaded.

    The one place that says who sees which journey: the owner sees all of theirs; anyone sees
    public and unlisted journeys (unlisted ones are never listed in feeds, see feed.selectors);
    signed-in users also see "signed-in users only" journeys. Followers-only journeys are the
    owner's alone until following exists.
    """
    allowed = Q(visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED])
    if viewer.is_authenticated:
        allowed |= Q(visibility=Visibility.AUTHENTICATED) | Q(user=viewer)
    return CheckIn.objects.filter(allowed).select_related("user")


def checkin_get(*, viewer: Viewer, checkin_id: int) -> CheckIn | None:
    return checkins_visible_to(viewer).filter(id=checkin_id).first()


def checkin_owned(*, owner: User, checkin_id: int) -> CheckIn | None:
    """The journey if ``owner`` owns it: editing and deleting never reach anyone else's."""
    return CheckIn.objects.filter(id=checkin_id, user=owner).first()


@dataclass(frozen=True)
class HistoryPage:
    journeys: list[CheckIn]
    next_cursor: str | None
    totals: Totals


def _cursor(checkin: CheckIn) -> str:
    return f"{int(checkin.departure_planned.timestamp() * 1_000_000)}-{checkin.id}"


def parse_cursor(text: str) -> tuple[datetime, int] | None:
    """A history cursor ("<microseconds since 1970>-<id>") or None if it is not one."""
    try:
        micros, checkin_id = (int(part) for part in text.split("-", 1))
        return datetime.fromtimestamp(micros / 1_000_000, tz=UTC), checkin_id
    except (ValueError, OverflowError, OSError):
        return None


def journey_history(
    *,
    owner: User,
    start: datetime | None = None,
    end: datetime | None = None,
    purposes: list[str] | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = 20,
) -> HistoryPage:
    """The owner's journeys newest first, one page after ``after`` (keyset: no OFFSET, so a
    page costs the same at the end of a long history), with totals over the whole filter."""
    journeys = CheckIn.objects.filter(user=owner)
    if start is not None:
        journeys = journeys.filter(departure_planned__gte=start)
    if end is not None:
        journeys = journeys.filter(departure_planned__lt=end)
    if purposes:
        journeys = journeys.filter(purpose__in=purposes)
    page = journeys
    if after is not None:
        moment, checkin_id = after
        page = page.filter(
            Q(departure_planned__lt=moment) | Q(departure_planned=moment, id__lt=checkin_id)
        )
    rows = list(page.select_related("user").order_by("-departure_planned", "-id")[: limit + 1])
    next_cursor = _cursor(rows[limit - 1]) if len(rows) > limit else None
    return HistoryPage(rows[:limit], next_cursor, checkin_totals(journeys))


@dataclass(frozen=True)
class Totals:
    journeys: int
    distance_km: float
    hours: float


def checkin_totals(queryset: QuerySet[CheckIn]) -> Totals:
    """Count, kilometres and hours of the journeys in ``queryset``, in one query."""
    figures = queryset.aggregate(
        journeys=Count("id"), distance_m=Sum("distance_m"), duration_s=Sum("duration_s")
    )
    return Totals(
        journeys=figures["journeys"],
        distance_km=round((figures["distance_m"] or 0) / 1000, 1),
        hours=round((figures["duration_s"] or 0) / 3600, 1),
    )
