"""Reads of the social side: feeds, profiles, likes, follows and notifications.

Journeys are read through checkins.selectors.checkins_visible_to, then narrowed; or, where a
page is cut from rows already loaded (the feeds of signed-in viewers), held to the same rule by
the viewer's checkins.selectors.Relations.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from checkins.models import MAX_DURATION, CheckIn, Visibility
from checkins.selectors import (
    Relations,
    Totals,
    Viewer,
    after_cursor,
    checkin_totals,
    checkins_visible_to,
    journey_cursor,
    not_blocked,
    page_after,
    relations_of,
    with_likes,
)
from checkins.timetable.demo import DEMO_USERNAME
from feed.models import (
    Block,
    Follow,
    Like,
    Mute,
    Notification,
    WebhookDelivery,
    WebhookEndpoint,
)
from trainy.accounts.models import User
from trainy.generations import FEED as FEED_GENERATION

# What feeds list: unlisted journeys are for those with the link (and the owner's profile).
FEED_VISIBILITIES = (Visibility.PUBLIC, Visibility.AUTHENTICATED)
FOLLOWING_VISIBILITIES = (*FEED_VISIBILITIES, Visibility.FOLLOWERS)
PAGE_SIZE = 20
T = TypeVar("T")
# The signed-out front page is cached this long at most; any change to what it shows starts a
# new generation at once (trainy.generations.FEED), so this only bounds how stale
# "travelling now" and freshly enriched distances can be.
FRONT_PAGE_SECONDS = 30
# Every cached feed page and figure is of one generation (trainy.generations.FEED), which
# every change to what feeds show moves on.


@dataclass(frozen=True)
class FeedPage:
    journeys: list[CheckIn]
    next_cursor: str | None


def _not_muted(journeys: QuerySet[CheckIn], viewer: Viewer) -> QuerySet[CheckIn]:
    if not viewer.is_authenticated:
        return journeys
    return journeys.exclude(user__in=Mute.objects.filter(muter=viewer).values("muted"))


def _page(
    journeys: QuerySet[CheckIn], after: tuple[datetime, int] | None, limit: int | None
) -> FeedPage:
    rows, next_cursor = page_after(journeys, after, limit or PAGE_SIZE)
    return FeedPage(rows, next_cursor)


def global_feed(
    *, viewer: Viewer, after: tuple[datetime, int] | None = None, limit: int | None = None
) -> FeedPage:
    """Everyone's journeys that belong in a feed, newest first: public ones, and "signed-in
    users only" ones for signed-in viewers; never unlisted or private ones, nor muted
    travellers'."""
    if viewer.is_authenticated:
        page = _global_cut(viewer, relations_of(viewer), after, limit or PAGE_SIZE)
        if page is not None:
            _mark_likes(viewer, page.journeys)
            return page
    return _global_query(viewer, after, limit)


def _global_query(
    viewer: Viewer, after: tuple[datetime, int] | None, limit: int | None
) -> FeedPage:
    journeys = checkins_visible_to(viewer).filter(visibility__in=FEED_VISIBILITIES)
    return _page(with_likes(_not_muted(journeys, viewer), viewer), after, limit)


# Rows read per round by _global_cut: a page's worth and a quarter more (about one feed
# journey in twenty is a private profile's, which few viewers see); rounds before it gives up.
CUT_BATCH = 1.25
CUT_ROUNDS = 3


def _global_cut(
    viewer: User, relations: Relations, after: tuple[datetime, int] | None, limit: int
) -> FeedPage | None:
    """global_feed for a signed-in viewer, read as everyone's newest feed journeys after the
    cursor (_feed_rows: one plain index range) cut with the viewer's Relations, a few pages'
    worth at a time: the privacy query costs more to build and plan than this costs to run.
    None when CUT_ROUNDS rounds did not fill the page (a viewer who mutes or cannot see most
    of the newest journeys): the query answers then. Their likes are for the caller to mark
    (_mark_likes)."""
    batch = math.ceil(CUT_BATCH * (limit + 1))
    shown: list[CheckIn] = []
    for _ in range(CUT_ROUNDS):
        loaded = _feed_rows(after, batch)
        wanted = limit + 1 - len(shown)
        shown += _seen(loaded, relations, wanted, lambda _: True, complete=True) or []
        if len(shown) > limit or len(loaded) < batch:
            more = len(shown) > limit
            return FeedPage(shown[:limit], journey_cursor(shown[limit - 1]) if more else None)
        after = (loaded[-1].departure_planned, loaded[-1].id)
    return None


