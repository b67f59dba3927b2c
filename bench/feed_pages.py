"""Feed benchmark: the feed pages under load (wrk, 20 connections) on the seeded data set, side
by side with GET /healthz of the same server, in one run. Prints figures; not a test.

Run with the services up, after seeding the benchmark database once (the seed is not made here):

    eval "$(scripts/services env)"
    export BENCH_DATABASE_URL=postgres://trainy:trainy@127.0.0.1:5432/trainy_bench
    DATABASE_URL=$BENCH_DATABASE_URL .venv/bin/python bench/seed.py   # once, ~2 min
    .venv/bin/python bench/feed_pages.py                  # ~3 min
    .venv/bin/python bench/feed_pages.py --duration 30 --connections 40 --viewers 4000

Trainy runs under gunicorn against its own database (default postgres://trainy:trainy@127.0.0.1:
5432/trainy_bench) and the harness's Redis. The signed-in pages are asked for by `--viewers`
distinct seeded travellers in turn, each signed in (a session and its browser row, as sign-in
and a first page leave them; all deleted at the end): a feed page keeps its first page rendered
per viewer for 30 s (feed.views.kept_rendered), so one viewer asking again and again would
measure a cache read, shown apart as such. (Not named feed.py: a module of that name would
shadow the feed app for mypy and for imports from this folder.)
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import random
import re
import shutil
import subprocess
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from checkin import (
    HOST,
    LOG_DIR,
    Call,
    Load,
    gunicorn,
    harness_url,
    machine_note,
    neighbours,
    run_load,
)
from timetable import add_database_argument, prepare_django, say, spread, verdict

SEED_PREFIX = "seed-user-"  # the travellers of bench/seed.py
VIEWER_SEED = 20260526  # which seeded travellers are the viewers (random.Random)
PAGE_SIZE = 20  # journeys on a full feed page (feed.selectors.PAGE_SIZE)
JOURNEY = re.compile(r'data-testid="journey"')
NEXT_PAGE = re.compile(r'href="\?after=(\d+-\d+)"')
COOKIE = re.compile(r"[\w=; ]+")  # what may go between a Lua string's quotes unescaped

# wrk's request and report. Each request carries the next viewer's cookies: thread k of n
# sends the positions start + k, start + k + n, … (the viewer at position p is cookies[p mod
# the number of viewers]), so that together the threads go through the list once before any
# viewer comes again, and no two threads send the same viewer at once. The report is a line
# of our own: latency percentiles (wrk --latency prints no p95), the responses other than 200
# (wrk counts only >= 400 as errors; a redirect to the sign-in page would pass), and the
# position after the last one sent, where the next run goes on. Arguments after `--`: the
# first position, the number of threads. (wrk asks the first thread for one request more, to
# check the script: a position is skipped, never sent twice.)
WRK_SCRIPT = Template("""
local cookies = {$cookies}
local threads = {}
i, step, last = 0, 1, -1
function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end
function init(args)
  not_ok = 0
  step = tonumber(args[2])
  i = tonumber(args[1]) + offset
  last = i - step
end
function request()
  last = i
  i = i + step
  local headers = {["Host"] = wrk.headers["Host"]}
  if #cookies > 0 then headers["Cookie"] = cookies[last % #cookies + 1] end
  return wrk.format("GET", wrk.path, headers)
end
function response(status, headers, body) if status ~= 200 then not_ok = not_ok + 1 end end
function done(summary, latency, requests)
  local bad, reached = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("not_ok")
    reached = math.max(reached, thread:get("last") + 1)
  end
  local e = summary.errors
  io.write(string.format(
    "TRAINY requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d not_ok=%d "
    .. "errors=%d next=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, bad,
    e.connect + e.read + e.write + e.timeout, reached))
