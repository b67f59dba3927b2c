"""Scale benchmark: the signed-in pages on the 1M-journey seed and on the 10M-journey seed, side by
side in one run, to show whether a page's cost grows with the number of journeys. Prints
figures; not a test.

Run with the services up, after seeding both databases (see README.md, "Seed data"):

    eval "$(scripts/services env)"
    .venv/bin/python bench/scale.py                          # ~10 min
    .venv/bin/python bench/scale.py --viewers 100 --rounds 4

Each database is measured in a process of its own (`--child`), so that nothing kept in a process
(the newest feed journeys, rendered card bodies, Django's connection) crosses from one data set
to the other; the processes take turns (1M, 10M, then 10M, 1M, …), so that a neighbour's load
on the machine falls on both sides alike. Cache keys have a prefix per database.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from checkin import HOST, machine_note
from feed_pages import (
    JOURNEY,
    NEXT_PAGE,
    SEED_PREFIX,
    Viewer,
    forget,
    seeded_people,
    seen_again,
    sign_in,
    viewer_users,
)
from timetable import percentile, prepare_django, say

SMALL_URL = "postgres://trainy:trainy@127.0.0.1:5432/trainy_bench"
LARGE_URL = "postgres://trainy:trainy@127.0.0.1:5432/trainy_bench_10m"
# A page whose median costs at most this many times as much on ten times the journeys does not
# grow with them: a cost that does grows about tenfold (a count or sort over everyone's
# journeys) or by the busiest traveller's share; a B-tree one level deeper adds a few per cent;
# runs on two cores shared with other work differ by up to a third.
GROWS_ABOVE = 1.5
COLD_PREFIX = "trainy-bench-scale-cold"  # fresh cache keys: nothing found, nothing shared


# --- One database, in a process of its own ---------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A page as one kind of viewer asks for it. ``who``: "viewers" (the distinct viewers in
    turn), "own" (each viewer their own page), "checker", "busiest" or "median" (that one
    traveller on every request). ``cache``: "cold" (nothing cached: fresh cache keys and the
    process's kept rows and card bodies dropped before each request), "shared" (what every
    viewer shares warm: newest feed journeys, card bodies, a profile's figures per standing;
    nothing kept for one viewer) or "cached" (the traveller's own cached figures: a reference,
    never the page's cost)."""

    key: str
    name: str
    path: str
    who: str
    cache: str
    # What the answer must show besides a 200: "journeys" (a full page), "listed" (a journey),
    # "history", "stats", "map" (their figures or paths), "ok" (nothing more: a following feed
    # of someone who follows nobody is empty).
    expect: str

    @property
    def label(self) -> str:
        return {"cold": "cold", "shared": "shared caches warm", "cached": "CACHED"}[self.cache]


def pages(depth_cursor: str, history: dict[str, tuple[str, int]], depth: int,
          people: dict[str, Any]) -> list[Page]:  # fmt: skip
    busiest, median = people["busiest"].username, people["median"].username
    deep_busiest, busiest_page = history["busiest"]
    deep_median, median_page = history["median"]
    found: list[Page] = []
    for cache in ("shared", "cold"):
        found += [
            Page(f"global-{cache}", "global feed, distinct viewers", "/", "viewers", cache,
                 "journeys"),
            Page(f"deep-{cache}", f"global feed page {depth}, distinct viewers",
                 f"/?after={depth_cursor}", "viewers", cache, "journeys"),
            Page(f"following-{cache}", "following feed, distinct viewers", "/following/",
                 "viewers", cache, "ok"),
            Page(f"profile-busiest-{cache}", "profile of the busiest, distinct viewers",
                 f"/u/{busiest}/", "viewers", cache, "journeys"),
            Page(f"profile-median-{cache}", "profile of a median traveller, distinct viewers",
                 f"/u/{median}/", "viewers", cache, "listed"),
        ]  # fmt: skip
    found += [
        Page("following-checker", "following feed of who follows most", "/following/",
             "checker", "cold", "journeys"),
        Page("history-own", "my journeys, distinct viewers (own)", "/journeys/", "own", "cold",
             "history"),
        Page("history-busiest", "my journeys, the busiest", "/journeys/", "busiest", "cold",
             "history"),
        Page("history-busiest-deep", f"my journeys page {busiest_page}, the busiest",
             f"/journeys/?after={deep_busiest}", "busiest", "cold", "history"),
        Page("history-median", "my journeys, a median traveller", "/journeys/", "median", "cold",
             "history"),
        Page("history-median-deep", f"my journeys page {median_page}, a median traveller",
             f"/journeys/?after={deep_median}", "median", "cold", "history"),
        Page("stats-own", "statistics, distinct viewers (own)", "/stats/", "own", "cold",
             "stats"),
        Page("stats-busiest", "statistics, the busiest (this year)", "/stats/", "busiest",
             "cold", "stats"),
        Page("stats-busiest-all", "statistics, the busiest (all time)", "/stats/?period=all",
             "busiest", "cold", "stats"),
        Page("stats-median-all", "statistics, a median traveller (all time)",
             "/stats/?period=all", "median", "cold", "stats"),
        Page("stats-busiest-cached", "statistics, the busiest (this year)", "/stats/",
             "busiest", "cached", "stats"),
        # Cold: what the beat task adds up every minute (or a page, after a change took
        # something off). Shared: the kept boards, as pages read them between the task's runs.
        Page("leaderboard", "leaderboards (week, month), distinct viewers", "/stats/leaderboard/",
             "viewers", "cold", "ok"),
        Page("leaderboard-shared", "leaderboards (week, month), kept boards, distinct viewers",
             "/stats/leaderboard/", "viewers", "shared", "ok"),
        Page("map-busiest", "/stats/map.json, the busiest (this year)", "/stats/map.json",
             "busiest", "cold", "map"),
        Page("map-own", "/stats/map.json, distinct viewers (own)", "/stats/map.json", "own",
             "cold", "map"),
    ]  # fmt: skip
    return found


