"""Reads of the check-in domain. Every read of journeys goes through ``checkins_visible_to``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from checkins.geo import MAP_PRECISION, decode_path
from checkins.models import CheckIn, JourneyImport, Mode, Purpose, Visibility
from feed.models import Block, Follow, Like, Mute
from trainy.accounts.models import User
from trainy.documents import DocumentStoreError, journey_store

Viewer = User | AnonymousUser


def checkins_visible_to(viewer: Viewer) -> QuerySet[CheckIn]:
    """All check-ins the viewer may see, with what a listing needs loaded.

    The one place that says who sees which journey; every read path (feeds, profiles, journey
    pages, likes, notifications, exports of others) starts here:

    - the owner sees all of theirs;
    - nobody else sees anything of a traveller whose sign-in is blocked (``is_active`` off, see
      trainy.accounts.services.sign_in_allow);
    - nobody sees anything of someone who blocked them, nor of someone they blocked;
    - a private profile's journeys are for its accepted followers only;
    - otherwise: public and unlisted journeys for everyone (unlisted ones are never listed in
      feeds, see feed.selectors), "signed-in users only" ones for anyone signed in, followers-
      only ones for accepted followers; private ones for the owner alone.
    """
    if not viewer.is_authenticated:
        return CheckIn.objects.filter(
            visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED],
            user__private_profile=False,
            user__is_active=True,
        ).select_related("user")
    followed = Follow.objects.filter(follower=viewer, accepted=True).values("followee")
    shared = [Visibility.PUBLIC, Visibility.UNLISTED, Visibility.AUTHENTICATED]
    allowed = (
        (
            Q(user__private_profile=False, visibility__in=shared)
            | Q(user__in=followed, visibility__in=[*shared, Visibility.FOLLOWERS])
        )
        & Q(user__is_active=True)
        & not_blocked(viewer)
    )
    return CheckIn.objects.filter(allowed | Q(user=viewer)).select_related("user")


# What checkins_visible_to lets everyone signed in see, and what followers see besides.
SHARED_VISIBILITIES = frozenset({Visibility.PUBLIC, Visibility.UNLISTED, Visibility.AUTHENTICATED})
FOLLOWER_VISIBILITIES = SHARED_VISIBILITIES | {Visibility.FOLLOWERS}


@dataclass(frozen=True)
class Relations:
    """A signed-in viewer's standing to everyone else, read in one query (relations_of): whom
    they follow (accepted), who is blocked either way, and whom they mute. With it, ``sees``
    applies checkins_visible_to's rule to
    journeys already loaded, e.g. the newest feed journeys that every viewer's feed is cut
    from (feed.selectors), without a query of the journeys per viewer."""

    viewer_id: int
    followed: frozenset[int]
    blocked: frozenset[int]
    muted: frozenset[int]

    def sees(self, journey: CheckIn) -> bool:
        """checkins_visible_to(viewer)'s rule for one journey with its ``user`` loaded (kept
        the same as the query there: tests/feed/test_privacy.py holds them to each other)."""
        owner = journey.user
        return self.sees_values(
            owner.pk, owner.is_active, owner.private_profile, journey.visibility
        )

    def sees_values(
        self, owner_id: int, owner_active: bool, private_profile: bool, visibility: str
    ) -> bool:
        """``sees`` from the four values it reads, for rows read as values, not models."""
        if owner_id == self.viewer_id:
            return True
        if not owner_active or owner_id in self.blocked:
            return False
        if visibility in SHARED_VISIBILITIES and not private_profile:
            return True
        return owner_id in self.followed and visibility in FOLLOWER_VISIBILITIES


def relations_of(viewer: User) -> Relations:
    follow, block, mute = (model._meta.db_table for model in (Follow, Block, Mute))
    # Only table names go into the text; values are parameters.
    sql = f"""
        SELECT 'f', followee_id FROM {follow} WHERE follower_id = %s AND accepted
        UNION ALL SELECT 'b', blocked_id FROM {block} WHERE blocker_id = %s
        UNION ALL SELECT 'b', blocker_id FROM {block} WHERE blocked_id = %s
        UNION ALL SELECT 'm', muted_id FROM {mute} WHERE muter_id = %s
    """  # noqa: S608
    found: dict[str, set[int]] = {"f": set(), "b": set(), "m": set()}
    with connection.cursor() as cursor:
        cursor.execute(sql, [viewer.pk] * 4)
        for kind, other in cursor.fetchall():
            found[kind].add(other)
    return Relations(
        viewer_id=viewer.pk,
        followed=frozenset(found["f"]),
        blocked=frozenset(found["b"]),
        muted=frozenset(found["m"]),
    )


def not_blocked(viewer: User, field: str = "user") -> Q:
    """Rows whose ``field`` (a user) neither blocked the viewer nor was blocked by them: two
    lookups on the blocks table by indexed columns, no join over the users."""
    return ~Q(**{f"{field}__in": Block.objects.filter(blocker=viewer).values("blocked")}) & ~Q(
        **{f"{field}__in": Block.objects.filter(blocked=viewer).values("blocker")}
    )


def with_likes(journeys: QuerySet[CheckIn], viewer: Viewer) -> QuerySet[CheckIn]:
    """Each journey's like count, and whether the viewer liked it, in the same query (a feed
    page costs the same number of queries whatever its size)."""
    count = (
        Like.objects.filter(checkin=OuterRef("pk"))
        .order_by()
        .values("checkin")
        .annotate(n=Count("*"))
        .values("n")
    )
    journeys = journeys.annotate(like_count=Coalesce(Subquery(count), 0))
    if viewer.is_authenticated:
        mine = Like.objects.filter(checkin=OuterRef("pk"), user=viewer)
        return journeys.annotate(liked=Exists(mine))
    return journeys.annotate(liked=Value(False))


def checkin_get(*, viewer: Viewer, checkin_id: int) -> CheckIn | None:
    return with_likes(checkins_visible_to(viewer), viewer).filter(id=checkin_id).first()


def journeys_of(*, owner: User, checkin_ids: list[int]) -> list[CheckIn]:
    """``owner``'s journeys among ``checkin_ids`` (others' are left out), as a listing shows
    them, earliest first: e.g. those a new journey overlaps."""
    mine = checkins_visible_to(owner).filter(user=owner, id__in=checkin_ids)
    return list(with_likes(mine, owner).order_by("departure_planned", "id"))


def checkin_submitted(*, owner: User, idempotency_key: uuid.UUID) -> CheckIn | None:
    """The journey an earlier request of ``owner``'s with this idempotency key recorded (the
    key checkin_create was given), as its page shows it; None if there is none."""
    mine = checkins_visible_to(owner).filter(user=owner, idempotency_key=idempotency_key)
    return with_likes(mine, owner).first()


def checkin_owned(*, owner: User, checkin_id: int) -> CheckIn | None:
    """The journey if ``owner`` owns it: editing and deleting never reach anyone else's. Its
    ``user`` is ``owner`` (no query to load it again)."""
    checkin = CheckIn.objects.filter(id=checkin_id, user=owner).first()
    if checkin is not None:
        checkin.user = owner
    return checkin


@dataclass(frozen=True)
class JourneyFilter:
    """Journeys departing from ``start`` to ``end`` (both days included, in ``zone``; None: no
    bound), of these purposes and modes (empty: all)."""

    start: date | None = None
    end: date | None = None
    purposes: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The range as instants: midnight at the start, midnight after the end."""
        start = datetime.combine(self.start, time(), self.zone) if self.start else None
        end = (
            datetime.combine(self.end + timedelta(days=1), time(), self.zone) if self.end else None
        )
        return start, end

    def describe(self) -> str:
        if self.start and self.end:
            span = f"{self.start:%-d %b %Y} – {self.end:%-d %b %Y}"
        elif self.start:
            span = f"from {self.start:%-d %b %Y}"
        elif self.end:
            span = f"until {self.end:%-d %b %Y}"
        else:
            span = "all time"
        parts = [span]
        if self.purposes:
            labels = dict(Purpose.choices)
            parts.append(", ".join(labels.get(p, p) for p in self.purposes))
        if self.modes:
            labels = dict(Mode.choices)
            parts.append(", ".join(labels.get(m, m) for m in self.modes))
        return " · ".join(parts)