end
""")


@dataclass(frozen=True)
class Target:
    """What the issue asks of a page: its p95, and its requests per second as a share of
    /healthz's on the same server (none: no floor)."""

    p95: float  # seconds
    share: float | None = None

    def __str__(self) -> str:
        floor = f", ≥ {self.share:.0%} of /healthz's req/s" if self.share else ""
        return f"p95 < {self.p95 * 1000:.0f} ms{floor}"

    def met(self, figures: Figures, healthz: Figures) -> bool:
        return (
            figures.requests > 0
            and figures.p95 < self.p95
            and (self.share is None or figures.rate >= self.share * healthz.rate)
            and not figures.not_ok
            and not figures.errors
        )


FEED_TARGET = Target(p95=0.100, share=0.05)  # first pages of the feeds and the profile
DEEP_TARGET = Target(p95=0.050)  # a page far down the global feed


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    signed_in: bool
    many: bool = False  # signed in as the viewers in turn; otherwise as one viewer throughout
    target: Target | None = None  # None: a reference

    @property
    def kept(self) -> bool:
        """Kept rendered per viewer for a while (feed.views.kept_rendered: a feed's or
        profile's first page, never one with a query string)."""
        return self.path != "/healthz" and "?" not in self.path


@dataclass(frozen=True)
class Figures:
    requests: int
    seconds: float
    p50: float
    p95: float
    p99: float
    max: float
    not_ok: int
    errors: int
    next: int  # the rotation's position after the last request sent

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def spread(self) -> str:
        if not self.requests:
            return "no answer in time"
        return f"{self.p50 * 1000:.1f} / {self.p95 * 1000:.1f} / {self.p99 * 1000:.1f} ms"


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("wrk is missing: `apt-get install wrk` as root, or run this as root")
    say("installing wrk (Debian package)")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


# --- The seeded data -------------------------------------------------------------------------


def seeded_people() -> tuple[Any, Any]:
    """The checker (the seeded traveller with a public profile who follows the most people,
    so that every page, the following feed too, is full for them) and the profile shown (the
    seeded traveller with a public profile and the most journeys)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q

    seeded = get_user_model().objects.filter(
        username__startswith=SEED_PREFIX, private_profile=False, is_active=True
    )
    checker = (
        seeded.annotate(n=Count("following", filter=Q(following__accepted=True)))
        .order_by("-n", "id")
        .first()
    )
    owner = seeded.annotate(n=Count("checkins")).order_by("-n", "id").first()
    if checker is None or owner is None or not owner.n:
        raise SystemExit(
            "no seed data in the benchmark database: run `DATABASE_URL=<the benchmark database> "
            ".venv/bin/python bench/seed.py` first (about two minutes)"
        )
    return checker, owner


def viewer_users(count: int, checker: Any) -> list[Any]:
    """``count`` active seeded travellers, the checker first, the others drawn at random (a
    fixed seed: the same ones every run) from those ordered by id; each with ``n``, how many
    people they follow (accepted)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q

    seeded = list(
        get_user_model()
        .objects.filter(username__startswith=SEED_PREFIX, is_active=True)
        .annotate(n=Count("following", filter=Q(following__accepted=True)))
        .order_by("id")
    )
    others = [user for user in seeded if user.pk != checker.pk]
    if count - 1 > len(others):
        say(f"  only {len(others) + 1:,} active seeded travellers: {len(others) + 1:,} viewers, "
            f"not {count:,}")  # fmt: skip
    first = next(user for user in seeded if user.pk == checker.pk)
    rng = random.Random(VIEWER_SEED)  # noqa: S311 (reproducible samples, not secrets)
    return [first, *rng.sample(others, min(count - 1, len(others)))]