def median_traveller() -> Any:
    """The seeded traveller with a public profile whose number of journeys is the median of
    those who have any."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    ranked = list(
        get_user_model()
        .objects.filter(username__startswith=SEED_PREFIX, private_profile=False, is_active=True)
        .annotate(n=Count("checkins"))
        .filter(n__gt=0)
        .order_by("n", "id")
    )
    return ranked[len(ranked) // 2]


def data_note() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM feed_user WHERE username LIKE %s),"
            " (SELECT count(*) FROM checkins_checkin),"
            " pg_database_size(current_database())",
            [f"{SEED_PREFIX}%"],
        )
        users, journeys, size = cursor.fetchone()
    return {"users": users, "journeys": journeys, "bytes": size}


def deep_feed_cursor(client: Any, viewer: Viewer, depth: int) -> str:
    """The cursor of the global feed's page ``depth`` as ``viewer`` sees it, found by following
    the "older journeys" links from the first page (as bench/feed_pages.py does over HTTP)."""
    cursor = ""
    for page in range(1, depth):
        body = get(client, f"/?after={cursor}" if cursor else "/", viewer).content.decode()
        found = NEXT_PAGE.search(body)
        if not found:
            raise SystemExit(f"the global feed has no page {page + 1}: seed more journeys")
        cursor = found.group(1)
    return cursor


def history_cursor(owner: Any, depth: int) -> tuple[str, int]:
    """The cursor of ``owner``'s "My journeys" page ``depth``, or of their last page if they
    have fewer, and that page's number."""
    from checkins.selectors import journey_history, parse_cursor

    cursor, page = "", 1
    while page < depth:
        found = journey_history(owner=owner, after=parse_cursor(cursor) if cursor else None)
        if found.next_cursor is None:
            break
        cursor, page = found.next_cursor, page + 1
    return cursor, page


def get(client: Any, path: str, viewer: Viewer) -> Any:
    client.cookies.clear()
    client.cookies["sessionid"] = viewer.session
    client.cookies["csrftoken"] = viewer.csrf
    return client.get(path)


def checked(page: Page, response: Any) -> None:
    body = response.content.decode(errors="replace")
    problem = ""
    if response.status_code != 200:
        problem = f"status {response.status_code}"
    elif page.expect == "journeys" and len(JOURNEY.findall(body)) != 20:
        problem = f"{len(JOURNEY.findall(body))} journeys, not 20"
    elif page.expect == "listed" and not JOURNEY.search(body):
        problem = "no journey"
    elif page.expect == "history" and 'data-testid="totals"' not in body:
        problem = "no totals"
    elif page.expect == "stats" and 'data-testid="total-journeys"' not in body:
        problem = "no figures"
    elif page.expect == "map" and '"paths"' not in body:
        problem = "no paths"
    if problem:
        raise SystemExit(f"GET {page.path} ({page.name}) answers wrongly: {problem}")


@contextlib.contextmanager
def cold_caches(serial: Iterator[int]) -> Iterator[None]:
    """Nothing cached for the request inside: the cache's keys get a prefix never used before
    (no page, figure, card body or session is found in Redis; the session is read from its
    row), and this process's kept newest journeys and card bodies are dropped."""
    from django.core.cache import caches

    from feed import selectors
    from feed.templatetags import cards

    cache = caches["default"]
    usual = cache.key_prefix
    cache.key_prefix = f"{COLD_PREFIX}-{os.getpid()}-{next(serial)}"
    selectors._kept.clear()
    cards._bodies.clear()
    try:
        yield
    finally:
        cache.key_prefix = usual