def _feed_rows(after: tuple[datetime, int] | None, count: int) -> list[CheckIn]:
    """Everyone's newest ``count`` feed journeys after the cursor (travellers whose sign-in is
    blocked left out), that every signed-in viewer's page there is cut from: kept in this
    process for the feed generation, as the newest journeys are (_newest). Whoever scrolls
    down the feed asks for the rows the viewers before them asked for: the cursor of a page is
    its last journey, the same for everyone who sees that journey."""

    def read() -> list[CheckIn]:
        rows = CheckIn.objects.filter(
            after_cursor(after), visibility__in=FEED_VISIBILITIES, user__is_active=True
        ).select_related("user")
        return list(rows.order_by("-departure_planned", "-id")[:count])

    place = "newest" if after is None else f"{after[0].isoformat()}/{after[1]}"
    return _kept_in_process(f"rows:{place}:{count}", read)


def following_feed(
    *, viewer: User, after: tuple[datetime, int] | None = None, limit: int | None = None
) -> FeedPage:
    """The journeys of the people the viewer follows (accepted follows), followers-only ones
    included."""
    if connection.vendor != "postgresql":
        followed = Follow.objects.filter(follower=viewer, accepted=True).values("followee")
        journeys = checkins_visible_to(viewer).filter(
            user__in=followed, visibility__in=FOLLOWING_VISIBILITIES
        )
        return _page(with_likes(_not_muted(journeys, viewer), viewer), after, limit)
    page = _following_cut(viewer, relations_of(viewer), after, limit or PAGE_SIZE)
    _mark_likes(viewer, page.journeys)
    return page


def _following_cut(
    viewer: User, relations: Relations, after: tuple[datetime, int] | None, limit: int
) -> FeedPage:
    """following_feed on PostgreSQL: the newest journeys of each person followed, then the
    newest of those (see _following_ids), loaded by id and held to the privacy rule with the
    viewer's Relations: the same rows as the query on other databases, at a fraction of its
    cost to build. Likes are for the caller to mark (_mark_likes)."""
    ids = _following_ids(viewer, after, limit + 1)
    loaded = _journeys_by_id(ids)
    shown = _seen(loaded, relations, limit, lambda _: True, complete=True) or []
    more = len(ids) > limit and shown
    return FeedPage(shown, journey_cursor(shown[-1]) if more else None)


# Journeys read by id kept per process (see _journeys_by_id); past this many, all are let go.
JOURNEYS_KEPT = 2000


def _journeys_by_id(ids: list[int]) -> list[CheckIn]:
    """The journeys ``ids``, newest first, with their travellers: those read before kept in
    this process for the feed generation, as the newest are (_newest). The newest journeys of
    a much-followed traveller are on the following feed of every one of their followers."""
    kept: dict[int, CheckIn] = _kept_in_process("journeys-by-id", dict)
    # Read with get(): another request's thread may let them all go meanwhile.
    found = {journey_id: j for journey_id in ids if (j := kept.get(journey_id)) is not None}
    missing = [journey_id for journey_id in ids if journey_id not in found]
    if missing:
        read = {j.id: j for j in CheckIn.objects.filter(id__in=missing).select_related("user")}
        found.update(read)
        if len(kept) + len(read) > JOURNEYS_KEPT:
            kept.clear()
        kept.update(read)
    return sorted(found.values(), key=lambda j: (j.departure_planned, j.id), reverse=True)


def _following_ids(viewer: User, after: tuple[datetime, int] | None, count: int) -> list[int]:
    """The ids of the newest ``count`` feed journeys of the people the viewer follows, after
    the cursor. Asked as "the newest few of each person, then the newest of those", each
    person's read from their own journeys index: as a single query over everyone's journeys
    PostgreSQL reads and sorts tens of thousands of rows for someone who follows hundreds.

    People the feed leaves out anyway (sign-in blocked, muted, blocked either way) are left out
    here too: their journeys would take places in the ``count`` and leave the page short, with
    no cursor to the older journeys of everyone else."""
    # Only placeholders go into the text; values are parameters.
    cursor_sql, params = "", list[Any]()
    if after is not None:
        cursor_sql = "AND (c.departure_planned, c.id) < (%s, %s)"
        params = [after[0], after[1]]
    sql = f"""
        SELECT mine.id FROM feed_follow f
        JOIN feed_user u ON u.id = f.followee_id AND u.is_active
        CROSS JOIN LATERAL (
            SELECT c.id, c.departure_planned FROM checkins_checkin c
            WHERE c.user_id = f.followee_id AND c.visibility = ANY(%s) {cursor_sql}
            ORDER BY c.departure_planned DESC, c.id DESC LIMIT %s
        ) mine
        WHERE f.follower_id = %s AND f.accepted
          AND NOT EXISTS (
            SELECT 1 FROM feed_mute m WHERE m.muter_id = %s AND m.muted_id = f.followee_id
          )
          AND NOT EXISTS (
            SELECT 1 FROM feed_block b
            WHERE (b.blocker_id = %s AND b.blocked_id = f.followee_id)
               OR (b.blocker_id = f.followee_id AND b.blocked_id = %s)
          )
        ORDER BY mine.departure_planned DESC, mine.id DESC LIMIT %s
    """  # noqa: S608
    visibilities = [str(v) for v in FOLLOWING_VISIBILITIES]
    me = viewer.pk
    with connection.cursor() as cursor:
        cursor.execute(sql, [visibilities, *params, count, me, me, me, me, count])
        return [row[0] for row in cursor.fetchall()]