def describe_data(checker: Any, owner: Any, viewers: list[Viewer], seconds: float) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT count(*) FROM feed_user WHERE username LIKE %(seed)s),
                   (SELECT count(*) FROM checkins_checkin),
                   (SELECT count(*) FROM feed_follow),
                   (SELECT count(*) FROM feed_like),
                   (SELECT count(*) FROM feed_notification)
            """,
            {"seed": f"{SEED_PREFIX}%"},
        )
        users, journeys, follows, likes, notes = cursor.fetchone()
    say(f"Data: {users:,} seeded travellers; in all {journeys:,} journeys, {follows:,} follows, "
        f"{likes:,} likes, {notes:,} notifications")  # fmt: skip
    following = sum(1 for viewer in viewers if viewer.follows)
    say(f"  {len(viewers):,} viewers signed in (sessions made in {seconds:.1f} s): seeded "
        f"travellers drawn at random (seed {VIEWER_SEED}), {following:,} of them following at "
        f"least one person (the others' following feed is empty, and cheaper); pages checked "
        f"as {checker.username}, who follows {checker.n} people; profile of {owner.username}, "
        f"with {owner.n:,} journeys")  # fmt: skip


# --- The viewers' sessions -------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    username: str
    follows: int  # people they follow
    session: str  # the session key
    csrf: str  # the CSRF cookie

    @property
    def cookie(self) -> str:
        return f"sessionid={self.session}; csrftoken={self.csrf}"


def session_store() -> Any:
    from importlib import import_module

    from django.conf import settings

    return import_module(settings.SESSION_ENGINE).SessionStore


def sign_in(users: list[Any], made: list[Viewer]) -> None:
    """A session for each of ``users`` as signing in and the browser's first page leave it:
    what django.contrib.auth.login stores, with the time the session was last seen
    (trainy.accounts.middleware.SEEN_KEY), and the browser's row (UserSession). Without those
    two, every session's first request would write them. Each viewer is appended to ``made``
    as soon as its session is stored, so that a failure part-way leaves nothing unforgotten
    (forget()). The sessions are written in one transaction: one commit, not one each."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import transaction
    from django.middleware.csrf import _get_new_csrf_string
    from django.utils import timezone

    from trainy.accounts.middleware import SEEN_KEY
    from trainy.accounts.models import UserSession

    store_class = session_store()
    with transaction.atomic():
        for user in users:
            store = store_class()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store[SEEN_KEY] = time.time()
            store.create()
            made.append(Viewer(user.username, user.n, str(store.session_key),
                               _get_new_csrf_string()))  # fmt: skip
        now = timezone.now()
        UserSession.objects.bulk_create(
            UserSession(user=user, session_key=viewer.session, ip="127.0.0.1", user_agent="wrk",
                        last_seen=now)
            for user, viewer in zip(users, made[-len(users) :], strict=True)
        )  # fmt: skip


def seen_again(viewers: list[Viewer]) -> None:
    """Each session seen now, as its next request would record once SEEN_EVERY has passed: a
    long run's requests would otherwise turn into writes part-way through."""
    from django.db import transaction
    from django.utils import timezone

    from trainy.accounts.middleware import SEEN_KEY
    from trainy.accounts.models import UserSession

    store_class = session_store()
    with transaction.atomic():
        for viewer in viewers:
            store = store_class(viewer.session)
            store[SEEN_KEY] = time.time()
            store.save()
        UserSession.objects.filter(session_key__in=[v.session for v in viewers]).update(
            last_seen=timezone.now()
        )


def forget(viewers: list[Viewer]) -> None:
    """The viewers' sessions (rows and cache entries) and browser rows deleted, all at once."""
    from django.conf import settings
    from django.core.cache import caches

    from trainy.accounts.models import UserSession

    keys = [viewer.session for viewer in viewers]
    store_class = session_store()
    UserSession.objects.filter(session_key__in=keys).delete()
    store_class.get_model_class().objects.filter(session_key__in=keys).delete()
    prefix = getattr(store_class, "cache_key_prefix", None)  # cached_db and cache stores
    if prefix:
        caches[settings.SESSION_CACHE_ALIAS].delete_many([prefix + key for key in keys])


# --- Pages and their checks ------------------------------------------------------------------