def journeys_in(*, owner: User, criteria: JourneyFilter) -> QuerySet[CheckIn]:
    """The owner's journeys that ``criteria`` selects (all of them, private ones included:
    "My journeys", statistics and exports are the owner's own). The one filter of all three,
    so their totals always agree (the form that reads it: stats.forms.StatsFilterForm)."""
    journeys = CheckIn.objects.filter(user=owner)
    start, end = criteria.bounds()
    if start is not None:
        journeys = journeys.filter(departure_planned__gte=start)
    if end is not None:
        journeys = journeys.filter(departure_planned__lt=end)
    if criteria.purposes:
        journeys = journeys.filter(purpose__in=criteria.purposes)
    if criteria.modes:
        journeys = journeys.filter(mode__in=criteria.modes)
    return journeys


@dataclass(frozen=True)
class HistoryPage:
    journeys: list[CheckIn]
    next_cursor: str | None
    totals: Totals


# Keyset cursors ("<microseconds since 1970>-<id>" of the last row shown) of every list paged
# by a moment and an id: journeys, notifications, webhook deliveries. Exact integer arithmetic.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _cursor(moment: datetime, row_id: int) -> str:
    return f"{(moment - _EPOCH) // _MICROSECOND}-{row_id}"


def journey_cursor(journey: CheckIn) -> str:
    """The cursor of the page after ``journey`` in a list newest first by departure."""
    return _cursor(journey.departure_planned, journey.id)