def travelling_now(
    *, viewer: Viewer, following_only: bool = False, limit: int = 10
) -> list[CheckIn]:
    """Journeys in progress (departed, not yet arrived, real times where known) among those the
    viewer's feed would list."""
    now = timezone.now()
    journeys = checkins_visible_to(viewer).filter(
        visibility__in=FOLLOWING_VISIBILITIES if following_only else FEED_VISIBILITIES,
        # No journey is longer than MAX_DURATION: this bounds the index range scanned.
        departure_planned__gt=now - MAX_DURATION,
        departure_planned__lte=now,
    )
    if following_only and viewer.is_authenticated:
        followed = Follow.objects.filter(follower=viewer, accepted=True).values("followee")
        journeys = journeys.filter(user__in=followed)
    journeys = _not_muted(journeys, viewer).filter(
        Q(arrival_real__gt=now) | Q(arrival_real__isnull=True, arrival_planned__gt=now)
    )
    # With their likes, as every other list of journeys (the API shows them).
    return list(with_likes(journeys, viewer).order_by("-departure_planned", "-id")[:limit])


def _cached(key: str, build: Callable[[], T]) -> T:
    """``build()``, kept in the cache under ``key`` for the current feed generation (which every
    change to what feeds show moves on, see trainy.generations.FEED), and for at most
    FRONT_PAGE_SECONDS, which bounds how stale the clock-driven "on the move now" and freshly
    enriched distances can be."""
    key = FEED_GENERATION.key(key)
    cached = cache.get(key)
    if cached is None:
        cached = build()
        cache.set(key, cached, FRONT_PAGE_SECONDS)
    return cached


# --- First pages cut from the newest journeys ---------------------------------------------------
#
# Every signed-in viewer's first page of the global feed, and everyone's "on the move now", is
# cut from the same few rows: the newest feed journeys and the journeys in progress. Each
# process keeps those for the current feed generation (no query, nothing to unpickle), and a
# viewer's page is what their Relations (one small query) let them see of them.

# The newest feed journeys kept: enough for a page of everyone but the few who mute or cannot
# see many of the most active travellers; their pages are asked of the database.
NEWEST_KEPT = 100
# Journeys in progress kept: at peak hours more are on the move than "on the move now" shows,
# and the newest are the ones shown.
MOVING_KEPT = 200


@dataclass(frozen=True)
class Newest:
    journeys: list[CheckIn]  # newest first, FEED_VISIBILITIES, of active travellers
    moving: list[CheckIn]  # in progress when read, newest first, FOLLOWING_VISIBILITIES

    @property
    def ids(self) -> list[int]:
        return [journey.id for journey in (*self.journeys, *self.moving)]


# Entries kept by _kept_in_process, least recently used first: the newest journeys, the rows
# of deeper pages (one entry per cursor, see _feed_rows) and profiles (two entries each), a
# few dozen kilobytes each at most, and the following feeds' journeys (one entry of at most
# JOURNEYS_KEPT). Past KEPT_ENTRIES the least recently used are let go.
_kept: OrderedDict[str, tuple[int, float, Any]] = OrderedDict()
_kept_lock = threading.Lock()
KEPT_ENTRIES = 200


def _kept_in_process(name: str, build: Callable[[], T]) -> T:
    """``build()``, kept in this process for the current feed generation and at most
    FRONT_PAGE_SECONDS (as _cached keeps entries in the cache). Built afresh every time while
    the cache is down: no generation can be read then, so a change would go unnoticed."""
    generation = FEED_GENERATION.current()
    if not generation:
        FEED_GENERATION.move_on()  # a cache that has not counted yet: start counting
        generation = FEED_GENERATION.current()
        if not generation:
            return build()
    now = time.monotonic()
    with _kept_lock:
        kept = _kept.get(name)
        if kept is not None and kept[0] == generation and now - kept[1] < FRONT_PAGE_SECONDS:
            _kept.move_to_end(name)
            return kept[2]
    value = build()
    with _kept_lock:
        _kept[name] = (generation, now, value)
        _kept.move_to_end(name)
        while len(_kept) > KEPT_ENTRIES:
            _kept.popitem(last=False)
    return value


def _newest() -> Newest:
    """The newest journeys that belong in anyone's feed, private profiles' included (their
    followers see them), and the journeys in progress. Their likes are marked on each
    viewer's copies of the few shown (_mark_likes)."""
    now = timezone.now()
    active = CheckIn.objects.filter(user__is_active=True).select_related("user")
    journeys = active.filter(visibility__in=FEED_VISIBILITIES)
    moving = active.filter(
        visibility__in=FOLLOWING_VISIBILITIES,
        departure_planned__gt=now - MAX_DURATION,
        departure_planned__lte=now,
    ).filter(Q(arrival_real__gt=now) | Q(arrival_real__isnull=True, arrival_planned__gt=now))
    newest_first = ("-departure_planned", "-id")
    return Newest(
        journeys=list(journeys.order_by(*newest_first)[:NEWEST_KEPT]),
        moving=list(moving.order_by(*newest_first)[:MOVING_KEPT]),
    )


