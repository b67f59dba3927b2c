"""A realistic data set for the feed benchmarks: travellers, two years of their journeys cut
from the active timetables, follows, likes, a few blocks and mutes, and the notifications all
this would have sent.

PostgreSQL only: rows go in with COPY, all in one transaction, so a run that fails leaves
nothing behind. The travellers are the users ``seed-user-NNNNN``; ``--replace`` deletes them and
everything of theirs first. Not part of ``make run``: point DATABASE_URL at a database of its
own (see README.md, "Seed data"):

    DATABASE_URL=postgres://…/trainy_bench .venv/bin/python bench/seed.py --users 10000

A Django command run by this script rather than by manage.py: a benchmark's tool, it stays out of
the shipped apps and the image (bench/ is in .dockerignore). Its options are manage.py's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a script: Django is set up (as manage.py does) before the models below are imported.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trainy.settings")
    import django

    django.setup()

import bisect
import itertools
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone
from tqdm import tqdm

from checkins.geo import great_circle_m
from checkins.models import CheckIn, Purpose, Visibility
from checkins.timetable.selectors import ActiveVersion, active_versions, line_name
from feed.models import Block, Follow, Like, Mute, Notification
from trainy.accounts.models import User
from trainy.generations import FEED

USERNAME_PREFIX = "seed-user-"

# Who the travellers are.
PRIVATE_PROFILE_SHARE = 0.05
LIKES_OFF_SHARE = 0.02
JOINED_BEFORE_SHARE = 0.4  # the others joined during the seeded years, evenly
LURKER_SHARE = 0.08  # never check in; they follow and like
ACTIVITY_SIGMA = 1.2  # log-normal journeys per day: a long tail, and some heavy travellers
MAX_JOURNEYS_PER_DAY = 5  # caps the heaviest, so their journeys can stay apart
HOME_FEED_SHARE = 0.9  # most journeys of a traveller are in one network

# When they travel: a weekday is busier than a weekend day; by the hour of departure (local
# time of the feed), morning and evening peaks. The timetable's own frequency comes on top.
WEEKDAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.7, 0.55)  # Monday first
HOUR_WEIGHTS = (0.15, 0.08, 0.05, 0.05, 0.1, 0.3, 0.7, 1.0, 1.0, 0.8, 0.6, 0.6,
                0.65, 0.65, 0.65, 0.75, 0.9, 1.0, 0.95, 0.75, 0.55, 0.45, 0.35, 0.25)  # fmt: skip
GAP_S = 60  # between two journeys of one traveller
TRIPS_PER_FEED = 4000  # sampled trips each journey is cut from (a random entry and exit)

VISIBILITY_MIX = {
    Visibility.PUBLIC: 70,
    Visibility.UNLISTED: 8,
    Visibility.FOLLOWERS: 8,
    Visibility.AUTHENTICATED: 8,
    Visibility.PRIVATE: 6,
}
PURPOSE_MIX = {Purpose.PRIVATE: 60, Purpose.COMMUTE: 28, Purpose.BUSINESS: 12}
CHECKED_IN_AFTERWARDS_SHARE = 0.15  # the others check in on the platform, before departure
REAL_TIME_SHARE = 0.3  # journeys a realtime feed reported times for
MESSAGE_SHARE = 0.2
MESSAGES = (
    "Off to work.", "Finally a seat!", "Late again…", "Coffee and a window seat.",
    "Meeting in two hours, slides not done.", "Home time.", "Packed like sardines.",
    "Signal failure, of course.", "Quiet car, bliss.", "Visiting family this weekend.",
    "The air conditioning works today!", "Running for the connection.", "Reading on the way.",
    "Night ride.", "Conference day 2.", "Weekend trip 🎒", "Short hop across town.",
    "Missed the earlier one by a minute.", "Beautiful sunrise out there.", "On time for once.",
)  # fmt: skip

# Follows per traveller: a power law over 0..200, (d + 3)^-1.4: 15 % follow nobody, half
# follow 7 or fewer, 7 % follow 100 or more; mean about 23. Popular travellers (the active
# ones) are followed more.
MAX_FOLLOWS = 200
FOLLOW_EXPONENT = 1.4
FOLLOW_OFFSET = 3
PENDING_SHARE = 0.2  # follows of private profiles still waiting to be accepted

# Likes: about two per public journey, more on recent ones and on popular travellers', mostly
# from their followers.
LIKES_PER_PUBLIC_JOURNEY = 2.0
LIKE_RECENCY_DAYS = 30
LIKES_FROM_FOLLOWERS = 0.8
BLOCKS_PER_USER = 1 / 200
MUTES_PER_USER = 1 / 50

FIRST_NAMES = (
    "Ada", "Ben", "Chiara", "Dmitri", "Elif", "Femi", "Grace", "Hiro", "Ines", "Jonas", "Kofi",
    "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma",
    "Viktor", "Wen", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Carmen", "Dario",
)  # fmt: skip
LAST_NAMES = (
    "Abara", "Berg", "Castillo", "Dubois", "Eriksen", "Fischer", "García", "Hoffmann", "Ito",
    "Jansen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi",
    "Schmidt", "Tanaka", "Umarov", "Varga", "Weber", "Xu", "Yilmaz", "Zieliński", "Murphy",
    "Singh", "Novak", "Costa", "Larsen",
)  # fmt: skip

BATCH = 10_000  # rows between two progress updates


@dataclass(frozen=True)
class PoolTrip:
    """A timetable trip journeys are cut from: its stops that have times, in order."""

    feed: int  # index into the active versions
    line: str
    mode: str
    operator: str
    departures: tuple[int, ...]  # seconds of the service day, at each timed stop
    arrivals: tuple[int, ...]
    names: tuple[str, ...]
    lats: tuple[float | None, ...]
    lons: tuple[float | None, ...]
    along_m: tuple[float, ...] | None  # metres from the first stop; None: a stop has no position


# The trips and, per feed and weekday, the indexes of those that run on it.
Pool = tuple[list[PoolTrip], list[list[list[int]]]]
# A journey of one traveller: (departure, arrival, trip index, entry, exit), epoch seconds and
# indexes into the trip's timed stops.
Candidate = tuple[float, float, int, int, int]
# (created, departure, traveller index, trip index, entry, exit)
Planned = tuple[float, float, int, int, int, int]


@dataclass
class Traveller:
    id: int
    username: str
    display_name: str
    private: bool
    likes_enabled: bool
    joined: float  # epoch seconds
    home: int  # the feed most of their journeys are on
    activity: float
    journeys: int = 0
    cap: int = 0  # journeys at most
    followers: list[int] = field(default_factory=list)  # indexes of accepted followers


@dataclass(frozen=True)
class Window:
    start: float  # epoch seconds
    now: float
    days: list[date]
    day_weights: list[float]  # cumulative, by weekday
    zeros: list[list[float]]  # per feed, per day: GTFS's zero of that service day (epoch)


def _weighted(mix: dict[Any, int]) -> tuple[list[Any], list[float]]:
    return list(mix), list(itertools.accumulate(mix.values()))


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class Command(BaseCommand):
    help = (
        "Fill the database with seed travellers, their journeys over the last years (cut from "
        "the active timetables), follows, likes and notifications, for the feed benchmarks. "
        "PostgreSQL only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=10_000, help="travellers (10,000)")
        parser.add_argument("--journeys", type=int, default=1_000_000, help="in all (1,000,000)")
        parser.add_argument("--years", type=float, default=2.0, help="back from now (2)")
        parser.add_argument("--seed", type=int, default=1, help="of the random choices (1)")
        parser.add_argument("--replace", action="store_true", help="delete earlier seed data first")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                f"seed needs PostgreSQL (it loads rows with COPY); the database is "
                f"{connection.vendor}. Point DATABASE_URL at a PostgreSQL database of its own."
            )
        users, journeys, years = options["users"], options["journeys"], options["years"]
        if users < 2 or journeys < 0 or years <= 0:
            raise CommandError("--users must be at least 2, --journeys at least 0, --years > 0")
        versions = active_versions()
        if not versions:
            raise CommandError(
                "no active timetable to cut journeys from: import one first, e.g. "
                "`manage.py import_gtfs ../shared/data/gtfs/db-fv-2019/gtfs --name db-fv-2019`"
            )
        existing = User.objects.filter(username__startswith=USERNAME_PREFIX).count()
        if existing and not options["replace"]:
            raise CommandError(
                f"{existing:,} seed users ({USERNAME_PREFIX}…) exist already: run with --replace "
                "to delete them and everything of theirs first"
            )
        seeder = Seeder(
            versions=versions,
            rng=random.Random(options["seed"]),  # noqa: S311 (reproducible data, not secrets)
            verbosity=options["verbosity"],
            say=self.stderr.write,
        )
        started = time.perf_counter()
        with transaction.atomic(), seeder.foreign_keys_checked_at_the_end():
            if existing:
                seeder.delete_earlier()
            seeder.run(users=users, journeys=journeys, years=years)
            # The cached signed-out front page shows the new journeys from the commit on.
            FEED.changed()
        seeder.analyze()
        seconds = time.perf_counter() - started
        counts = ", ".join(f"{name} {count:,}" for name, count in seeder.counts.items())
        phases = ", ".join(f"{name} {spent:.1f} s" for name, spent in seeder.seconds.items())
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(f"Seeded in {seconds:.1f} s: {counts}.\nTime: {phases}.")
            )


class Seeder:
    def __init__(
        self,
        *,
        versions: list[ActiveVersion],
        rng: random.Random,
        verbosity: int,
        say: Callable[[str], Any],
    ) -> None:
        self.versions = versions
        self.rng = rng
        self.verbosity = verbosity
        self.say = say
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    # --- Orchestration --------------------------------------------------------------------

    def run(self, *, users: int, journeys: int, years: float) -> None:
        now = timezone.now().timestamp()
        window = self._window(now - years * 365.25 * 86_400, now)
        with self._phase("timetable"):
            pool = self._pool()
        with self._phase("travellers"):
            travellers = self._travellers(users, window)
            self._share_out(travellers, journeys, window)
            self._copy(User, self._user_rows(travellers), len(travellers), "users",
                       ["id", "password", "username", "first_name", "last_name", "email",
                        "date_joined", "display_name", "private_profile",
                        "likes_enabled"])  # fmt: skip
        with self._phase("follows"):
            follows = self._follows(travellers, window)
            self._copy(Follow, self._stamped(follows, lambda f: (f[0], f[1], f[2])), len(follows),
                       "follows", ["created_at", "updated_at", "follower", "followee",
                                   "accepted"])  # fmt: skip
            blocks, mutes = self._blocks_and_mutes(travellers, follows, now)
            self._copy(Block, self._stamped(blocks, lambda b: b[:2]), len(blocks), "blocks",
                       ["created_at", "updated_at", "blocker", "blocked"])  # fmt: skip
            self._copy(Mute, self._stamped(mutes, lambda m: m[:2]), len(mutes), "mutes",
                       ["created_at", "updated_at", "muter", "muted"])  # fmt: skip
        with self._phase("journeys"):
            planned = self._plan_journeys(travellers, pool, window)
            ids = _reserve_ids(CheckIn, len(planned))
            public: list[tuple[int, int, float]] = []  # (journey id, traveller index, created)
            rows = self._checkin_rows(planned, ids, travellers, pool, now, public)
            self._copy(CheckIn, rows, len(planned), "journeys", CHECKIN_FIELDS)
            # Each phase lets go of what the next ones do not need: at 10M journeys the plan,
            # the public journeys, the likes and the notifications are gigabytes each as Python
            # objects, and the run kept them all to the end (12 GB at its peak).
            del planned, ids, rows
        with self._phase("likes"):
            likes = self._likes(public, travellers, blocks, now)
            del public
            self._copy(Like, self._stamped(likes, lambda like: (like[1], like[2])), len(likes),
                       "likes", ["created_at", "updated_at", "user", "checkin"])  # fmt: skip
        with self._phase("notifications"):
            notes = self._notifications(follows, likes, travellers, now)
            del likes
            self._copy(Notification, self._notification_rows(notes, now), len(notes),
                       "notifications", ["created_at", "updated_at", "recipient", "actor",
                                         "kind", "checkin", "read_at"])  # fmt: skip

    def _phase(self, name: str) -> _Phase:
        return _Phase(self, name)

    def _note(self, text: str) -> None:
        if self.verbosity >= 1:
            self.say(text)

    def _copy(
        self,
        model: type[models.Model],
        rows: Iterator[Sequence[Any]],
        total: int,
        label: str,
        fields: Sequence[str],
    ) -> None:
        """COPY ``rows`` (values of ``fields``, in that order) into the model's table; the
        model's other columns get their defaults (a column added later needs no change here)."""
        opts = model._meta
        rest = [f for f in opts.concrete_fields if f.name not in fields and not f.primary_key]
        defaults = tuple(f.get_default() for f in rest)
        unfilled = [f.name for f, value in zip(rest, defaults, strict=True)
                    if value is None and not f.null]  # fmt: skip
        if unfilled:
            raise CommandError(f"seed does not fill {opts.label}.{', '.join(unfilled)}: add it")
        names = [*(_column(model, name) for name in fields), *(f.column for f in rest)]
        columns = ", ".join(connection.ops.quote_name(name) for name in names)
        statement = f"COPY {connection.ops.quote_name(opts.db_table)} ({columns}) FROM STDIN"
        started = time.perf_counter()
        count = 0
        with (
            tqdm(
                total=total,
                desc=f"{label:<14}",
                unit=" rows",
                unit_scale=True,
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
                disable=self.verbosity < 1,
            ) as bar,
            connection.cursor() as cursor,
            cursor.cursor.copy(statement) as copy,  # psycopg's own cursor: Django's has no copy()
        ):
            while batch := list(itertools.islice(rows, BATCH)):
                for row in batch:
                    copy.write_row((*row, *defaults))
                count += len(batch)
                bar.update(len(batch))
        seconds = time.perf_counter() - started
        self.counts[label] = count
        rate = count / seconds if seconds > 0 else 0.0
        self._note(f"{label:<14} {count:>10,} rows {seconds:7.1f} s {rate:>10,.0f} rows/s")

    def _stamped(
        self, rows: list[tuple[Any, ...]], values: Callable[[tuple[Any, ...]], tuple[Any, ...]]
    ) -> Iterator[tuple[Any, ...]]:
        """Rows whose last item is their creation time (epoch), as (created, updated, ...)."""
        for row in rows:
            moment = _moment(row[-1])
            yield (moment, moment, *values(row))

    # --- The timetable --------------------------------------------------------------------

    def _pool(self) -> Pool:
        """Sampled trips of every active version, and per feed and weekday the indexes of the
        trips that run on that weekday (all of the feed's trips where none does)."""
        trips: list[PoolTrip] = []
        by_weekday: list[list[list[int]]] = []
        for feed, version in enumerate(self.versions):
            weekdays: list[list[int]] = [[] for _ in range(7)]
            first = len(trips)
            for trip, days in self._version_trips(feed, version):
                for weekday in days:
                    weekdays[weekday].append(len(trips))
                trips.append(trip)
            if len(trips) == first:
                raise CommandError(f"feed {version.feed} has no trip with two timed stops")
            every = list(range(first, len(trips)))
            by_weekday.append([found or every for found in weekdays])
        self._note(f"timetable: {len(trips):,} trips sampled from "
                   f"{', '.join(v.feed for v in self.versions)}")  # fmt: skip
        return trips, by_weekday

    def _version_trips(
        self, feed: int, version: ActiveVersion
    ) -> Iterator[tuple[PoolTrip, set[int]]]:
        everything = [row[0] for row in _fetch(
            "SELECT trip_pk FROM tt_trip WHERE version_id = %s ORDER BY trip_pk", [version.id]
        )]  # fmt: skip
        chosen = sorted(self.rng.sample(everything, min(len(everything), TRIPS_PER_FEED)))
        heads = _fetch(
            """
            SELECT t.trip_pk, r.route_id, r.short_name, r.long_name, t.short_name, r.mode,
                   COALESCE(a.name, ''), t.service_pk
            FROM tt_trip t
            JOIN tt_route r ON r.version_id = t.version_id AND r.route_pk = t.route_pk
            LEFT JOIN tt_agency a ON a.version_id = r.version_id AND a.agency_pk = r.agency_pk
            WHERE t.version_id = %s AND t.trip_pk = ANY(%s)
            ORDER BY t.trip_pk
            """,
            [version.id, chosen],
        )
        weekdays: dict[int, set[int]] = {
            service: {isodow - 1 for isodow in days}
            for service, days in _fetch(
                "SELECT service_pk, array_agg(DISTINCT EXTRACT(ISODOW FROM date)::int)"
                " FROM tt_service_date WHERE version_id = %s AND service_pk = ANY(%s)"
                " GROUP BY service_pk",
                [version.id, sorted({head[7] for head in heads})],
            )
        }
        calls: dict[int, list[tuple[Any, ...]]] = {}
        for trip_pk, *call in _fetch(
            """
            SELECT st.trip_pk, st.arrival_s, st.departure_s, COALESCE(p.name, s.name), s.lat,
                   s.lon
            FROM tt_stop_time st
            JOIN tt_stop s ON s.version_id = st.version_id AND s.stop_pk = st.stop_pk
            LEFT JOIN tt_stop p ON p.version_id = s.version_id AND p.stop_pk = s.parent_pk
            WHERE st.version_id = %s AND st.trip_pk = ANY(%s)
            ORDER BY st.trip_pk, st.seq
            """,
            [version.id, chosen],
        ):
            calls.setdefault(trip_pk, []).append(tuple(call))
        for trip_pk, route_id, short, long, trip_short, mode, agency, service in heads:
            trip = _pool_trip(
                feed,
                line_name(short, long, trip_short, route_id)[:100],
                mode,
                agency[:200],
                calls.get(trip_pk, []),
            )
            if trip is not None:
                yield trip, weekdays.get(service, set())

    # --- Travellers -----------------------------------------------------------------------

    def _window(self, start: float, now: float) -> Window:
        first, last = _moment(start).date(), _moment(now).date()
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        day_weights = list(itertools.accumulate(WEEKDAY_WEIGHTS[day.weekday()] for day in days))
        zeros = [
            [_service_day_zero(day, version.timezone) for day in days] for version in self.versions
        ]
        return Window(start, now, days, day_weights, zeros)

    def _travellers(self, count: int, window: Window) -> list[Traveller]:
        rng = self.rng
        ids = _reserve_ids(User, count)
        width = max(5, len(str(count)))
        travellers = []
        for n, user_id in enumerate(ids, 1):
            if rng.random() < JOINED_BEFORE_SHARE:
                joined = window.start - rng.uniform(0, 180 * 86_400)
            else:  # not in the last week: even a new traveller has a few journeys
                joined = rng.uniform(window.start, max(window.start, window.now - 7 * 86_400))
            travellers.append(
                Traveller(
                    id=user_id,
                    username=f"{USERNAME_PREFIX}{n:0{width}d}",
                    display_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    private=rng.random() < PRIVATE_PROFILE_SHARE,
                    likes_enabled=rng.random() >= LIKES_OFF_SHARE,
                    joined=joined,
                    home=rng.randrange(len(self.versions)),
                    activity=0.0
                    if rng.random() < LURKER_SHARE
                    else rng.lognormvariate(0, ACTIVITY_SIGMA),
                )
            )
        return travellers

    def _share_out(self, travellers: list[Traveller], total: int, window: Window) -> None:
        """Each traveller's number of journeys: in proportion to their activity and to the days
        since they joined, at most MAX_JOURNEYS_PER_DAY a day (the rest goes to the others)."""
        days = [max(1.0, (window.now - max(t.joined, window.start)) / 86_400) for t in travellers]
        caps = [int(d * MAX_JOURNEYS_PER_DAY) if t.activity else 0
                for t, d in zip(travellers, days, strict=True)]  # fmt: skip
        if sum(caps) < total:
            raise CommandError(f"{total:,} journeys are too many for {len(travellers):,} "
                               "travellers: ask for more users or years")  # fmt: skip
        weights = [t.activity * d for t, d in zip(travellers, days, strict=True)]
        shares = [0.0] * len(travellers)
        open_ = {n for n, weight in enumerate(weights) if weight > 0}
        left = float(total)
        while open_:  # fill up to the caps, then share what is left among the others
            weight = sum(weights[n] for n in open_)
            full = {n for n in open_ if left * weights[n] / weight >= caps[n]}
            if not full:
                for n in open_:
                    shares[n] = left * weights[n] / weight
                break
            for n in full:
                shares[n] = caps[n]
                left -= caps[n]
            open_ -= full
        counts = [int(share) for share in shares]
        by_remainder = sorted(range(len(shares)), key=lambda n: counts[n] - shares[n])
        for n in itertools.islice(
            (n for n in by_remainder if counts[n] < caps[n]), total - sum(counts)
        ):
            counts[n] += 1
        for traveller, journeys, cap in zip(travellers, counts, caps, strict=True):
            traveller.journeys, traveller.cap = journeys, cap

    def _user_rows(self, travellers: list[Traveller]) -> Iterator[tuple[Any, ...]]:
        for t in travellers:
            first, _, last = t.display_name.partition(" ")
            yield (t.id, make_password(None), t.username, first, last,
                   f"{t.username}@example.org", _moment(t.joined), t.display_name, t.private,
                   t.likes_enabled)  # fmt: skip

    # --- Follows, blocks, mutes -----------------------------------------------------------

    def _follows(
        self, travellers: list[Traveller], window: Window
    ) -> list[tuple[int, int, bool, float]]:
        """(follower id, followee id, accepted, created) for each follow. Fills in each
        traveller's accepted followers."""
        rng = self.rng
        out_degree = list(itertools.accumulate(
            (d + FOLLOW_OFFSET) ** -FOLLOW_EXPONENT for d in range(MAX_FOLLOWS + 1)
        ))  # fmt: skip
        popularity = list(itertools.accumulate(0.2 + t.activity for t in travellers))
        everyone = range(len(travellers))
        follows = []
        for n, follower in enumerate(travellers):
            wanted = min(
                rng.choices(range(MAX_FOLLOWS + 1), cum_weights=out_degree)[0],
                len(travellers) - 1,
            )
            chosen: set[int] = set()
            while len(chosen) < wanted:
                chosen.update(rng.choices(everyone, cum_weights=popularity, k=wanted))
                chosen.discard(n)
            for m in rng.sample(sorted(chosen), wanted):
                followee = travellers[m]
                accepted = not followee.private or rng.random() >= PENDING_SHARE
                since = max(follower.joined, followee.joined, window.start - 365 * 86_400)
                follows.append(
                    (follower.id, followee.id, accepted, rng.uniform(since, window.now - 60))
                )
                if accepted:
                    followee.followers.append(n)
        return follows

    def _blocks_and_mutes(
        self,
        travellers: list[Traveller],
        follows: list[tuple[int, int, bool, float]],
        now: float,
    ) -> tuple[list[tuple[int, int, float]], list[tuple[int, int, float]]]:
        """A few blocks (never between travellers who follow each other either way: a block
        ends those) and mutes."""
        rng = self.rng
        following = {(a, b) for a, b, _, _ in follows}
        blocks: dict[tuple[int, int], float] = {}
        mutes: dict[tuple[int, int], float] = {}
        for wanted, chosen in ((len(travellers) * BLOCKS_PER_USER, blocks),
                               (len(travellers) * MUTES_PER_USER, mutes)):  # fmt: skip
            for _ in range(round(wanted)):
                a, b = (t.id for t in rng.sample(travellers, 2))
                if chosen is blocks and ((a, b) in following or (b, a) in following):
                    continue
                chosen[(a, b)] = now - rng.uniform(60, 300 * 86_400)
        return (
            [(a, b, moment) for (a, b), moment in blocks.items()],
            [(a, b, moment) for (a, b), moment in mutes.items()],
        )

    # --- Journeys -------------------------------------------------------------------------

    def _plan_journeys(
        self,
        travellers: list[Traveller],
        pool: Pool,
        window: Window,
    ) -> list[Planned]:
        """Each traveller's journeys, none overlapping another of theirs: (created,
        departure, traveller index, trip index, entry, exit), sorted by creation, which is the
        order ids are given in."""
        rng = self.rng
        trips, by_weekday = pool
        weekdays = [day.weekday() for day in window.days]
        cumulative = window.day_weights
        feeds = len(self.versions)
        planned: list[Planned] = []
        total = sum(t.journeys for t in travellers)
        bar = tqdm(total=total, desc=f"{'planning':<14}", unit=" journeys", unit_scale=True,
                   file=sys.stderr, leave=False, dynamic_ncols=True,
                   disable=self.verbosity < 1)  # fmt: skip

        def candidate(traveller: Traveller, low: float) -> Candidate:
            earliest = max(traveller.joined, window.start) + 3600
            feed = traveller.home
            if feeds > 1 and rng.random() >= HOME_FEED_SHARE:
                feed = rng.randrange(feeds)
            for _ in range(10_000):
                day = bisect.bisect_left(cumulative, rng.uniform(low, cumulative[-1]))
                choices = by_weekday[feed][weekdays[day]]
                index = choices[int(rng.random() * len(choices))]
                trip = trips[index]
                stops = len(trip.departures)
                a, b = rng.randrange(stops), rng.randrange(stops - 1)
                entry, exit_ = (a, b + 1) if b >= a else (b, a)
                departure_s, arrival_s = trip.departures[entry], trip.arrivals[exit_]
                # Redrawn within the feed, so that each feed keeps its share of journeys.
                if arrival_s <= departure_s:
                    continue
                if rng.random() >= HOUR_WEIGHTS[departure_s // 3600 % 24]:
                    continue
                zero = window.zeros[feed][day]
                departure = zero + departure_s
                if not earliest <= departure <= window.now:
                    continue
                return departure, zero + arrival_s, index, entry, exit_
            raise CommandError("could not place a journey in the timetable's trips")

        short = 0  # journeys a busy traveller could not fit in, for the next quiet one
        for n, traveller in enumerate(travellers):
            if not traveller.journeys:
                continue
            if traveller.journeys < traveller.cap // 2:
                traveller.journeys, short = traveller.journeys + short, 0
            first_day = bisect.bisect_left(
                window.days, _moment(max(traveller.joined, window.start)).date()
            )
            low = cumulative[first_day - 1] if first_day else 0.0
            kept: list[Candidate] = []
            for _ in range(20):  # top up what overlaps
                missing = traveller.journeys - len(kept)
                if missing <= 0:
                    break
                fresh = [candidate(traveller, low) for _ in range(missing + missing // 4 + 2)]
                kept = _apart(sorted(kept + fresh))
            if len(kept) > traveller.journeys:
                kept = rng.sample(kept, traveller.journeys)
            for departure, arrival, index, entry, exit_ in kept:
                if rng.random() < CHECKED_IN_AFTERWARDS_SHARE:
                    created = arrival + rng.expovariate(1 / 3600)
                else:
                    created = departure - rng.uniform(30, 900)
                planned.append((min(created, window.now - 1), departure, n, index, entry, exit_))
            short += traveller.journeys - len(kept)
            traveller.journeys = len(kept)
            bar.update(len(kept))
        bar.close()
        planned.sort()
        return planned

    def _checkin_rows(
        self,
        planned: list[Planned],
        ids: list[int],
        travellers: list[Traveller],
        pool: Pool,
        now: float,
        public: list[tuple[int, int, float]],
    ) -> Iterator[tuple[Any, ...]]:
        """The rows of CHECKIN_FIELDS, with ``ids`` in order; the public journeys' (id,
        traveller index, created) are appended to ``public`` on the way (likes go to those).
        Runs while COPY has the connection: no queries in here."""
        rng = self.rng
        trips = pool[0]
        zones = [str(version.timezone) for version in self.versions]
        visibilities, visibility_weights = _weighted(VISIBILITY_MIX)
        purposes, purpose_weights = _weighted(PURPOSE_MIX)
        for checkin_id, (created, departure, n, index, entry, exit_) in zip(
            ids, planned, strict=True
        ):
            trip = trips[index]
            arrival = departure + trip.arrivals[exit_] - trip.departures[entry]
            visibility = rng.choices(visibilities, cum_weights=visibility_weights)[0]
            if visibility == Visibility.PUBLIC:
                public.append((checkin_id, n, created))
            departure_real = arrival_real = None
            if rng.random() < REAL_TIME_SHARE and arrival < now:
                late = rng.expovariate(1 / 90) + (rng.uniform(600, 3600) * (rng.random() < 0.05))
                departure_real = _moment(departure + int(late))
                arrival_real = _moment(arrival + max(-120, int(late + rng.gauss(0, 60))))
                if arrival_real <= departure_real:
                    arrival_real = departure_real + timedelta(seconds=arrival - departure)
            located = trip.along_m is not None
            enriched = _moment(created + rng.uniform(0.2, 3.0))
            yield (
                checkin_id, _moment(created), enriched, travellers[n].id, trip.mode, trip.line,
                trip.operator, trip.names[entry], trip.lats[entry], trip.lons[entry],
                trip.names[exit_], trip.lats[exit_], trip.lons[exit_], _moment(departure),
                _moment(arrival),
                rng.choice(MESSAGES) if rng.random() < MESSAGE_SHARE else "",
                visibility, rng.choices(purposes, cum_weights=purpose_weights)[0],
                zones[trip.feed],
                round(trip.along_m[exit_] - trip.along_m[entry]) if trip.along_m else None,
                int(arrival - departure), "stop_to_stop" if located else "unknown",
                departure_real, arrival_real, enriched, _moment(created),
            )  # fmt: skip

    # --- Likes and notifications ----------------------------------------------------------

    def _likes(
        self,
        public: list[tuple[int, int, float]],
        travellers: list[Traveller],
        blocks: list[tuple[int, int, float]],
        now: float,
    ) -> list[tuple[int, int, int, float]]:
        """(owner id, liker id, journey id, created) for each like: on public journeys of
        travellers who take likes, by people who may see them (accepted followers of a private
        profile), never by the owner nor across a block."""
        rng = self.rng
        blocked = {(a, b) for a, b, _ in blocks} | {(b, a) for a, b, _ in blocks}

        def appeal(n: int, created: float) -> float:
            recency = 1 + 4 * math.exp(-(now - created) / 86_400 / LIKE_RECENCY_DAYS)
            return recency * math.sqrt(1 + len(travellers[n].followers))

        takers = [(j, n, c) for j, n, c in public if travellers[n].likes_enabled]
        scale = LIKES_PER_PUBLIC_JOURNEY * len(public) / max(
            sum(appeal(n, created) for _, n, created in takers), 1e-9
        )  # fmt: skip
        likes = []
        for checkin_id, n, created in takers:
            owner = travellers[n]
            mean = scale * appeal(n, created)
            wanted = int(math.log(1 - rng.random()) / math.log(mean / (1 + mean)))  # geometric
            if not wanted:
                continue
            from_followers = min(len(owner.followers), round(wanted * LIKES_FROM_FOLLOWERS))
            if owner.private:
                from_followers = min(len(owner.followers), wanted)
            likers = set(rng.sample(owner.followers, from_followers))
            if not owner.private:
                likers.update(rng.randrange(len(travellers)) for _ in range(wanted - len(likers)))
            for m in likers:
                liker = travellers[m].id
                if m == n or (liker, owner.id) in blocked:
                    continue
                moment = min(created + rng.expovariate(1 / 10_800), now - 1)
                likes.append((owner.id, liker, checkin_id, moment))
        return likes

    def _notifications(
        self,
        follows: list[tuple[int, int, bool, float]],
        likes: list[tuple[int, int, int, float]],
        travellers: list[Traveller],
        now: float,
    ) -> list[tuple[float, int, int, str, int | None]]:
        """What the follows and likes would have sent, oldest first: (created, recipient,
        actor, kind, journey) for a follow, a follow request (and its acceptance), a like."""
        rng = self.rng
        private = {t.id for t in travellers if t.private}
        notes: list[tuple[float, int, int, str, int | None]] = []
        for follower, followee, accepted, created in follows:
            if followee not in private:
                notes.append((created, followee, follower, Notification.Kind.FOLLOW, None))
                continue
            notes.append((created, followee, follower, Notification.Kind.FOLLOW_REQUEST, None))
            if accepted:
                answered = min(created + rng.expovariate(1 / 36_000), now - 1)
                notes.append(
                    (answered, follower, followee, Notification.Kind.FOLLOW_ACCEPTED, None)
                )
        for owner, liker, checkin_id, created in likes:
            notes.append((created, owner, liker, Notification.Kind.LIKE, checkin_id))
        notes.sort(key=lambda note: note[0])
        return notes

    def _notification_rows(
        self, notes: list[tuple[float, int, int, str, int | None]], now: float
    ) -> Iterator[tuple[Any, ...]]:
        """The rows of ``notes`` as COPY takes them, one at a time (made all at once, they were
        the run's largest list): read some hours later, the last two days' partly unread.
        Runs while COPY has the connection: no queries in here."""
        rng = self.rng
        for created, recipient, actor, kind, journey in notes:
            read = created + rng.expovariate(1 / 36_000)
            unread = read >= now or (now - created < 2 * 86_400 and rng.random() < 0.5)
            moment = _moment(created)
            yield (moment, moment, recipient, actor, str(kind), journey,
                   None if unread else _moment(read))  # fmt: skip

    # --- Replacing and finishing ----------------------------------------------------------

    @contextmanager
    def foreign_keys_checked_at_the_end(self) -> Iterator[None]:
        """Take the foreign keys of the tables loaded off, and add them back at the end, which
        checks every row with one join per key. Row by row, Django's keys (deferred to the
        commit) cost a trigger call per row: most of the run's time. Within the transaction
        the tables are locked, so nobody sees them without their keys."""
        tables = [model._meta.db_table for model in LOADED]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                " FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)"
                " ORDER BY 1, 2",
                [tables],
            )
            keys = cursor.fetchall()
            for table, name, _ in keys:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        yield
        self._note(f"adding back {len(keys)} foreign keys (each checks the rows once)…")
        with self._phase("foreign keys"), connection.cursor() as cursor:
            for table, name, definition in keys:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")

    def delete_earlier(self) -> None:
        """Delete the seed travellers and what the ORM would delete (or unlink) with them, in
        SQL: the ORM's collector would load a million journeys into memory first."""
        with self._phase("deleting earlier seed data"):
            counts: Counter[str] = Counter()
            with connection.cursor() as cursor:
                _delete_cascading(
                    cursor,
                    User,
                    f"SELECT id FROM {User._meta.db_table} WHERE username LIKE %s",  # noqa: S608
                    [f"{USERNAME_PREFIX}%"],
                    counts,
                )
            self._note("deleted: " + ", ".join(f"{label} {n:,}" for label, n in counts.items()))

    def analyze(self) -> None:
        """Fresh planner statistics for the tables filled (and, outside a surrounding
        transaction, the visibility map that index-only scans rely on)."""
        tables = [model._meta.db_table for model in LOADED]
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with self._phase("vacuum and analyze"), connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"{command} {connection.ops.quote_name(table)}")


class _Phase:
    """Times a part of the run into ``seeder.seconds``."""

    def __init__(self, seeder: Seeder, name: str) -> None:
        self.seeder, self.name = seeder, name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        seconds = time.perf_counter() - self.started
        self.seeder.seconds[self.name] = self.seeder.seconds.get(self.name, 0.0) + seconds


# The tables filled, in that order.
LOADED: list[type[models.Model]] = [User, Follow, Block, Mute, CheckIn, Like, Notification]

# The journeys' columns (the others keep their defaults). No trip reference (feed, version,
# trip id, service date, stop ids and sequences): the seeded days are not days the trips run (a
# feed's calendar covers months, the seed years), so a reference would name a trip on a day the
# timetable does not have, which realtime updates could match and re-enrich. The journeys are
# shown from their own columns, like journeys typed in by hand and enriched through their
# stops' positions.
CHECKIN_FIELDS = [
    "id", "created_at", "updated_at", "user", "mode", "line_name", "operator_name",
    "origin_name", "origin_lat", "origin_lon", "destination_name", "destination_lat",
    "destination_lon", "departure_planned", "arrival_planned", "message", "visibility",
    "purpose", "time_zone", "distance_m", "duration_s", "distance_method", "departure_real",
    "arrival_real", "enriched_at", "enrichment_queued_at",
]  # fmt: skip


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model._meta.label}.{name} is not a column")
    return field.column


