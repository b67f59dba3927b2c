"""Reads for exports. Every export reads its journeys through ``checkins.selectors.journeys_in``, so
its totals are the statistics page's; exports and calendar feeds are found through their
owner only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from checkins.models import CheckIn, Purpose
from checkins.selectors import JourneyFilter, journeys_in
from stats.exports.options import ExportOptions
from stats.models import Export
from trainy.accounts.models import User

# Rows fetched per round trip: a server-side cursor on PostgreSQL, so memory stays flat
# however many journeys there are.
CHUNK_SIZE = 1000

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ExportTotals:
    """The statistics page's figures (``checkins.selectors.checkin_totals``: km and hours
    rounded to 0.1) plus what the tickets cost."""

    journeys: int
    distance_km: float
    hours: float
    ticket_price: Decimal
    # Journeys with a price: a report says when some have none.
    priced: int
    # The exact sums the rounded figures come from.
    distance_m: int = 0
    duration_s: int = 0


def export_totals(journeys: QuerySet[CheckIn]) -> ExportTotals:
    """Totals of ``journeys`` in one query."""
    figures = journeys.aggregate(
        journeys=Count("id"),
        meters=Sum("distance_m"),
        seconds=Sum("duration_s"),
        tickets=Sum("ticket_price"),
        priced=Count("ticket_price"),
    )
    return ExportTotals(
        journeys=figures["journeys"],
        distance_km=round((figures["meters"] or 0) / 1000, 1),
        hours=round((figures["seconds"] or 0) / 3600, 1),
        ticket_price=Decimal(figures["tickets"] or 0).quantize(Decimal("0.01")),
        priced=figures["priced"],
        distance_m=figures["meters"] or 0,
        duration_s=figures["seconds"] or 0,
    )


def report_criteria(criteria: JourneyFilter) -> JourneyFilter:
    """A business-trip report's filter: the range and modes asked for, business journeys only."""
    return JourneyFilter(
        start=criteria.start,
        end=criteria.end,
        purposes=(Purpose.BUSINESS.value,),
        modes=criteria.modes,
        zone=criteria.zone,
    )


@dataclass
class ExportSource:
    """The journeys an export writes, oldest first, and their totals.

    ``progress`` is told how many rows have been read, now and then and at the end (the
    background task records it for the progress bar).
    """

    owner: User
    options: ExportOptions
    progress: Progress | None = None
    every: int = 250
    _totals: ExportTotals | None = field(default=None, init=False, repr=False)

    @property
    def criteria(self) -> JourneyFilter:
        if self.options.kind.report:
            return report_criteria(self.options.criteria)
        return self.options.criteria

    def queryset(self) -> QuerySet[CheckIn]:
        return journeys_in(owner=self.owner, criteria=self.criteria)

    def count(self) -> int:
        return self.totals().journeys

    def totals(self) -> ExportTotals:
        if self._totals is None:
            self._totals = export_totals(self.queryset())
        return self._totals

    def journeys(self) -> Iterator[CheckIn]:
        rows = self.queryset().order_by("departure_planned", "id").iterator(chunk_size=CHUNK_SIZE)
        done = 0
        for done, journey in enumerate(rows, start=1):
            yield journey
            if self.progress is not None and done % self.every == 0:
                self.progress(done)
        if self.progress is not None:
            self.progress(done)


def export_source(*, owner: User, options: ExportOptions) -> ExportSource:
    return ExportSource(owner=owner, options=options)


def export_get(*, owner: User, export_id: int) -> Export | None:
    """The export if ``owner`` made it: anyone else's is as absent as one that never was."""
    return Export.objects.filter(id=export_id, user=owner).defer("content").first()


def export_content(*, owner: User, export_id: int) -> Export | None:
    """A finished export of ``owner``'s, with its file; None past its expiry."""
    return (
        Export.objects.filter(id=export_id, user=owner, status=Export.Status.DONE)
        .exclude(expires_at__lt=timezone.now())
        .first()
    )


def export_recent(*, owner: User, limit: int = 10) -> list[Export]:
    return list(Export.objects.filter(user=owner).defer("content").order_by("-created_at")[:limit])


def calendar_owner(*, token: str) -> User | None:
    """The traveller whose calendar feed has this token; None for an unknown or revoked one."""
    if not token:
        return None
    return User.objects.filter(calendar_token=token, is_active=True).first()


def calendar_journeys(*, owner: User, criteria: JourneyFilter) -> QuerySet[CheckIn]:
    """The journeys of a calendar feed (the owner's own feed: private ones included)."""
    return journeys_in(owner=owner, criteria=criteria).order_by("departure_planned", "id")