def _viewer_copy(journey: CheckIn) -> CheckIn:
    """A viewer's own copy of a kept row, which is every viewer's and never changed. The
    model's pickling state (its fields and related rows, the ModelState copied), taken without
    copy.copy's detour through pickling's reconstruction: a copy per card of every page."""
    clone = CheckIn.__new__(CheckIn)
    clone.__dict__.update(journey.__getstate__())
    return clone


def _seen(
    journeys: list[CheckIn],
    relations: Relations,
    wanted: int,
    keep: Callable[[CheckIn], bool],
    *,
    complete: bool,
) -> list[CheckIn] | None:
    """The first ``wanted`` of ``journeys`` that the viewer sees and ``keep`` keeps, as the
    viewer's copies (for _mark_likes); None when fewer were found and ``journeys`` is not the
    ``complete`` list (more may be in the database)."""
    shown = []
    for journey in journeys:
        if keep(journey) and journey.user_id not in relations.muted and relations.sees(journey):
            shown.append(_viewer_copy(journey))
            if len(shown) == wanted:
                return shown
    return shown if complete else None


def _mark_likes(viewer: User, journeys: list[CheckIn]) -> None:
    """Set ``like_count`` and ``liked`` (as with_likes names them) on the viewer's copies of
    journeys (from _seen) as they stand now: one query for the journeys shown, answered from
    the like_once index. (A like count per row inside the rows' query costs as much again as
    loading them: a subquery per row, and Django building it on every page.)"""
    if not journeys:
        return
    # Written out (a table name in the text, values as parameters): the ORM takes longer to
    # build this query than the database to answer it, on every page of every viewer.
    ids = list({journey.id for journey in journeys})
    marks = ", ".join(["%s"] * len(ids))
    like = Like._meta.db_table
    sql = f"""
        SELECT checkin_id, COUNT(*), MAX(CASE WHEN user_id = %s THEN 1 ELSE 0 END)
        FROM {like} WHERE checkin_id IN ({marks}) GROUP BY checkin_id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [viewer.pk, *ids])
        counted = {checkin_id: (count, mine) for checkin_id, count, mine in cursor.fetchall()}
    for journey in journeys:
        count, mine = counted.get(journey.id, (0, 0))
        journey.like_count = count  # type: ignore[attr-defined] # with_likes names them
        journey.liked = bool(mine)  # type: ignore[attr-defined]


def _moving_seen(
    newest: Newest, relations: Relations, *, following_only: bool, limit: int = 10
) -> list[CheckIn] | None:
    """travelling_now's list cut from the kept journeys in progress; None when it cannot be."""
    now = timezone.now()

    def keep(journey: CheckIn) -> bool:
        arrival = journey.arrival_real or journey.arrival_planned
        if arrival is None or arrival <= now:
            return False  # arrived since the list was read
        if following_only:
            return journey.user_id in relations.followed
        return journey.visibility in FEED_VISIBILITIES

    return _seen(newest.moving, relations, limit, keep, complete=len(newest.moving) < MOVING_KEPT)


def demo_loaded() -> bool:
    """Whether the demo data (manage.py load_demo, its user ``demo``) is loaded, which the
    front page says; read once per process and feed generation, not on every page."""
    return _kept_in_process("demo", User.objects.filter(username=DEMO_USERNAME).exists)


def cached_global_feed(
    *, viewer: Viewer, after: tuple[datetime, int] | None = None, limit: int | None = None
) -> tuple[FeedPage, list[CheckIn]]:
    """A page of the global feed and who is travelling now. Signed out, the first page (of the
    pages' size) is the cached one; signed in, it is cut from the newest journeys, as is "on
    the move now" on every page."""
    limit = limit or PAGE_SIZE
    if not viewer.is_authenticated:
        if after is not None or limit != PAGE_SIZE:
            page = global_feed(viewer=viewer, after=after, limit=limit)
            return page, travelling_now(viewer=viewer)
        return _cached(
            "global:anonymous", lambda: (global_feed(viewer=viewer), travelling_now(viewer=viewer))
        )
    newest = _kept_in_process("newest", _newest)
    relations = relations_of(viewer)
    rows = None
    if after is None:
        rows = _seen(
            newest.journeys,
            relations,
            limit + 1,
            lambda _: True,
            complete=len(newest.journeys) < NEWEST_KEPT,
        )
    cut: FeedPage | None
    if rows is not None:
        more = len(rows) > limit
        cut = FeedPage(rows[:limit], journey_cursor(rows[limit - 1]) if more else None)
    else:
        cut = _global_cut(viewer, relations, after, limit)
    travelling = _moving_seen(newest, relations, following_only=False)
    # Whether the viewer liked them: asked for the few shown, not for every row kept.
    _mark_likes(viewer, [*(cut.journeys if cut else []), *(travelling or [])])
    page = cut or _global_query(viewer, after, limit)
    return page, travelling_now(viewer=viewer) if travelling is None else travelling