def _fetch(statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` ids from the table's own sequence, so that rows loaded with COPY can be
    referred to at once, and later inserts never collide with them."""
    opts = model._meta
    rows = _fetch(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [opts.db_table, opts.pk.column, count],
    )
    return sorted(row[0] for row in rows)


def _service_day_zero(day: date, zone: ZoneInfo) -> float:
    """GTFS's zero of a service day (noon minus 12 h, local time), as epoch seconds."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=zone).timestamp() - 12 * 3600


def _pool_trip(
    feed: int, line: str, mode: str, operator: str, calls: Sequence[tuple[Any, ...]]
) -> PoolTrip | None:
    """A trip of the pool from its stop times (arrival_s, departure_s, station name, lat, lon)
    in order, or None with fewer than two timed stops. Distances run along every stop, timed
    or not."""
    departures, arrivals, names, lats, lons, along = [], [], [], [], [], []
    located = True
    metres = 0.0
    previous: tuple[float, float] | None = None
    for arrival_s, departure_s, name, lat, lon in calls:
        if lat is None or lon is None:
            located = False
        elif previous is not None:
            metres += great_circle_m(previous[0], previous[1], lat, lon)
            previous = (lat, lon)
        else:
            previous = (lat, lon)
        if arrival_s is None and departure_s is None:
            continue
        departures.append(departure_s if departure_s is not None else arrival_s)
        arrivals.append(arrival_s if arrival_s is not None else departure_s)
        names.append(name[:200])
        lats.append(lat)
        lons.append(lon)
        along.append(metres)
    if len(departures) < 2:
        return None
    return PoolTrip(feed, line, mode, operator, tuple(departures), tuple(arrivals), tuple(names),
                    tuple(lats), tuple(lons), tuple(along) if located else None)  # fmt: skip


def _apart(journeys: list[Candidate]) -> list[Candidate]:
    """Of journeys sorted by departure, those that keep GAP_S from the one kept before."""
    kept = []
    free_from = -math.inf
    for journey in journeys:
        if journey[0] >= free_from:
            kept.append(journey)
            free_from = journey[1] + GAP_S
    return kept


def _delete_cascading(
    cursor: Any, model: type[models.Model], ids: str, params: list[Any], counts: Counter[str]
) -> None:
    """Delete the rows of ``model`` whose primary keys the query ``ids`` selects, after the rows
    that refer to them as the models say (CASCADE deletes, SET_NULL unlinks)."""
    opts = model._meta
    quote = connection.ops.quote_name
    for m2m in opts.local_many_to_many:
        through = m2m.remote_field.through._meta  # type: ignore[union-attr]
        cursor.execute(
            f"DELETE FROM {quote(through.db_table)}"  # noqa: S608
            f" WHERE {quote(m2m.m2m_column_name())} IN ({ids})",
            params,
        )
    for relation in opts.related_objects:
        related = relation.related_model._meta  # type: ignore[union-attr]
        if relation.many_to_many:
            through = relation.through._meta  # type: ignore[attr-defined]
            column = relation.field.m2m_reverse_name()  # type: ignore[attr-defined]
            cursor.execute(
                f"DELETE FROM {quote(through.db_table)} WHERE {quote(column)} IN ({ids})",  # noqa: S608
                params,
            )
            continue
        column = quote(relation.field.column)
        on_delete = relation.on_delete
        if on_delete is models.CASCADE:
            _delete_cascading(
                cursor,
                relation.related_model,  # type: ignore[arg-type]
                f"SELECT {quote(related.pk.column)} FROM {quote(related.db_table)}"  # noqa: S608
                f" WHERE {column} IN ({ids})",
                params,
                counts,
            )
        elif on_delete is models.SET_NULL:
            cursor.execute(
                f"UPDATE {quote(related.db_table)} SET {column} = NULL"  # noqa: S608
                f" WHERE {column} IN ({ids})",
                params,
            )
        elif on_delete is not models.DO_NOTHING:
            raise CommandError(
                f"{related.label} refers to {opts.label} with on_delete="
                f"{getattr(on_delete, '__name__', on_delete)}: delete the seed data by hand"
            )
    cursor.execute(
        f"DELETE FROM {quote(opts.db_table)} WHERE {quote(opts.pk.column)} IN ({ids})",  # noqa: S608
        params,
    )
    if cursor.rowcount:
        counts[opts.label] += cursor.rowcount


if __name__ == "__main__":
    Command().run_from_argv([sys.argv[0], "seed", *sys.argv[1:]])
