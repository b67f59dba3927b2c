"""Feed benchmark: the feed pages under load (wrk, 20 connections) on the seeded data set, side
by side with GET /healthz of the same server, in one run. Prints figures; not a test.

Run with the services up, after seeding the benchmark database once (the seed is not made here):

    eval "$(scripts/services env)"
    export BENCH_DATABASE_URL=postgres://trainy:trainy@127.0.0.1:5432/trainy_bench
    DATABASE_URL=$BENCH_DATABASE_URL .venv/bin/python bench/seed.py   # once, ~2 min
    .venv/bin/python bench/feed_pages.py                  # ~2 min
    .venv/bin/python bench/feed_pages.py --duration 30 --connections 40

Trainy runs under gunicorn against its own database (default postgres://trainy:trainy@127.0.0.1:
5432/trainy_bench) and the harness's Redis. (Not named feed.py: a module of that name would
shadow the feed app for mypy and for imports from this folder.)
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import subprocess
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checkin import (
    HOST,
    LOG_DIR,
    gunicorn,
    harness_url,
    machine_note,
    neighbours,
    signed_in_cookie,
)
from timetable import add_database_argument, prepare_django, say, verdict

SEED_PREFIX = "seed-user-"  # the travellers of bench/seed.py
PAGE_SIZE = 20  # journeys on a full feed page (feed.selectors.PAGE_SIZE)
JOURNEY = re.compile(r'data-testid="journey"')
NEXT_PAGE = re.compile(r'href="\?after=(\d+-\d+)"')
TARGET = "p95 < 50 ms, ≥ 200 req/s"

# wrk's report, in a line of our own: latency percentiles (wrk --latency prints no p95), and
# the responses other than 200 (wrk counts only >= 400 as errors; a redirect to the sign-in
# page would pass).
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_ok = 0 end
function response(status, headers, body) if status ~= 200 then not_ok = not_ok + 1 end end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("not_ok") end
  local e = summary.errors
  io.write(string.format(
    "TRAINY requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d not_ok=%d "
    .. "errors=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, bad,
    e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    signed_in: bool

    @property
    def target(self) -> bool:
        """A feed page, held to TARGET (not the reference)."""
        return self.path != "/healthz"


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

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def spread(self) -> str:
        if not self.requests:
            return "no answer in time"
        return f"{self.p50 * 1000:.1f} / {self.p95 * 1000:.1f} / {self.p99 * 1000:.1f} ms"

    def met(self) -> bool:
        return (
            self.requests > 0
            and self.p95 < 0.050
            and self.rate >= 200
            and not self.not_ok
            and not self.errors
        )


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
    """The viewer (the seeded traveller with a public profile who follows the most people) and
    the profile shown (the seeded traveller with a public profile and the most journeys)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q

    seeded = get_user_model().objects.filter(
        username__startswith=SEED_PREFIX, private_profile=False, is_active=True
    )
    viewer = (
        seeded.annotate(n=Count("following", filter=Q(following__accepted=True)))
        .order_by("-n", "id")
        .first()
    )
    owner = seeded.annotate(n=Count("checkins")).order_by("-n", "id").first()
    if viewer is None or owner is None or not owner.n:
        raise SystemExit(
            "no seed data in the benchmark database: run `DATABASE_URL=<the benchmark database> "
            ".venv/bin/python bench/seed.py` first (about two minutes)"
        )
    return viewer, owner


def describe_data(viewer: Any, owner: Any) -> None:
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
    say(f"  signed in as {viewer.username}, who follows {viewer.n} people; profile of "
        f"{owner.username}, with {owner.n:,} journeys")  # fmt: skip


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


def run_wrk(
    wrk: str, script: Path, port: int, path: str, cookie: str | None, args: argparse.Namespace,
    duration: float,
) -> Figures:  # fmt: skip
    command = [wrk, "--threads", str(args.threads), "--connections", str(args.connections),
               "--duration", f"{duration:g}s", "--timeout", "10s", "--latency",
               "--script", str(script)]  # fmt: skip
    if cookie:
        command += ["--header", f"Cookie: {cookie}"]
    result = subprocess.run(
        [*command, f"http://{HOST}:{port}{path}"], capture_output=True, text=True, check=False
    )
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
    )


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