def cached_following_feed(
    *, viewer: User, after: tuple[datetime, int] | None = None, limit: int | None = None
) -> tuple[FeedPage, list[CheckIn]]:
    """A page of the following feed and who of them is travelling now (cut from the journeys
    in progress)."""
    if connection.vendor != "postgresql":
        page = following_feed(viewer=viewer, after=after, limit=limit)
        return page, travelling_now(viewer=viewer, following_only=True)
    relations = relations_of(viewer)
    page = _following_cut(viewer, relations, after, limit or PAGE_SIZE)
    newest = _kept_in_process("newest", _newest)
    travelling = _moving_seen(newest, relations, following_only=True)
    _mark_likes(viewer, [*page.journeys, *(travelling or [])])
    if travelling is None:
        travelling = travelling_now(viewer=viewer, following_only=True)
    return page, travelling


# --- Profiles ---------------------------------------------------------------------------------


FOLLOW_STATES = ("self", "none", "requested", "following")


@dataclass(frozen=True)
class Relation:
    """How the viewer stands to a profile's owner."""

    is_self: bool = False
    follows: bool = False
    requested: bool = False  # a follow request waits for the owner
    followed_by: bool = False
    blocked: bool = False  # the viewer blocked the owner
    blocked_by: bool = False  # the owner blocked the viewer
    muted: bool = False

    @property
    def sees_journeys(self) -> bool:
        return not self.blocked_by

    @property
    def follow_state(self) -> str:
        """One of FOLLOW_STATES: where the viewer's following of the owner stands."""
        if self.is_self:
            return "self"
        if self.follows:
            return "following"
        return "requested" if self.requested else "none"


def relation(*, viewer: Viewer, owner: User) -> Relation:
    if not viewer.is_authenticated:
        return Relation()
    if viewer.pk == owner.pk:
        return Relation(is_self=True)
    follow, block, mute = (model._meta.db_table for model in (Follow, Block, Mute))
    # Every profile page asks: one query written out (only table names go into the text;
    # values are parameters), as relations_of is, for the three the ORM would build.
    sql = f"""
        SELECT 'f', follower_id, accepted FROM {follow}
        WHERE (follower_id = %s AND followee_id = %s) OR (follower_id = %s AND followee_id = %s)
        UNION ALL SELECT 'b', blocker_id, TRUE FROM {block}
        WHERE (blocker_id = %s AND blocked_id = %s) OR (blocker_id = %s AND blocked_id = %s)
        UNION ALL SELECT 'm', muter_id, TRUE FROM {mute} WHERE muter_id = %s AND muted_id = %s
    """  # noqa: S608
    me, them = viewer.pk, owner.pk
    with connection.cursor() as cursor:
        cursor.execute(sql, [me, them, them, me] * 2 + [me, them])
        found = {(kind, who, bool(accepted)) for kind, who, accepted in cursor.fetchall()}
    return Relation(
        follows=("f", me, True) in found,
        requested=("f", me, False) in found,
        followed_by=("f", them, True) in found,
        blocked=("b", me, True) in found,
        blocked_by=("b", them, True) in found,
        muted=("m", me, True) in found,
    )


@dataclass(frozen=True)
class Profile:
    owner: User
    relation: Relation
    page: FeedPage
    totals: Totals
    followers: int
    following: int


def profile_get(
    *,
    viewer: Viewer,
    username: str,
    after: tuple[datetime, int] | None = None,
    limit: int = PAGE_SIZE,
) -> Profile | None:
    """A traveller's profile as the viewer may see it: their visible journeys (unlisted ones
    included), ``limit`` of them after the cursor ``after``, and totals over those only. None
    for an unknown user or one who blocked the viewer (the same answer, so a block does not
    show)."""
    # A much-visited profile is asked for by one viewer after another: the owner and the
    # figures of each standing are kept in this process, as the feed's newest journeys are.
    owner = _profile_owner(username)
    if owner is None:
        return None
    standing = relation(viewer=viewer, owner=owner)
    if standing.blocked_by:
        return None

    def figures() -> tuple[FeedPage, Totals, dict[str, int]]:
        journeys = checkins_visible_to(viewer).filter(user=owner)
        # As the follow lists count them: people whose sign-in is blocked are left out.
        counts = Follow.objects.filter(
            Q(followee=owner, follower__is_active=True)
            | Q(follower=owner, followee__is_active=True),
            accepted=True,
        ).aggregate(
            followers=Count("id", filter=Q(followee=owner)),
            following=Count("id", filter=Q(follower=owner)),
        )
        # Signed in, the likes are marked on the viewer's copies (_liked_by); signed out, the
        # like counts come with the rows.
        shown = journeys if viewer.is_authenticated else with_likes(journeys, viewer)
        page = _page(shown, after, limit)
        return page, checkin_totals(journeys), counts

    if after is None and limit == PAGE_SIZE:
        key = f"profile:{owner.pk}:{_standing(viewer, standing)}"
        page, totals, counts = _kept_in_process(key, lambda: _cached(key, figures))
    else:
        page, totals, counts = figures()
    page = _liked_by(viewer, page)
    return Profile(
        owner=owner,
        relation=standing,
        page=page,
        totals=totals,
        followers=counts["followers"],
        following=counts["following"],
    )


