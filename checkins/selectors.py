"""Reads of the check-in domain. Every read of journeys goes through ``checkins_visible_to``."""

from __future__ import annotations

from dataclasses import dataclass

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


def checkin_list_for_owner(*, owner: User, limit: int = 50) -> list[CheckIn]:
    """The owner's own journeys, newest first."""
    return list(CheckIn.objects.filter(user=owner).select_related("user")[:limit])


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