def parse_cursor(text: str) -> tuple[datetime, int] | None:
    """A keyset cursor ("<microseconds since 1970>-<id>") or None if it is not one."""
    try:
        micros, row_id = (int(part) for part in text.split("-", 1))
        return _EPOCH + micros * _MICROSECOND, row_id
    except (ValueError, OverflowError):
        return None


def journey_history(
    *,
    owner: User,
    criteria: JourneyFilter | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = 20,
) -> HistoryPage:
    """The owner's journeys that ``criteria`` selects (all by default), newest first, one page
    after ``after`` (keyset: no OFFSET, so a page costs the same at the end of a long history),
    with totals over the whole filter, as checkin_totals counts them, in one round trip.

    "My journeys" is the API's busiest read, so its SQL is written out here over the ORM's own
    WHERE of journeys_in (the one filter of history, statistics and exports): building the same
    through the ORM (two like subqueries as with_likes has them, an aggregate) cost more than
    the database took to answer, and under load each round trip waits its turn for a core. No
    join to the traveller: the caller holds the owner."""
    journeys = journeys_in(owner=owner, criteria=criteria or JourneyFilter())
    page = journeys.filter(after_cursor(after))
    compiler = journeys.query.get_compiler(using=journeys.db)
    try:
        where, params = compiler.compile(journeys.query.where)
        page_where, page_params = compiler.compile(page.query.where)
    except EmptyResultSet:  # a filter that can select nothing (``__in`` an empty list)
        return HistoryPage([], None, _totals(0, None, None))
    table = connection.ops.quote_name(CheckIn._meta.db_table)
    likes = connection.ops.quote_name(Like._meta.db_table)
    # The totals' one row, joined to the page's rows (none on a page past the end).
    sql = f"""
        SELECT page.*, totals.journeys AS totals_journeys,
            totals.distance_m AS totals_distance_m, totals.duration_s AS totals_duration_s
        FROM (
            SELECT COUNT(*) AS journeys, SUM(distance_m) AS distance_m,
                SUM(duration_s) AS duration_s
            FROM {table} WHERE {where}
        ) totals
        LEFT JOIN (
            SELECT {table}.*,
                (SELECT COUNT(*) FROM {likes} l WHERE l.checkin_id = {table}.id) AS like_count,
                EXISTS(
                    SELECT 1 FROM {likes} l WHERE l.checkin_id = {table}.id AND l.user_id = %s
                ) AS liked
            FROM {table} WHERE {page_where}
            ORDER BY {table}.departure_planned DESC, {table}.id DESC
            LIMIT %s
        ) page ON 1 = 1
        ORDER BY page.departure_planned DESC, page.id DESC
    """  # noqa: S608 -- names from the models, the WHERE compiled by the ORM with its parameters
    rows = list(CheckIn.objects.raw(sql, [*params, owner.pk, *page_params, limit + 1]))
    first = rows[0]
    # The raw query's extra columns are attributes the model does not declare.
    totals = _totals(
        getattr(first, "totals_journeys"),  # noqa: B009
        getattr(first, "totals_distance_m"),  # noqa: B009
        getattr(first, "totals_duration_s"),  # noqa: B009
    )
    found = [row for row in rows if row.id is not None]
    for journey in found:
        journey.user = owner
    if len(found) <= limit:
        return HistoryPage(found, None, totals)
    last = found[limit - 1]
    return HistoryPage(found[:limit], _cursor(last.departure_planned, last.id), totals)


def after_cursor(after: tuple[datetime, int] | None, field: str = "departure_planned") -> Q:
    """The rows after the keyset cursor ``after`` in a list newest first by ``field`` (then
    id); all rows without one."""
    if after is None:
        return Q()
    moment, row_id = after
    return Q(**{f"{field}__lt": moment}) | Q(**{field: moment, "id__lt": row_id})


def page_after(
    rows: QuerySet[Any],
    after: tuple[datetime, int] | None,
    limit: int,
    field: str = "departure_planned",
) -> tuple[list[Any], str | None]:
    """One page of ``rows`` newest first by ``field`` (then id), after the cursor ``after``
    (keyset: no OFFSET, so a page costs the same however deep it is), and the cursor of the
    next page if any."""
    found = list(rows.filter(after_cursor(after, field)).order_by(f"-{field}", "-id")[: limit + 1])
    if len(found) <= limit:
        return found, None
    last = found[limit - 1]
    return found[:limit], _cursor(getattr(last, field), last.id)


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
    return _totals(figures["journeys"], figures["distance_m"], figures["duration_s"])