def _profile_owner(username: str) -> User | None:
    """The traveller ``username`` whose sign-in is not blocked, kept in this process for the
    feed generation; a username nobody has is not kept (who signs up has a profile at once)."""
    key = f"traveller:{username}"
    owner = _kept_in_process(
        key, lambda: User.objects.filter(username=username, is_active=True).first()
    )
    if owner is None:
        with _kept_lock:
            _kept.pop(key, None)
    return owner


def _standing(viewer: Viewer, standing: Relation) -> str:
    """Who the viewer is to a profile's owner, as far as which of the owner's journeys they see
    goes: by checkins_visible_to, signed-in viewers who neither follow the owner (accepted) nor
    block them see the same, as do all their accepted followers. The profile's figures are
    kept per standing, not per viewer (tests/feed/test_privacy.py checks the pages)."""
    if not viewer.is_authenticated:
        return "anonymous"
    if standing.is_self:
        return f"self:{viewer.pk}"
    if standing.blocked:
        return "blocker"
    return "follower" if standing.follows else "signed-in"


def _liked_by(viewer: Viewer, page: FeedPage) -> FeedPage:
    """The page with its likes marked for a signed-in viewer (_mark_likes)."""
    if not viewer.is_authenticated:
        return page
    journeys = [_viewer_copy(journey) for journey in page.journeys]  # the kept page stays as is
    _mark_likes(viewer, journeys)
    return FeedPage(journeys, page.next_cursor)


def traveller_get(*, viewer: Viewer, username: str) -> User | None:
    """The traveller ``username`` as the viewer may address them (to follow, block, mute…).
    None for an unknown username, for someone whose sign-in is blocked and for someone who
    blocked the viewer: the same answer for all three, so a block does not show."""
    other = User.objects.filter(username=username, is_active=True).first()
    if other is None or not viewer.is_authenticated or other.pk == viewer.pk:
        return other
    if Block.objects.filter(blocker=other, blocked=viewer).exists():
        return None
    return other


def _waiting_requests(owner: User) -> QuerySet[Follow]:
    return Follow.objects.filter(followee=owner, accepted=False, follower__is_active=True).filter(
        not_blocked(owner, "follower")
    )


def follow_requests(*, owner: User) -> list[Follow]:
    return list(_waiting_requests(owner).select_related("follower").order_by("-created_at"))


def follow_request_page(
    *, owner: User, after: int | None = None, limit: int = 50
) -> tuple[list[Follow], str | None]:
    """The follow requests waiting for ``owner``, newest first, ``limit`` of them after the
    request with id ``after`` (keyset on the follow's id, read as parse_follow_cursor reads it),
    and the next page's cursor if any."""
    waiting = _waiting_requests(owner)
    if after is not None:
        waiting = waiting.filter(id__lt=after)
    rows = list(waiting.select_related("follower").order_by("-id")[: limit + 1])
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def follow_request_get(*, owner: User, request_id: int) -> Follow | None:
    """One of the follow requests waiting for ``owner`` (as follow_requests lists them), by the
    follow's id; None for anyone else's, one answered already, or one of someone left out."""
    return _waiting_requests(owner).filter(id=request_id).first()


# People per page of a follow list: bounded, whatever the query string says.
FOLLOW_LIST_SIZE = 50


@dataclass(frozen=True)
class FollowList:
    """One page of a traveller's followers (``direction`` "followers") or of those they follow
    ("following"). ``shown`` is False when the viewer may not see the list (a private
    profile's lists are for its owner and accepted followers): ``people`` is empty then."""

    owner: User
    relation: Relation
    direction: str
    shown: bool
    people: list[User]
    next_cursor: str | None


def parse_follow_cursor(text: str) -> int | None:
    """A follow-list cursor (the id of the last follow shown), or None if it is not one."""
    return int(text) if text.isdigit() and len(text) <= 18 else None