def in_process(path: str, session: str | None, runs: int) -> Inside:
    """``runs`` requests one after another through Django's test client in this process (no
    network, no other load); the SQL of the last one captured."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    if session:
        client.cookies["sessionid"] = session
    times = []
    for _ in range(runs):
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


def where_time_goes(pages: list[Page], session: str, *, explain_slowest: bool) -> None:
    """Each page again in this process, unloaded: its time, its queries and the slowest of
    them; then the plan of the slowest query of the slowest page."""
    runs = 5
    say(f"== Where a page's time goes: {runs} requests each in this process, one after another "
        "(Django's test client; median time, the queries of the last)")  # fmt: skip
    slowest: tuple[float, str, str] | None = None
    for page in pages:
        if not page.target:
            continue
        inside = in_process(page.path, session if page.signed_in else None, runs)
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


def forget_session(key: str) -> None:
    from importlib import import_module

    from django.conf import settings

    import_module(settings.SESSION_ENGINE).SessionStore().delete(key)


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
    parser.add_argument("--depth", type=int, default=50, help="page of the deep global feed")
    parser.add_argument("--no-explain", action="store_true",
                        help="no EXPLAIN ANALYZE of the slowest page's slowest query")  # fmt: skip
    args = parser.parse_args(argv)

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

    say(f"Machine: {os.cpu_count()} cores; Trainy database {args.database_url}; wrk "
        f"{args.threads} threads x {args.connections} connections, {args.duration:g} s per "
        f"page after {args.warmup:g} s of warm-up; gunicorn gthread {args.workers} workers x "
        f"{args.server_threads} threads, DEBUG=false")  # fmt: skip
    say(f"  {machine_note()}")
    viewer, owner = seeded_people()
    describe_data(viewer, owner)
    session = signed_in_cookie(viewer)
    # As a browser after its first page: the session and the CSRF cookie the site set.
    from django.middleware.csrf import _get_new_csrf_string

    cookie = f"sessionid={session}; csrftoken={_get_new_csrf_string()}"
    sign_out = f'action="{reverse("account_logout")}"'
    script = LOG_DIR / "trainy-bench-feed.lua"
    script.write_text(WRK_SCRIPT)
    log = LOG_DIR / "trainy-bench-feed-gunicorn.log"
    results: list[tuple[Page, Figures]] = []
    disturbed: set[str] = set()  # pages loaded while other Trainy processes ran
    try:
        with gunicorn(args.workers, args.server_threads, log) as port:
            cursor = deep_cursor(port, cookie, args.depth)
            pages = [
                Page("GET /healthz (the ceiling)", "/healthz", signed_in=False),
                Page("front page, signed out (cached)", "/", signed_in=False),
                Page("global feed, signed in", "/", signed_in=True),
                Page("following feed", "/following/", signed_in=True),
                Page(f"global feed, page {args.depth}", f"/?after={cursor}", signed_in=True),
                Page(f"profile /u/{owner.username}/", f"/u/{owner.username}/", signed_in=True),
            ]
            say()
            for page in pages:
                check(port, page, cookie, sign_out)
                page_cookie = cookie if page.signed_in else None
                if args.warmup:
                    run_wrk(wrk, script, port, page.path, page_cookie, args, args.warmup)
                with Watch() as watch:
                    figures = run_wrk(
                        wrk, script, port, page.path, page_cookie, args, args.duration
                    )
                results.append((page, figures))
                if watch.seen:
                    disturbed.add(page.name)
                waited = settle()
                failed = f", {figures.not_ok} not 200" if figures.not_ok else ""
                failed += f", {figures.errors} socket errors" if figures.errors else ""
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
        say()
        where_time_goes(pages, session, explain_slowest=not args.no_explain)
    finally:
        forget_session(session)

    say()
    healthz = results[0][1]
    rows = []
    for page, figures in results:
        rows.append((
            page.name + (" *" if page.name in disturbed else ""),
            figures.spread(),
            f"{figures.rate:.0f}",
            f"{figures.rate / healthz.rate:.2f}x" if healthz.rate else "–",
            TARGET if page.target else "– (reference)",
            verdict(figures.met()) if page.target else "–",
        ))  # fmt: skip
    header = ("page", "p50 / p95 / p99", "req/s", "vs /healthz", "target", "met")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * width for width in widths), *rows]:
        say("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    if disturbed:
        say("* measured while other Trainy processes (test runs, servers) shared the machine")


if __name__ == "__main__":
    main()