def measure(
    client: Any, page: Page, viewers: list[Viewer], people: dict[str, Viewer],
    serial: Iterator[int], touch: Callable[[], None],
) -> dict[str, Any]:  # fmt: skip
    """``page`` for each of ``viewers`` (or as one traveller as often), after 3 untimed
    requests by others (imports, templates; the shared caches for "shared"); the queries of
    the last request captured."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if page.who in ("viewers", "own"):
        who = viewers
        warm = [people["checker"], people["median"], people["busiest"]]
    else:
        who = [people[page.who]] * len(viewers)
        warm = [people[page.who]] * 3
    touch()
    for viewer in warm:
        with cold_caches(serial) if page.cache == "cold" else contextlib.nullcontext():
            checked(page, get(client, page.path, viewer))
    times = []
    captured = CaptureQueriesContext(connection)
    for n, viewer in enumerate(who):
        last = n == len(who) - 1
        with (
            cold_caches(serial) if page.cache == "cold" else contextlib.nullcontext(),
            captured if last else contextlib.nullcontext(),
        ):
            started = time.perf_counter()
            response = get(client, page.path, viewer)
            times.append(time.perf_counter() - started)
        checked(page, response)
    queries = [(float(q["time"]), q["sql"]) for q in captured.captured_queries]
    slowest = max(queries, default=(0.0, ""))
    return {
        "times": times,
        "queries": len(queries),
        "sql_s": sum(seconds for seconds, _ in queries),
        "slowest_s": slowest[0],
        "slowest_sql": slowest[1],
    }


def child(url: str, out: Path, count: int, part: int, parts: int, depth: int) -> None:
    name = urlsplit(url).path.lstrip("/")
    os.environ["CACHE_KEY_PREFIX"] = f"trainy-bench-scale-{name}"
    # The seed makes no journey documents: an empty document database of the benchmark's own,
    # the same for both sides (the map's reads of it do not depend on PostgreSQL's size).
    os.environ["MONGO_DB"] = "trainy_bench_scale"
    os.environ.pop("CELERY_BROKER_URL", None)  # nothing here queues tasks
    prepare_django(url)
    warnings.filterwarnings("ignore", message="No directory at")
    from django.test import Client
    from django_redis import get_redis_connection

    from trainy.accounts.middleware import SEEN_EVERY

    before = machine_note()
    checker_user, busiest_user = seeded_people()
    median_user = median_traveller()
    users = viewer_users(count * parts + 1, checker_user)
    mine = users[1 + part * count : 1 + (part + 1) * count]
    journeys = {"busiest": busiest_user.n, "median": median_user.n}
    for user in (busiest_user, median_user):
        user.n = 0  # sign_in notes how many people a viewer follows (here: journeys)
    signed: list[Viewer] = []
    client = Client(HTTP_HOST=HOST)
    results: dict[str, Any] = {}
    try:
        sign_in([checker_user, busiest_user, median_user, *mine], signed)
        seen = time.monotonic()
        checker, busiest, median, *viewers = signed
        people = {"checker": checker, "busiest": busiest, "median": median}

        def touch() -> None:
            # Seen again before the sessions come due (a write on the next request).
            nonlocal seen
            if time.monotonic() - seen > SEEN_EVERY.total_seconds() - 90:
                seen_again(signed)
                seen = time.monotonic()

        cursor = deep_feed_cursor(client, checker, depth)
        history = {
            "busiest": history_cursor(busiest_user, depth),
            "median": history_cursor(median_user, depth),
        }
        serial = iter(range(10**9))
        chosen = pages(cursor, history, depth, {"busiest": busiest_user, "median": median_user})
        for page in chosen:
            results[page.key] = measure(client, page, viewers, people, serial, touch) | {
                "name": page.name,
                "label": page.label,
            }
    finally:
        from django.db import connection

        connection.close()  # a new one for the clean-up, should the server have dropped it
        forget(signed)
        redis = get_redis_connection("default")
        for key in redis.scan_iter(f"{COLD_PREFIX}-{os.getpid()}-*", count=1000):
            redis.delete(key)
    meta = data_note() | {
        "busiest": journeys["busiest"],
        "median": journeys["median"],
        "checker_follows": checker_user.n,
        "viewers": len(viewers),
        "before": before,
        "after": machine_note(),
    }
    out.write_text(json.dumps({"meta": meta, "pages": results, "order": [p.key for p in chosen]}))


# --- Both, side by side ----------------------------------------------------------------------


def run_child(url: str, args: argparse.Namespace, part: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    command = [sys.executable, __file__, "--child", url, "--out", str(out),
               "--viewers", str(args.viewers), "--part", str(part), "--parts", str(args.rounds),
               "--depth", str(args.depth)]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True)
    found: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    meta = found["meta"]
    say(f"  {urlsplit(url).path.lstrip('/')}, round {part + 1}: {meta['viewers']} viewers, "
        f"{time.perf_counter() - started:.0f} s; before: {meta['before']}; after: "
        f"{meta['after']}")  # fmt: skip
    return found


def explain(url: str, sql: str) -> list[str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").fetchall()
    return [row[0] for row in rows]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--small", default=SMALL_URL, help="the 1M-journey seed's database")
    parser.add_argument("--large", default=LARGE_URL, help="the 10M-journey seed's database")
    parser.add_argument("--viewers", type=int, default=24,
                        help="distinct viewers per round and database")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=2,
                        help="processes per database, in turns (other viewers each)")  # fmt: skip
    parser.add_argument("--depth", type=int, default=50, help="page of the deep pages")
    parser.add_argument("--no-explain", action="store_true",
                        help="no EXPLAIN of the slowest query of a page that grew")  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--part", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--parts", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.out, args.viewers, args.part, args.parts, args.depth)
        return
    if not os.environ.get("REDIS_URL"):
        raise SystemExit('REDIS_URL is not set: run `eval "$(scripts/services env)"` first')

    say(f"Machine: {os.cpu_count()} cores; {machine_note()}")
    say(f"Pages through Django's test client in one process per database and round, "
        f"{args.viewers} distinct viewers per round ({args.rounds} rounds each, taking turns), "
        "DEBUG=false")  # fmt: skip
    runs: dict[str, list[dict[str, Any]]] = {"small": [], "large": []}
    for part in range(args.rounds):
        order = ["small", "large"] if part % 2 == 0 else ["large", "small"]
        for side in order:
            runs[side].append(run_child(getattr(args, side), args, part))
    say(f"  machine afterwards: {machine_note()}")
    say()
    for side, label in (("small", "1M"), ("large", "10M")):
        meta = runs[side][0]["meta"]
        say(f"{label}: {meta['journeys']:,} journeys, {meta['users']:,} seeded travellers, "
            f"database {meta['bytes'] / 1e9:.1f} GB; the busiest has {meta['busiest']:,} "
            f"journeys, the median traveller {meta['median']:,}, who follows most follows "
            f"{meta['checker_follows']}")  # fmt: skip

    rows, grown = [], []
    for key in runs["small"][0]["order"]:
        small = [run["pages"][key] for run in runs["small"]]
        large = [run["pages"][key] for run in runs["large"]]
        a = [t for run in small for t in run["times"]]
        b = [t for run in large for t in run["times"]]
        ratio = percentile(b, 0.5) / percentile(a, 0.5)
        ratio95 = percentile(b, 0.95) / percentile(a, 0.95)
        ok = ratio <= GROWS_ABOVE
        label = small[0]["label"]
        rows.append((
            f"{small[0]['name']} ({label})",
            f"{ms(percentile(a, 0.5))} / {ms(percentile(a, 0.95))}",
            f"{ms(percentile(b, 0.5))} / {ms(percentile(b, 0.95))}",
            f"{ratio:.2f} ({ratio95:.2f})",
            f"{small[-1]['queries']} / {large[-1]['queries']}",
            f"{ms(small[-1]['slowest_s'])} / {ms(large[-1]['slowest_s'])}",
            "reference (cached)" if label == "CACHED"
            else "does not grow" if ok else "GROWS",
        ))  # fmt: skip
        if not ok:
            grown.append((key, small[-1], large[-1]))
    header = ("page", "1M p50 / p95 ms", "10M p50 / p95 ms", "ratio p50 (p95)",
              "queries", "slowest query ms", "verdict")  # fmt: skip
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * width for width in widths), *rows]:
        say("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    say(f"ratio: 10M over 1M; a page does not grow when its p50 ratio is at most {GROWS_ABOVE} "
        "(a cost that grows with the journeys grows about tenfold here); queries and the "
        "slowest query: of the last request on each side (1M / 10M); cold: nothing cached; "
        "shared caches warm: as for real traffic, nothing kept for one viewer; CACHED: the "
        "traveller's own cached figures, a reference only")  # fmt: skip
    if grown and not args.no_explain:
        for key, small_page, large_page in grown:
            say()
            say(f"{key}: EXPLAIN (ANALYZE, BUFFERS) of the slowest query of its last request")
            for side, page in (("1M", small_page), ("10M", large_page)):
                if not page["slowest_sql"]:
                    continue
                url = args.small if side == "1M" else args.large
                say(f"  {side}:")
                for line in explain(url, page["slowest_sql"]):
                    say(f"    {line}")


if __name__ == "__main__":
    main()