def _totals(journeys: int, distance_m: int | None, duration_s: int | None) -> Totals:
    return Totals(
        journeys=journeys,
        distance_km=round((distance_m or 0) / 1000, 1),
        hours=round((duration_s or 0) / 3600, 1),
    )


# --- Journey documents (the document store) -------------------------------------------------------


@dataclass(frozen=True)
class StopoverRow:
    name: str
    planned: datetime | None
    real: datetime | None
    delay_s: int | None
    realtime: str | None  # "reported", "carried" (from an earlier stop's delay), "skipped"


@dataclass(frozen=True)
class JourneyDocument:
    """What a journey's page shows of its document (checkins.enrichment builds it)."""

    geometry: dict[str, Any] | None
    stopovers: list[StopoverRow]
    # When the operator's live feed last reported on the trip, if it did.
    realtime_observed: datetime | None


def journey_document_get(*, checkin: CheckIn) -> JourneyDocument | None:
    """The document of ``checkin``, a journey the viewer was allowed to see (checkin_get);
    None while it is being computed or while the document store is away (the page still shows
    what PostgreSQL knows)."""
    try:
        document = journey_store().get(checkin.id)
    except DocumentStoreError:
        return None
    if not document:
        return None
    return JourneyDocument(
        geometry=document.get("geometry"),
        stopovers=stopover_rows(document["stopovers"]),
        realtime_observed=_moment(
            ((document.get("provenance") or {}).get("realtime") or {}).get("observed_at")
        ),
    )


def journey_paths(
    *, checkin_ids: list[int], every: int = 1
) -> list[list[tuple[float, float]]] | None:
    """The routes of these journeys for a map of many (ids the viewer may see: the caller's
    selector chose them), in their order, as (lat, lon) points rounded to about a metre: each
    route's overview (checkins.enrichment.OVERVIEW_MAX_POINTS: at most 100 points, within
    10 m of the route where that many suffice), or, for a document without one, every
    ``every``th point of the whole route and the last. Journeys without a geometry yet are
    left out. None while the document store is away."""
    try:
        documents = journey_store().get_many(checkin_ids)
    except DocumentStoreError:
        return None
    paths = []
    for checkin_id in checkin_ids:
        geometry = (documents.get(checkin_id) or {}).get("geometry")
        if not geometry:
            continue
        overview = geometry.get("overview")
        if overview:
            # Encoded at the map's precision: decoded, the points are already rounded.
            paths.append(decode_path(overview["path"], MAP_PRECISION))
        else:
            # Documents written before overviews were (version 3 and older) are drawn from the
            # whole route, decoding every point: no migration is needed, and each such journey
            # gets its overview when it is next enriched.
            route = decode_path(geometry["path"])
            paths.append(
                [
                    (round(lat, MAP_PRECISION), round(lon, MAP_PRECISION))
                    for lat, lon in route[::every] + route[-1:]
                ]
            )
    return paths


def stopover_rows(stopovers: list[dict[str, Any]]) -> list[StopoverRow]:
    """The journey document's stops as the page lists them: the departure at each stop, the
    arrival where the traveller gets off."""
    rows = []
    for position, stop in enumerate(stopovers):
        order = (
            ("arrival", "departure") if position == len(stopovers) - 1 else ("departure", "arrival")
        )
        planned = _moment(stop.get(f"{order[0]}_planned") or stop.get(f"{order[1]}_planned"))
        real = _moment(stop.get(f"{order[0]}_real") or stop.get(f"{order[1]}_real"))
        late = int((real - planned).total_seconds()) if real and planned else None
        rows.append(StopoverRow(stop["name"], planned, real, late, stop.get("realtime")))
    return rows


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# --- Imports of other services' exports -------------------------------------------------------


def journey_import_get(*, owner: User, import_id: int) -> JourneyImport | None:
    """One of the traveller's imports (without its file); None for someone else's."""
    return JourneyImport.objects.defer("upload").filter(user=owner, id=import_id).first()


def journey_imports_recent(
    *, owner: User, limit: int = 20, summaries: bool = False
) -> list[JourneyImport]:
    """The traveller's imports, newest first, without their files (and, unless asked for,
    their summaries: a page lists them, the API shows them)."""
    imports = JourneyImport.objects.defer("upload").filter(user=owner)
    if not summaries:
        imports = imports.defer("summary")
    return list(imports.order_by("-created_at", "-id")[:limit])