def follow_list(
    *,
    viewer: Viewer,
    username: str,
    direction: str,
    after: int | None = None,
    limit: int = FOLLOW_LIST_SIZE,
) -> FollowList | None:
    """A traveller's followers or those they follow (accepted follows), newest first, ``limit``
    of them after the cursor ``after`` (keyset on the follow's id: no OFFSET, each page costs
    the same).

    None, as for an unknown username, when there is no such active traveller or a block stands
    between them and the viewer either way. People whose sign-in is blocked and people blocked
    either way by the viewer are left out of the list.
    """
    if direction not in ("followers", "following"):
        raise ValueError(f"no follow list {direction!r}")
    owner = User.objects.filter(username=username, is_active=True).first()
    if owner is None:
        return None
    standing = relation(viewer=viewer, owner=owner)
    if standing.blocked or standing.blocked_by:
        return None
    if owner.private_profile and not (standing.is_self or standing.follows):
        return FollowList(owner, standing, direction, False, [], None)
    # The person listed on each follow: the follower, or the one followed.
    person = "follower" if direction == "followers" else "followee"
    mine = {"followee": owner} if direction == "followers" else {"follower": owner}
    follows = Follow.objects.filter(accepted=True, **mine, **{f"{person}__is_active": True})
    if viewer.is_authenticated:
        follows = follows.filter(not_blocked(viewer, person))
    if after is not None:
        follows = follows.filter(id__lt=after)
    rows = list(follows.select_related(person).order_by("-id")[: limit + 1])
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    people = [getattr(row, person) for row in rows[:limit]]
    return FollowList(owner, standing, direction, True, people, next_cursor)


def likers(*, viewer: Viewer, checkin: CheckIn, limit: int = 100) -> list[User]:
    """Who liked a journey the viewer may see, without those blocked either way and those whose
    sign-in is blocked (their profiles are gone)."""
    likes = (
        Like.objects.filter(checkin=checkin, user__is_active=True)
        .select_related("user")
        .order_by("-created_at")
    )
    if viewer.is_authenticated:
        likes = likes.filter(not_blocked(viewer))
    return [like.user for like in likes[:limit]]


# --- Notifications ----------------------------------------------------------------------------


def _inbox(recipient: User) -> QuerySet[Notification]:
    """The notifications the recipient is shown: none from someone blocked either way or whose
    sign-in is blocked, and none about a journey the recipient may not see (checked per
    notification, by the journey's id: the recipient's own journeys are always theirs to see,
    so a like on one they have made private still shows)."""
    seen = checkins_visible_to(recipient).filter(id=OuterRef("checkin_id"))
    return (
        Notification.objects.filter(recipient=recipient, actor__is_active=True)
        .filter(not_blocked(recipient, "actor"))
        .filter(Q(checkin__isnull=True) | Exists(seen))
    )