def fetch(port: int, path: str, cookie: str | None) -> tuple[int, str]:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Host": HOST} | ({"Cookie": cookie} if cookie else {})
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read().decode(errors="replace")
    connection.close()
    return response.status, body


def deep_cursor(port: int, cookie: str, depth: int) -> str:
    """The cursor of the global feed's page ``depth`` (as a signed-in viewer), found by following
    the "older journeys" link from the first page."""
    cursor = ""
    for page in range(1, depth):
        status, body = fetch(port, f"/?after={cursor}" if cursor else "/", cookie)
        found = NEXT_PAGE.search(body)
        if status != 200 or not found:
            raise SystemExit(f"the global feed has no page {page + 1} (GET gave {status}): seed "
                             "more journeys")  # fmt: skip
        cursor = found.group(1)
    return cursor


def check(port: int, page: Page, cookie: str | None, sign_out: str) -> None:
    """One GET before the load: 200, and the content expected (a full page of journeys, signed
    in or out as meant)."""
    status, body = fetch(port, page.path, cookie if page.signed_in else None)
    problems = []
    if status != 200:
        problems.append(f"status {status}")
    if page.path == "/healthz":
        if '"ok"' not in body:
            problems.append("no status ok")
    else:
        journeys = len(JOURNEY.findall(body))
        if journeys != PAGE_SIZE:
            problems.append(f"{journeys} journeys, not {PAGE_SIZE}")
        if (sign_out in body) != page.signed_in:
            problems.append("signed in" if not page.signed_in else "not signed in")
    if problems:
        raise SystemExit(f"GET {page.path} ({page.name}) answers wrongly: {', '.join(problems)}; "
                         f"{body[:300]!r}")  # fmt: skip


def wrk_script(name: str, cookies: list[str]) -> Path:
    """A wrk script that sends ``cookies`` in turn (none: no Cookie header)."""
    for cookie in cookies:
        if not COOKIE.fullmatch(cookie):
            raise ValueError(f"not a cookie for a Lua string: {cookie!r}")
    script = LOG_DIR / f"trainy-bench-feed-{name}.lua"
    script.write_text(WRK_SCRIPT.substitute(cookies=", ".join(f'"{c}"' for c in cookies)))
    return script


