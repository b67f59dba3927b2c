"""Statistics are SQL aggregations over the check-ins; they never need the document store
(only the map of journeys reads geometries, and it is optional)."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncMonth
from django.utils import timezone

from checkins.models import CheckIn, Mode, Purpose
from checkins.selectors import (
    JourneyFilter,
    Totals,
    Viewer,
    checkin_totals,
    checkins_visible_to,
    journeys_in,
    relations_of,
)
from feed.selectors import FEED_VISIBILITIES
from stats import emissions
from stats.points import points_expression
from trainy.accounts.models import User
from trainy.generations import RANKS
from trainy.generations import STATS as STATS_GENERATION

# Deutsche Bahn's rule: a train less than six minutes late is on time.
ON_TIME_UNDER = timedelta(minutes=6)
TOP = 10
STATS_CACHE_SECONDS = (
    24 * 3600
)  # kept until the traveller's journeys change (see trainy.generations.STATS)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Breakdown:
    key: str
    label: str
    journeys: int
    distance_km: float
    hours: float = 0.0


@dataclass(frozen=True)
class Delays:
    with_real_times: int  # journeys whose real arrival is known
    total_minutes: int
    average_minutes: float | None
    on_time_percent: float | None


@dataclass(frozen=True)
class Emissions:
    kg: float
    car_kg: float
    by_mode: list[tuple[str, float]]  # (mode label, kg)

    @property
    def saved_kg(self) -> float:
        return round(self.car_kg - self.kg, 1)


@dataclass(frozen=True)
class Statistics:
    criteria: JourneyFilter
    totals: Totals
    delays: Delays
    points: int
    by_purpose: list[Breakdown]
    by_mode: list[Breakdown]
    by_operator: list[Breakdown]
    by_line: list[Breakdown]
    stations: list[tuple[str, int]]
    longest: list[CheckIn]
    months: list[Breakdown]
    heatmap: list[list[int]]  # 7 weekdays (Monday first) x 24 hours, journeys departing
    emissions: Emissions

    @property
    def heatmap_max(self) -> int:
        return max((max(row) for row in self.heatmap), default=0)

    @property
    def heatmap_rows(self) -> list[tuple[str, list[int]]]:
        return list(zip(WEEKDAYS, self.heatmap, strict=True))


def _km(meters: int | None) -> float:
    return round((meters or 0) / 1000, 1)


def _hours(seconds: int | None) -> float:
    return round((seconds or 0) / 3600, 1)


def _breakdown(journeys: QuerySet[CheckIn], field: str, labels: dict[str, str]) -> list[Breakdown]:
    rows = (
        journeys.values(field)
        .annotate(journeys=Count("id"), meters=Sum("distance_m"), seconds=Sum("duration_s"))
        .order_by("-journeys", field)
    )
    return [
        Breakdown(
            key=row[field],
            label=labels.get(row[field], row[field]) or "Unknown",
            journeys=row["journeys"],
            distance_km=_km(row["meters"]),
            hours=_hours(row["seconds"]),
        )
        for row in rows
    ]


def _delays(journeys: QuerySet[CheckIn]) -> Delays:
    late = ExpressionWrapper(F("arrival_real") - F("arrival_planned"), output_field=DurationField())
    known = journeys.filter(arrival_real__isnull=False)
    figures = known.aggregate(
        count=Count("id"),
        total=Sum(late),
        on_time=Count("id", filter=Q(arrival_real__lt=F("arrival_planned") + ON_TIME_UNDER)),
    )
    count = figures["count"]
    total = figures["total"] or timedelta()
    minutes = round(total.total_seconds() / 60)
    return Delays(
        with_real_times=count,
        total_minutes=minutes,
        average_minutes=round(total.total_seconds() / 60 / count, 1) if count else None,
        on_time_percent=round(100 * figures["on_time"] / count, 1) if count else None,
    )


def _stations(journeys: QuerySet[CheckIn]) -> list[tuple[str, int]]:
    visits: Counter[str] = Counter()
    for field in ("origin_name", "destination_name"):
        for row in journeys.values(field).annotate(n=Count("id")).order_by():
            visits[row[field]] += row["n"]
    return visits.most_common(TOP)


def _months(journeys: QuerySet[CheckIn], criteria: JourneyFilter) -> list[Breakdown]:
    rows = (
        journeys.annotate(month=TruncMonth("departure_planned", tzinfo=criteria.zone))
        .values("month")
        .annotate(journeys=Count("id"), meters=Sum("distance_m"), seconds=Sum("duration_s"))
        .order_by("month")
    )
    result = []
    for row in rows:
        month: date = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
        result.append(
            Breakdown(
                key=f"{month:%Y-%m}",
                label=f"{month:%b %Y}",
                journeys=row["journeys"],
                distance_km=_km(row["meters"]),
                hours=_hours(row["seconds"]),
            )
        )
    return result


def _heatmap(journeys: QuerySet[CheckIn], criteria: JourneyFilter) -> list[list[int]]:
    grid = [[0] * 24 for _ in range(7)]
    rows = (
        journeys.annotate(
            weekday=ExtractIsoWeekDay("departure_planned", tzinfo=criteria.zone),
            hour=ExtractHour("departure_planned", tzinfo=criteria.zone),
        )
        .values("weekday", "hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        grid[row["weekday"] - 1][row["hour"]] = row["n"]
    return grid


def _emissions(by_mode: list[Breakdown]) -> Emissions:
    labels = dict(Mode.choices)
    per_mode = [
        (
            labels.get(row.key, row.key),
            round(emissions.grams(row.key, row.distance_km * 1000) / 1000, 1),
        )
        for row in by_mode
    ]
    total_m = sum(row.distance_km for row in by_mode) * 1000
    return Emissions(
        kg=round(sum(kg for _, kg in per_mode), 1),
        car_kg=round(emissions.car_grams(total_m) / 1000, 1),
        by_mode=per_mode,
    )


def _cache_key(owner: User, criteria: JourneyFilter) -> str:
    described = repr((criteria.start, criteria.end, criteria.purposes, criteria.modes,
                      str(criteria.zone)))  # fmt: skip
    digest = hashlib.sha256(described.encode()).hexdigest()[:24]
    return STATS_GENERATION.key(digest, scope=owner.pk)


def user_statistics(*, owner: User, criteria: JourneyFilter | None = None) -> Statistics:
    """The owner's statistics for ``criteria`` (their private journeys included). Cached per
    traveller until one of their journeys changes (trainy.generations.STATS)."""
    criteria = criteria or JourneyFilter()
    key = _cache_key(owner, criteria)
    cached = cache.get(key)
    if cached is not None:
        return cached
    journeys = journeys_in(owner=owner, criteria=criteria)
    by_mode = _breakdown(journeys, "mode", dict(Mode.choices))
    statistics = Statistics(
        criteria=criteria,
        totals=checkin_totals(journeys),
        delays=_delays(journeys),
        points=journeys.aggregate(points=Sum(points_expression()))["points"] or 0,
        by_purpose=_breakdown(journeys, "purpose", dict(Purpose.choices)),
        by_mode=by_mode,
        by_operator=_breakdown(journeys, "operator_name", {})[:TOP],
        by_line=_breakdown(journeys, "line_name", {})[:TOP],
        stations=_stations(journeys),
        longest=list(journeys.filter(distance_m__isnull=False).order_by("-distance_m")[:5]),
        months=_months(journeys, criteria),
        heatmap=_heatmap(journeys, criteria),
        emissions=_emissions(by_mode),
    )
    cache.set(key, statistics, STATS_CACHE_SECONDS)
    return statistics


def journey_ids_for_map(*, owner: User, criteria: JourneyFilter, limit: int = 500) -> list[int]:
    """The newest journeys of the range whose routes the statistics map draws."""
    journeys = journeys_in(owner=owner, criteria=criteria)
    return list(journeys.order_by("-departure_planned").values_list("id", flat=True)[:limit])


# --- Leaderboards -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    rank: int
    user: User
    points: int
    journeys: int
    distance_km: float


# The windows of the leaderboard page (days).
LEADERBOARD_WINDOWS = (7, 30)
# A board adds up a window of everyone's journeys: about a second for a month at 10M
# journeys, growing with the travellers. So it is kept per audience and window, made afresh
# every LEADERBOARD_SECONDS by a beat task (stats.tasks.refresh_leaderboards), and no page
# waits for it; a page adds it up itself when none is kept, when a change took something off
# (trainy.generations.RANKS), or when the kept one is older than twice that (no beat running).
# A new journey thus shows within a minute.
LEADERBOARD_SECONDS = 60
# Standings kept beyond the 20 shown: a viewer's board leaves out those in a block with them.
BOARD_KEPT = 60


@dataclass(frozen=True)
class Board:
    generation: int  # of RANKS
    made_at: float  # time.time()
    viewer_id: int | None  # who it was made for (None: signed out), to make it afresh
    standings: list[Standing]

    def current(self) -> bool:
        return (
            self.generation == RANKS.current()
            and time.time() - self.made_at < 2 * LEADERBOARD_SECONDS
        )


def leaderboard(*, viewer: Viewer, days: int, limit: int = 20) -> list[Standing]:
    """Travellers by points for journeys departing in the last ``days`` days. What counts is
    what the viewer's global feed would list (checkins_visible_to narrowed to FEED_VISIBILITIES:
    public, and signed-in users only for signed-in viewers; nobody blocked either way, nobody
    whose sign-in is blocked), of public profiles only, so no one's rank gives away what they
    keep to themselves; travellers who opted out are left out."""
    limit = min(limit, BOARD_KEPT)
    relations = relations_of(viewer) if viewer.is_authenticated else None
    # By checkins_visible_to, everyone signed out sees the same journeys, and so does everyone
    # signed in, but for those in a block with them (the journeys counted are public profiles'
    # public and signed-in-only ones, which only a block takes away).
    audience = "anonymous" if relations is None else "signed-in"
    board = cache.get(_board_key(audience, days))
    if board is None or not board.current():
        if relations is not None and relations.blocked:
            return _standings(viewer, days, limit)  # nothing kept to start from: their own
        board = _board_make(viewer, audience, days)
    taken_off = relations.blocked if relations is not None else frozenset()
    shown = [standing for standing in board.standings if standing.user.pk not in taken_off]
    if len(shown) < limit and len(board.standings) == BOARD_KEPT:
        return _standings(viewer, days, limit)  # so many taken off that the rest are unknown
    return [replace(standing, rank=rank) for rank, standing in enumerate(shown[:limit], start=1)]


def _board_key(audience: str, days: int) -> str:
    return f"leaderboard:{audience}:{days}"


def _board_make(viewer: Viewer, audience: str, days: int) -> Board:
    generation = RANKS.current()  # read first: a change meanwhile makes the board old at once
    board = Board(
        generation=generation,
        made_at=time.time(),
        viewer_id=viewer.pk if viewer.is_authenticated else None,
        standings=_standings(viewer, days, BOARD_KEPT),
    )
    cache.set(_board_key(audience, days), board, 2 * LEADERBOARD_SECONDS)
    return board


def leaderboards_refresh() -> int:
    """Make the kept boards afresh, each for the viewer it was made for (while they still see
    what the audience sees); how many were made. Only boards a page has made are kept (at most
    one per audience and window, kept alive by this task from then on); those a change has
    made old are not made here: the next page adds them up."""
    made = 0
    generation = RANKS.current()
    for audience in ("anonymous", "signed-in"):
        for days in LEADERBOARD_WINDOWS:
            board = cache.get(_board_key(audience, days))
            if board is None or board.generation != generation:
                continue
            viewer: Viewer = AnonymousUser()
            if board.viewer_id is not None:
                found = User.objects.filter(pk=board.viewer_id, is_active=True).first()
                if found is None or relations_of(found).blocked:
                    continue  # the next page of a viewer of the audience makes it
                viewer = found
            _board_make(viewer, audience, days)
            made += 1
    return made


def _standings(viewer: Viewer, days: int, limit: int) -> list[Standing]:
    now = timezone.now()
    journeys = checkins_visible_to(viewer).filter(
        visibility__in=FEED_VISIBILITIES,
        departure_planned__gte=now - timedelta(days=days),
        departure_planned__lte=now,
        # A private profile's journeys are visible to its accepted followers, but a rank is
        # shown to everyone.
        user__private_profile=False,
        user__leaderboard_opt_out=False,
    )
    rows = list(
        journeys.values("user")
        .annotate(points=Sum(points_expression()), journeys=Count("id"), meters=Sum("distance_m"))
        .order_by("-points", "user")[:limit]
    )
    users = User.objects.in_bulk([row["user"] for row in rows])
    return [
        Standing(rank, users[row["user"]], row["points"] or 0, row["journeys"], _km(row["meters"]))
        for rank, row in enumerate(rows, start=1)
    ]