def notifications(*, recipient: User, limit: int = 50) -> list[Notification]:
    """The recipient's newest notifications (see _inbox), unread ones with ``read_at`` None."""
    return list(
        _inbox(recipient).select_related("actor", "checkin").order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class NotificationPage:
    items: list[Notification]
    next_cursor: str | None


def notification_page(
    *, recipient: User, after: tuple[datetime, int] | None = None, limit: int = 50
) -> NotificationPage:
    """The recipient's notifications as ``notifications`` lists them, ``limit`` of them after
    the cursor ``after`` (checkins.selectors.parse_cursor's): keyset, no OFFSET."""
    inbox = _inbox(recipient).select_related("actor", "checkin")
    rows, next_cursor = page_after(inbox, after, limit, field="created_at")
    return NotificationPage(rows, next_cursor)


# Unread notifications counted from their rows (see unread_count); past this many, by the query.
UNREAD_LOADED = 100


def unread_count(*, recipient: User) -> int:
    """How many of the notifications the recipient is shown are unread."""
    # Every page's header asks. A traveller who has read their notifications (until the next
    # one comes) has none unread: one look at the unread index answers. PostgreSQL takes ten
    # times longer to plan the query of the values the privacy rule needs (four tables) than
    # to run it, so it is asked only when there are unread ones: their notifications are read
    # as those few values (models would cost more than the query) and held to _inbox's rule
    # with the recipient's Relations (tests/feed/test_privacy.py holds the two to each other).
    # Written out, as relations_of is, because the ORM takes longer to build these queries
    # than the database to answer them. Only table names go into the text; values are
    # parameters.
    notification, user, journey = (model._meta.db_table for model in (Notification, User, CheckIn))
    with connection.cursor() as cursor:
        any_unread = f"SELECT 1 FROM {notification} WHERE recipient_id = %s AND read_at IS NULL"  # noqa: S608
        cursor.execute(f"{any_unread} LIMIT 1", [recipient.pk])
        if cursor.fetchone() is None:
            return 0
        cursor.execute(
            f"""
            SELECT n.actor_id, actor.is_active, n.checkin_id, j.user_id, owner.is_active,
                   owner.private_profile, j.visibility
            FROM {notification} n
            JOIN {user} actor ON actor.id = n.actor_id
            LEFT JOIN {journey} j ON j.id = n.checkin_id
            LEFT JOIN {user} owner ON owner.id = j.user_id
            WHERE n.recipient_id = %s AND n.read_at IS NULL
            LIMIT %s
            """,  # noqa: S608
            [recipient.pk, UNREAD_LOADED + 1],
        )
        unread = cursor.fetchall()
    if len(unread) > UNREAD_LOADED:
        return _inbox(recipient).filter(read_at__isnull=True).count()
    relations = relations_of(recipient)
    return sum(
        1
        for actor_id, actor_active, checkin_id, *journey in unread
        if actor_active
        and actor_id not in relations.blocked
        and (checkin_id is None or relations.sees_values(*journey))
    )


# --- Webhooks ----------------------------------------------------------------------------------

# How many deliveries of each endpoint the webhooks page lists.
RECENT_DELIVERIES = 20


def _moment(value: datetime | None, time_zone: str = "") -> str | None:
    """ISO 8601 with the offset: in the journey's own time zone where it has a valid one."""
    if value is None:
        return None
    try:
        zone = ZoneInfo(time_zone) if time_zone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return value.astimezone(zone).isoformat()


def webhook_checkin_payload(*, checkin: CheckIn) -> dict[str, Any]:
    """The journey as its owner sees it (the only viewer a webhook of the owner's has: its
    message, purpose, price and cost centre included), for the ``checkin.*`` events. Ids are
    strings, times ISO 8601 with their offset."""
    zone = checkin.time_zone

    def place(prefix: str) -> dict[str, Any]:
        return {
            "name": getattr(checkin, f"{prefix}_name"),
            "stop_id": getattr(checkin, f"{prefix}_stop_id") or None,
            "lat": getattr(checkin, f"{prefix}_lat"),
            "lon": getattr(checkin, f"{prefix}_lon"),
        }

    return {
        "id": str(checkin.pk),
        "user": {"id": str(checkin.user_id), "username": checkin.user.username},
        "mode": checkin.mode,
        "line_name": checkin.line_name,
        "operator_name": checkin.operator_name,
        "origin": place("origin"),
        "destination": place("destination"),
        "departure_planned": _moment(checkin.departure_planned, zone),
        "arrival_planned": _moment(checkin.arrival_planned, zone),
        "departure_real": _moment(checkin.departure_real, zone),
        "arrival_real": _moment(checkin.arrival_real, zone),
        "time_zone": zone,
        "message": checkin.message,
        "visibility": checkin.visibility,
        "purpose": checkin.purpose,
        "ticket_price": None if checkin.ticket_price is None else str(checkin.ticket_price),
        "cost_centre": checkin.cost_centre,
        "trip": (
            {
                "feed": checkin.feed_name,
                "trip_id": checkin.trip_id,
                "service_date": checkin.service_date.isoformat(),
            }
            if checkin.trip_id and checkin.service_date
            else None
        ),
        "created_at": _moment(checkin.created_at),
        "updated_at": _moment(checkin.updated_at),
    }


def webhook_notification_payload(*, notification: Notification) -> dict[str, Any] | None:
    """The notification as its recipient's notifications page shows it, for
    ``notification.created``; None when that page would not show it (see _inbox: a blocked
    actor, a journey the recipient may not see), so a webhook never tells more than the page."""
    if not _inbox(notification.recipient).filter(id=notification.pk).exists():
        return None
    return {
        "id": str(notification.pk),
        "kind": notification.kind,
        "text": notification.get_kind_display(),
        "actor": {"id": str(notification.actor_id), "username": notification.actor.username},
        "checkin_id": None if notification.checkin_id is None else str(notification.checkin_id),
        "created_at": _moment(notification.created_at),
    }


def webhook_endpoints(*, owner: User) -> list[WebhookEndpoint]:
    """The owner's endpoints, newest first, each with its events (``subscriptions``) and its
    last RECENT_DELIVERIES deliveries (``recent``), in three queries."""
    recent = WebhookDelivery.objects.order_by("-created_at", "-id")[:RECENT_DELIVERIES]
    return list(
        WebhookEndpoint.objects.filter(owner=owner)
        .prefetch_related("subscriptions", Prefetch("deliveries", recent, to_attr="recent"))
        .order_by("-created_at", "-id")
    )


def webhook_endpoint_get(*, owner: User, endpoint_id: int) -> WebhookEndpoint | None:
    """One of the owner's endpoints; None for anyone else's (answered as unknown)."""
    return WebhookEndpoint.objects.filter(owner=owner, id=endpoint_id).first()


def webhook_deliveries(
    *, endpoint: WebhookEndpoint, after: tuple[datetime, int] | None = None, limit: int = 20
) -> tuple[list[WebhookDelivery], str | None]:
    """The endpoint's deliveries, newest first (as the webhooks page lists them), one page after
    the cursor ``after`` by keyset on webhook_delivery_recent (no OFFSET), and the next page's
    cursor if there is one. ``endpoint`` comes from webhook_endpoint_get: its owner's."""
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).defer("payload")
    return page_after(deliveries, after, limit, field="created_at")