def run_wrk(
    wrk: str, script: Path, port: int, path: str, args: argparse.Namespace, duration: float,
    start: int = 0,
) -> Figures:  # fmt: skip
    """wrk on ``path`` for ``duration`` seconds, its cookies from position ``start`` on."""
    command = [wrk, "--threads", str(args.threads), "--connections", str(args.connections),
               "--duration", f"{duration:g}s", "--timeout", "10s", "--latency",
               "--script", str(script), f"http://{HOST}:{port}{path}",
               "--", str(start), str(args.threads)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    found = re.search(r"^TRAINY (.*)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or not found:
        raise SystemExit(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    values = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", found.group(1))}
    return Figures(
        requests=values["requests"],
        seconds=values["duration_us"] / 1e6,
        p50=values["p50_us"] / 1e6,
        p95=values["p95_us"] / 1e6,
        p99=values["p99_us"] / 1e6,
        max=values["max_us"] / 1e6,
        not_ok=values["not_ok"],
        errors=values["errors"],
        next=max(start, values["next"]),
    )


def came_round(
    viewers: int, page_start: int, timed_start: int, figures: Figures, keep: float
) -> str:  # fmt: skip
    """What the timed run's rotation met again: the positions at or past ``page_start`` +
    ``viewers`` (this page's warm-up began at ``page_start``) are viewers already shown this
    page, a kept page if that was less than ``keep`` seconds before."""
    again = min(figures.requests, max(0, figures.next - max(timed_start, page_start + viewers)))
    if not again or not figures.rate:
        return ""
    interval = viewers / figures.rate
    if interval >= keep:
        return (f"; the rotation came round for about {again:,} requests, {interval:.0f} s "
                f"after their viewers' first view, past the kept page's {keep:.0f} s")  # fmt: skip
    return (f"; the rotation came round: about {again:,} timed requests were a viewer's "
            f"second view within {interval:.2g} s (a kept page, cached)")  # fmt: skip


class Watch:
    """Notes the other Trainy processes (test runs, servers, workers) seen while a page is
    loaded, once a second: they share the 2 cores, so a page measured beside them is slower."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            self.seen.update(neighbours())

    def __enter__(self) -> Watch:
        self.seen.update(neighbours())
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def note(self) -> str:
        if not self.seen:
            return ""
        return (f"; beside {len(self.seen)} other Trainy processes (e.g. "
                f"{sorted(self.seen)[0]!r}): disturbed")  # fmt: skip


def settle(limit: float = 60) -> float:
    """Wait until no other session runs a query on the benchmark database: requests still in
    the server when wrk stops (slow pages queue up) would otherwise load the next page's
    measurement. Returns the seconds waited."""
    from django.db import connection

    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state = 'active' AND pid <> pg_backend_pid()"
            )
            (busy,) = cursor.fetchone()
        if not busy:
            break
        time.sleep(0.2)
    time.sleep(0.5)  # the last answers leave the server
    return time.perf_counter() - started


# --- Where a page's time goes ----------------------------------------------------------------


@dataclass(frozen=True)
class Inside:
    seconds: float  # the median request
    queries: list[tuple[float, str]]  # (seconds, SQL) of the last request


def in_process(client: Any, path: str, viewers: Sequence[Viewer | None]) -> Inside:
    """One request for each of ``viewers`` (None: signed out), one after another, through
    ``client`` in this process (no network, no other load), its cookies swapped for each; the
    SQL of the last one captured."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for viewer in viewers:
        client.cookies.clear()
        if viewer is not None:
            client.cookies["sessionid"] = viewer.session
            client.cookies["csrftoken"] = viewer.csrf
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"in-process GET {path} gave {response.status_code}")
    queries = [(float(query["time"]), query["sql"]) for query in captured.captured_queries]
    return Inside(sorted(times)[len(times) // 2], queries)


def explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return [row[0] for row in cursor.fetchall()]


def where_time_goes(
    pages: list[Page], viewers: list[Viewer], checker: Viewer, *, explain_slowest: bool
) -> None:
    """Each page again in this process, unloaded, as ``viewers`` in turn (the pages of many
    viewers), ``checker`` only (one viewer's) or signed out: its time, its queries and the
    slowest of them; then the plan of the slowest query of the slowest page."""
    from django.test import Client

    runs = len(viewers)
    say(f"== Where a page's time goes: {runs} requests each in this process, one after another "
        f"(Django's test client; {runs} distinct viewers for the pages of many, one for the "
        "repeat view, none signed out; median time, the queries of the last)")  # fmt: skip
    client = Client(HTTP_HOST=HOST)
    slowest: tuple[float, str, str] | None = None
    for page in pages:
        if page.path == "/healthz":
            continue
        who: Sequence[Viewer | None] = viewers
        if not page.many:
            who = [checker if page.signed_in else None] * runs
        inside = in_process(client, page.path, who)
        sql = sum(seconds for seconds, _ in inside.queries)
        top_seconds, top_sql = max(inside.queries, default=(0.0, ""))
        shown = re.sub(r"\s+", " ", top_sql)[:100]
        say(f"  {page.name}: {inside.seconds * 1000:.1f} ms, {len(inside.queries)} queries "
            f"taking {sql * 1000:.0f} ms; the slowest {top_seconds * 1000:.0f} ms: "
            f"{shown}…")  # fmt: skip
        if top_sql and (slowest is None or inside.seconds > slowest[0]):
            slowest = (inside.seconds, page.name, top_sql)
    if slowest and explain_slowest:
        say(f"  EXPLAIN (ANALYZE, BUFFERS) of the slowest query of the slowest page, "
            f"{slowest[1]}:")  # fmt: skip
        for line in explain(slowest[2]):
            say(f"    {line}")


# --- Paced: the pages as a server in use serves them -------------------------------------------


def paced_load(
    port: int,
    path: str,
    viewers: list[Viewer],
    position: int,
    clients: int,
    think: float,
    seconds: float,
    rng: random.Random,
) -> tuple[Load, int]:
    """``clients`` travellers, each on its own connection, each asking for ``path`` as the next
    viewer in the rotation after a pause uniform between half and one and a half ``think``
    (reading the page): an open load well below what the server can do, where wrk's closed
    loop keeps it saturated and its p95 is mostly the queue. Returns the load and the
    rotation's position after it."""
    each = math.ceil(seconds / think) + 2
    plans = [
        [Call("GET", path, headers={"Cookie": viewers[(position + k + n * clients)
                                                      % len(viewers)].cookie},
              think=rng.uniform(0.5, 1.5) * think)
         for n in range(each)]
        for k in range(clients)
    ]  # fmt: skip
    load = run_load(port, plans, 2, lambda status, _: status == 200, seconds)
    return load, position + clients * each


def paced_figures(load: Load) -> str:
    """p50/p95/p99 and requests per second of a paced load, and its answers other than 200."""
    figures = spread(load.times) if load.times else "no answer"
    failed = f", {load.failures} not 200" if load.failures else ""
    return f"{figures} (p50/p95/p99), {load.rate:.0f} req/s ({len(load.times):,} requests{failed})"


# --- Main ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_database_argument(parser, "Trainy's benchmark database, seeded by bench/seed.py")
    parser.add_argument("--duration", type=float, default=15, help="seconds of load per page")
    parser.add_argument("--warmup", type=float, default=3, help="untimed seconds first, each")
    parser.add_argument("--connections", type=int, default=20, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--server-threads", type=int, default=4,
                        help="gunicorn threads per worker")  # fmt: skip
    parser.add_argument("--viewers", type=int, default=10_000,
                        help="seeded travellers signed in, asking for pages in turn")  # fmt: skip
    parser.add_argument("--in-process", type=int, default=50,
                        help="requests per page (distinct viewers) in this process")  # fmt: skip
    parser.add_argument("--depth", type=int, default=50, help="page of the deep global feed")
    parser.add_argument("--paced-clients", type=int, default=20,
                        help="paced travellers (0: no paced loads)")  # fmt: skip
    parser.add_argument("--think", type=float, default=0.2,
                        help="mean seconds between a paced traveller's pages")  # fmt: skip
    parser.add_argument("--no-explain", action="store_true",
                        help="no EXPLAIN ANALYZE of the slowest page's slowest query")  # fmt: skip
    args = parser.parse_args(argv)
    if args.viewers < 2 or args.in_process < 1:
        parser.error("--viewers must be at least 2 and --in-process at least 1")

    harness_url("REDIS_URL")  # the signed-out front page is cached there
    # Cache keys apart from a development server on the same Redis (the front page's key is
    # the same in every database).
    os.environ.setdefault("CACHE_KEY_PREFIX", "trainy-bench")
    os.environ["MONGO_DB"] = "trainy_bench"
    wrk = ensure_wrk()
    prepare_django(args.database_url)
    # Static files are not collected here; whitenoise says so on the first in-process request.
    warnings.filterwarnings("ignore", message="No directory at")
    from django.urls import reverse

    from feed.selectors import FRONT_PAGE_SECONDS
    from trainy.accounts.middleware import SEEN_EVERY

    say(f"Machine: {os.cpu_count()} cores; Trainy database {args.database_url}; wrk "
        f"{args.threads} threads x {args.connections} connections, {args.duration:g} s per "
        f"page after {args.warmup:g} s of warm-up; gunicorn gthread {args.workers} workers x "
        f"{args.server_threads} threads, DEBUG=false")  # fmt: skip
    say(f"  {machine_note()}")
    # Every run starts as a server just deployed: the card bodies an earlier run rendered
    # (kept an hour, shared by every viewer) are dropped; those rendered during the run are
    # shared as in production.
    from django.core.cache import caches
    from django_redis.cache import RedisCache

    store = caches["default"]
    assert isinstance(store, RedisCache), "the benchmark runs on the harness's Redis"
    say(f"  card bodies left by earlier runs, dropped: {store.delete_pattern('card:*'):,}")
    checker_user, owner = seeded_people()
    users = viewer_users(args.viewers, checker_user)
    viewers: list[Viewer] = []
    log = LOG_DIR / "trainy-bench-feed-gunicorn.log"
    results: list[tuple[Page, Figures]] = []
    paced: list[tuple[str, Load]] = []
    disturbed: set[str] = set()  # pages loaded while other Trainy processes ran
    try:
        started = time.perf_counter()
        sign_in(users, viewers)
        seen = time.time()  # when the sessions were last seen (SEEN_KEY)
        describe_data(checker_user, owner, viewers, time.perf_counter() - started)
        checker = viewers[0]
        sign_out = f'action="{reverse("account_logout")}"'
        scripts = {
            "none": wrk_script("none", []),
            "one": wrk_script("one", [checker.cookie]),
            "many": wrk_script("many", [viewer.cookie for viewer in viewers]),
        }
        # The rotation's position, which goes on from page to page: each page's warm-up
        # starts where the last page stopped, and its timed run where the warm-up stopped, so
        # the timed requests are of viewers not shown this page before (until the rotation
        # comes round). The checker, whose pages the checks keep, comes last in a round.
        position = 1
        with gunicorn(args.workers, args.server_threads, log) as port:
            cursor = deep_cursor(port, checker.cookie, args.depth)
            pages = [
                Page("GET /healthz (the ceiling)", "/healthz", signed_in=False),
                Page("front page, signed out (cached)", "/", signed_in=False),
                Page("global feed, distinct viewers", "/", signed_in=True, many=True,
                     target=FEED_TARGET),
                Page("global feed, repeat view by one viewer (kept page, cached)", "/",
                     signed_in=True),
                Page("following feed, distinct viewers", "/following/", signed_in=True,
                     many=True, target=FEED_TARGET),
                Page(f"global feed page {args.depth}, distinct viewers", f"/?after={cursor}",
                     signed_in=True, many=True, target=DEEP_TARGET),
                Page(f"profile /u/{owner.username}/, distinct viewers", f"/u/{owner.username}/",
                     signed_in=True, many=True, target=FEED_TARGET),
            ]  # fmt: skip
            say()
            for page in pages:
                due = SEEN_EVERY.total_seconds() - 30 - args.warmup - args.duration
                if page.signed_in and time.time() - seen > due:
                    seen_again(viewers)
                    seen = time.time()
                    say(f"  (every session seen again, as it would be after "
                        f"{SEEN_EVERY.total_seconds() / 60:.0f} min: the next page's requests "
                        "would otherwise write)")  # fmt: skip
                check(port, page, checker.cookie, sign_out)
                script = scripts["many" if page.many else "one" if page.signed_in else "none"]
                page_start = position
                if args.warmup:
                    warm = run_wrk(wrk, script, port, page.path, args, args.warmup, position)
                    position = warm.next if page.many else position
                timed_start = position
                with Watch() as watch:
                    figures = run_wrk(wrk, script, port, page.path, args, args.duration, position)
                position = figures.next if page.many else position
                results.append((page, figures))
                if watch.seen:
                    disturbed.add(page.name)
                waited = settle()
                failed = f", {figures.not_ok} not 200" if figures.not_ok else ""
                failed += f", {figures.errors} socket errors" if figures.errors else ""
                if page.many:
                    failed += (f"; {figures.requests / len(viewers):.2f} requests per viewer "
                               f"(of {len(viewers):,})")  # fmt: skip
                    if page.kept:
                        failed += came_round(len(viewers), page_start, timed_start, figures,
                                             FRONT_PAGE_SECONDS)  # fmt: skip
                if waited > 1:
                    failed += f"; the server took {waited:.0f} s more to finish"
                failed += watch.note()
                if not figures.requests:
                    say(f"  {page.name}: no answer within {args.duration:g} s{failed}")
                    continue
                say(f"  {page.name}: {figures.spread()} (p50/p95/p99; max "
                    f"{figures.max * 1000:.0f} ms), {figures.rate:.0f} req/s "
                    f"({figures.requests:,} requests in {figures.seconds:.1f} s"
                    f"{failed})")  # fmt: skip
            say(f"  machine afterwards: {machine_note()}")
            if args.paced_clients:
                say()
                say(
                    f"== Paced: {args.paced_clients} travellers, each asking for the page as the "
                    f"next viewer after {args.think:g} s on average (uniform, half to one and a "
                    f"half times), {args.duration:g} s a page: a server in use, not saturated"
                )
                rng = random.Random(VIEWER_SEED)  # noqa: S311 -- pauses, not secrets
                for page in [
                    Page("GET /healthz, paced (the ceiling)", "/healthz", False),
                    *(page for page in pages if page.many),
                ]:
                    if page.signed_in and time.time() - seen > due:
                        seen_again(viewers)
                        seen = time.time()
                    load, position = paced_load(
                        port,
                        page.path,
                        viewers,
                        position,
                        args.paced_clients,
                        args.think,
                        args.duration,
                        rng,
                    )
                    paced.append((page.name, load))
                    settle()
                    say(f"  {page.name}: {paced_figures(load)}")
                say(f"  machine afterwards: {machine_note()}")
            loaded = time.time()
        say()
        if position > len(viewers):
            # The rotation came round: the viewers below may have been shown a page within
            # the kept pages' time, and would be timed on a kept copy.
            wait = FRONT_PAGE_SECONDS - (time.time() - loaded)
            if wait > 0:
                say(f"(waiting {wait:.0f} s for the pages kept during the load to expire)")
                time.sleep(wait)
        # The viewers the rotation would come to next: those shown a page longest ago.
        following = [viewers[(position + k) % len(viewers)] for k in range(len(viewers))]
        inside = [viewer for viewer in following if viewer != checker][: args.in_process]
        seen_again([checker, *inside])
        where_time_goes(pages, inside, checker, explain_slowest=not args.no_explain)
    finally:
        forget(viewers)

    say()
    healthz = results[0][1]
    rows = []
    for page, figures in results:
        rows.append((
            page.name + (" *" if page.name in disturbed else ""),
            figures.spread(),
            f"{figures.rate:.0f}",
            f"{figures.rate / healthz.rate:.1%}" if healthz.rate else "–",
            f"{figures.requests / len(viewers):.2f}" if page.many
            else "1 viewer" if page.signed_in else "–",
            str(page.target) if page.target else "– (reference)",
            verdict(page.target.met(figures, healthz)) if page.target else "–",
        ))  # fmt: skip
    header = ("page", "p50 / p95 / p99", "req/s", "of /healthz", "per viewer", "target", "met")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * width for width in widths), *rows]:
        say("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    say(f"per viewer: timed requests / {len(viewers):,} viewers (above 1, the rotation came "
        f"round; a viewer's page is kept {FRONT_PAGE_SECONDS} s); met: the target, with no "
        "answer other than 200")  # fmt: skip
    if disturbed:
        say("* measured while other Trainy processes (test runs, servers) shared the machine")
    if paced:
        say()
        say(
            f"paced ({args.paced_clients} travellers, a page every "
            f"{args.think:g} s on average each; reference, the issue's targets are under wrk):"
        )
        width = max(len(name) for name, _ in paced)
        for name, load in paced:
            say(f"  {name.ljust(width)}  {paced_figures(load)}")


if __name__ == "__main__":
    main()
