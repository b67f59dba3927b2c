"""Statistics benchmark: the statistics page of a traveller with 10,000 journeys, cold (nothing
cached: every figure computed from PostgreSQL) and warm (the traveller's figures cached in
Redis, labelled as such), and the page's route map /stats/map.json (the journey documents in
MongoDB; nothing cached on its way), over HTTP from gunicorn. Prints figures; not a test.

    eval "$(scripts/services env)"
    .venv/bin/python bench/stats_page.py                 # 10,000 journeys, 200 requests each way
    .venv/bin/python bench/stats_page.py --requests 500 --map-requests 50

Runs against the database trainy_bench (created and migrated if missing) and the MongoDB
database trainy_bench_stats, its own. The traveller bench-stats gets 10,000 journeys over two
years (made once, kept for later runs) and a journey document for each (made whenever some are
missing; all made again if some are of an older version, e.g. without route overviews).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from checkin import (
    HOST,
    LOG_DIR,
    gunicorn,
    harness_url,
    machine_note,
    signed_in_cookie,
)
from timetable import add_database_argument, percentile, prepare_django, say, spread, verdict

USERNAME = "bench-stats"
# The journey documents' database: this benchmark's alone (bench/checkin.py drops its own,
# trainy_bench, at every start; 10,000 documents take a minute or two to make again).
DOCUMENTS_DB = "trainy_bench_stats"
TARGETS = {"warm": 0.100, "cold": 0.500, "map": 0.500}
# The ranges, as the page's query string: the page is /stats/?<query>, its map
# /stats/map.json?<query> (the page asks for it with its own query once it has loaded).
RANGES = {
    "this year": "period=this-year",
    "all time": "period=all",
    "business, last year": "period=last-year&purpose=business",
}
# The routes of the bench journeys: a point every 100 m along the way (the MTA feed's shapes
# have one every 44 m or so), at most 2,000 a journey, as a cut shape would give.
METRES_PER_POINT = 100
MAX_POINTS = 2000


def traveller(journeys: int, seed: int) -> Any:
    """The bench traveller with ``journeys`` journeys over the last two years, made if missing:
    real-looking lines, stations, modes, purposes, distances, some real times."""
    from django.utils import timezone

    from checkins.models import CheckIn, Mode, Purpose
    from trainy.accounts.models import User

    user, _ = User.objects.get_or_create(
        username=USERNAME, defaults={"display_name": "Bench Statistics"}
    )
    have = CheckIn.objects.filter(user=user).count()
    if have >= journeys:
        return user
    say(f"  making {journeys - have} journeys for {USERNAME} (once; not timed)")
    rng = random.Random(seed)  # noqa: S311 (reproducible data, not secrets)
    stations = [
        ("Berlin Hbf", 52.5251, 13.3694), ("Hamburg Hbf", 53.5530, 10.0069),
        ("München Hbf", 48.1402, 11.5600), ("Köln Hbf", 50.9430, 6.9589),
        ("Frankfurt (Main) Hbf", 50.1071, 8.6638), ("Leipzig Hbf", 51.3455, 12.3821),
        ("Times Sq-42 St", 40.7553, -73.9870), ("Fulton St", 40.7092, -74.0065),
    ]  # fmt: skip
    modes = [(Mode.LONG_DISTANCE, "ICE", 120, 500_000), (Mode.REGIONAL, "RE", 40, 90_000),
             (Mode.SUBURBAN, "S", 20, 25_000), (Mode.SUBWAY, "U", 10, 8_000),
             (Mode.TRAM, "M", 12, 5_000), (Mode.BUS, "Bus", 15, 6_000)]  # fmt: skip
    now = timezone.now()
    rows = []
    start = now - timedelta(days=730)
    step = timedelta(days=730) / journeys
    for n in range(have, journeys):
        mode, product, minutes, meters = rng.choice(modes)
        (origin, olat, olon), (destination, dlat, dlon) = rng.sample(stations, 2)
        departure = start + step * n + timedelta(minutes=rng.randint(0, 30))
        duration = timedelta(minutes=rng.randint(minutes // 2, minutes * 2))
        arrival = departure + duration
        late = timedelta(minutes=rng.choice([0, 0, 0, 2, 5, 8, 15, 40])) if n % 3 == 0 else None
        rows.append(CheckIn(
            user=user, mode=mode, line_name=f"{product} {rng.randint(1, 999)}",
            operator_name=rng.choice(["DB Fernverkehr", "DB Regio", "S-Bahn Berlin", "BVG",
                                      "MTA New York City Transit"]),
            origin_name=origin, origin_lat=olat, origin_lon=olon,
            destination_name=destination, destination_lat=dlat, destination_lon=dlon,
            departure_planned=departure, arrival_planned=arrival,
            arrival_real=arrival + late if late is not None else None,
            purpose=rng.choice([Purpose.PRIVATE, Purpose.PRIVATE, Purpose.BUSINESS,
                                Purpose.COMMUTE]),
            distance_m=rng.randint(meters // 3, meters), duration_s=int(duration.total_seconds()),
            distance_method="stop_to_stop", enriched_at=now, time_zone="Europe/Berlin",
        ))  # fmt: skip
    CheckIn.objects.bulk_create(rows, batch_size=2000)
    return user


def route(checkin: Any, rng: random.Random) -> list[tuple[float, float]]:
    """A route from the journey's origin to its destination with as many points as a shape of
    the journey's distance would have (the bench's stations are drawn at random, so the
    distance, not the stations' separation, says how long the ride was), wandering a little
    off the straight line (a straight one would encode shorter than a real shape)."""
    (lat0, lon0), (lat1, lon1) = (
        (checkin.origin_lat, checkin.origin_lon),
        (checkin.destination_lat, checkin.destination_lon),
    )
    metres = checkin.distance_m or 0
    count = max(2, min(MAX_POINTS, math.ceil(metres / METRES_PER_POINT)))
    bend = rng.uniform(-0.05, 0.05)  # degrees off the straight line halfway, up to ~5 km
    points = [(lat0, lon0)]
    for n in range(1, count - 1):
        share = n / (count - 1)
        points.append((
            lat0 + (lat1 - lat0) * share + bend * math.sin(share * math.pi) + rng.gauss(0, 2e-4),
            lon0 + (lon1 - lon0) * share + rng.gauss(0, 2e-4),
        ))  # fmt: skip
    points.append((lat1, lon1))
    return points


def documents(user: Any, seed: int) -> None:
    """A journey document for every journey of ``user`` that has none (all of them again if
    some are of an older DOCUMENT_VERSION, such as those written before route overviews): what
    enrichment builds for a journey without a trip (build_document()), with a route of a real
    shape's weight in place of its two-point line, its geometry made as enrichment makes it
    (route_geometry(): the route and its overview). Not timed; the documents are kept for
    later runs."""
    import pymongo

    from checkins.enrichment import DOCUMENT_VERSION, build_document, route_geometry
    from checkins.models import CheckIn
    from trainy.documents import journey_store

    store = journey_store()
    store.ensure_indexes()
    ids = list(CheckIn.objects.filter(user=user).order_by("id").values_list("id", flat=True))
    began = time.perf_counter()
    have: set[int] = set()
    stale = 0
    # FerretDB answers a list of ids by scanning the collection: a few large lists.
    for start in range(0, len(ids), 5000):
        for checkin_id, document in store.get_many(ids[start : start + 5000]).items():
            if document.get("version") == DOCUMENT_VERSION:
                have.add(checkin_id)
            else:
                stale += 1
    say(f"  journey documents of {USERNAME}: {len(have) + stale:,} of {len(ids):,}, {stale:,} "
        f"of an older version (looked up in {time.perf_counter() - began:.1f} s)")  # fmt: skip
    if stale:
        # Built the way enrichment used to (before route overviews, say): the database dropped
        # whole and every document made again.
        # FerretDB deletes or replaces a document by scanning the collection for it, a fifth
        # of a second each at 10,000 documents.
        pymongo.MongoClient(os.environ["MONGO_URL"]).drop_database(DOCUMENTS_DB)
        store.ensure_indexes()
        have = set()
    missing = [checkin_id for checkin_id in ids if checkin_id not in have]
    if not missing:
        return
    say(f"  making the {len(missing):,} missing journey documents (not timed)")
    rng = random.Random(seed)  # noqa: S311 (reproducible data, not secrets)
    began = time.perf_counter()
    points = overview = 0
    for start in range(0, len(missing), 1000):
        batch = {}
        for checkin in CheckIn.objects.filter(id__in=missing[start : start + 1000]):
            document = build_document(checkin)
            path = route(checkin, rng)
            document["geometry"] = route_geometry(path)
            points += len(path)
            overview += document["geometry"]["overview"]["points"]
            batch[checkin.id] = document
        store.put_many(batch)
    say(f"    {len(missing):,} documents ({points / len(missing):.0f} route points and "
        f"{overview / len(missing):.0f} overview points each on average) in "
        f"{time.perf_counter() - began:.1f} s")  # fmt: skip


def fetch(port: int, path: str, cookie: str) -> tuple[float, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    began = time.perf_counter()
    connection.request("GET", path, headers={"Host": HOST, "Cookie": f"sessionid={cookie}"})
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - began
    connection.close()
    if response.status != 200:
        raise SystemExit(f"GET {path} answered {response.status}")
    return elapsed, body


def fetch_page(port: int, path: str, cookie: str) -> float:
    elapsed, body = fetch(port, path, cookie)
    if b'data-testid="total-journeys"' not in body:
        raise SystemExit(f"GET {path} answered without the figures")
    return elapsed


def fetch_map(port: int, path: str, cookie: str, routes: int) -> tuple[float, int]:
    """Seconds and bytes of one map; it must draw ``routes`` routes (every journey of the
    range's newest 500 has a document with a route)."""
    elapsed, body = fetch(port, path, cookie)
    answer = json.loads(body)
    if "note" in answer or len(answer["paths"]) != routes:
        raise SystemExit(
            f"GET {path}: {len(answer['paths'])} routes, not {routes} ({answer.get('note')})"
        )
    return elapsed, len(body)


def map_parts(user: Any, query: str, count: int) -> str:
    """Where a map's time goes, in this process, the view's own steps one after the other:
    the ids from PostgreSQL, the documents from the store (one get_many), the routes
    (journey_paths, handed the documents just read: their overviews decoded), the JSON
    response. Then, beside them, the routes of the same documents without their overviews, as
    documents written before overviews are drawn (every point decoded, every fourth kept).
    Medians of ``count``."""
    from django.http import JsonResponse, QueryDict

    from checkins.selectors import journey_paths
    from stats.forms import StatsFilterForm
    from stats.selectors import journey_ids_for_map
    from trainy.documents import journey_store

    form = StatsFilterForm(QueryDict(query))
    if not form.is_valid():
        raise SystemExit(f"the range {query} is not valid: {form.errors}")
    criteria = form.criteria()
    store = journey_store()
    parts: dict[str, list[float]] = {
        "ids": [], "documents": [], "routes": [], "json": [], "routes of old documents": []
    }  # fmt: skip
    for _ in range(count):
        began = time.perf_counter()
        ids = journey_ids_for_map(owner=user, criteria=criteria)
        fetched = time.perf_counter()
        read = store.get_many(ids)
        got = time.perf_counter()

        # journey_paths reads them again: handed what was just read (an instance attribute
        # shadowing the method), only its decoding is timed.
        def already_read(_ids: Any, read: dict[int, Any] = read) -> dict[int, Any]:
            return read

        store.get_many = already_read  # type: ignore[method-assign,assignment]
        try:
            paths = journey_paths(checkin_ids=ids, every=4)
        finally:
            del store.get_many
        decoded = time.perf_counter()
        JsonResponse({"paths": paths})
        done = time.perf_counter()

        # The same documents as they were before overviews (copied untimed).
        old = {
            checkin_id: {**document, "geometry": {
                key: value for key, value in document["geometry"].items() if key != "overview"
            }}
            for checkin_id, document in read.items()
        }  # fmt: skip

        def old_read(_ids: Any, old: dict[int, Any] = old) -> dict[int, Any]:
            return old

        store.get_many = old_read  # type: ignore[method-assign,assignment]
        try:
            began_old = time.perf_counter()
            journey_paths(checkin_ids=ids, every=4)
            old_routes = time.perf_counter() - began_old
        finally:
            del store.get_many
        for name, seconds in zip(
            parts,
            (fetched - began, got - fetched, decoded - got, done - decoded, old_routes),
            strict=True,
        ):
            parts[name].append(seconds)
    return ", ".join(
        f"{name} {percentile(times, 0.5) * 1000:.1f} ms" for name, times in parts.items()
    )


def map_routes(user: Any, query: str) -> int:
    from django.http import QueryDict

    from stats.forms import StatsFilterForm
    from stats.selectors import journey_ids_for_map

    form = StatsFilterForm(QueryDict(query))
    form.is_valid()
    return len(journey_ids_for_map(owner=user, criteria=form.criteria()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_database_argument(parser, "Trainy's benchmark database (created and migrated if missing)")
    parser.add_argument("--journeys", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200,
                        help="timed page requests each way (cold, cached) per range")  # fmt: skip
    parser.add_argument("--map-requests", type=int, default=20,
                        help="timed /stats/map.json requests per range")  # fmt: skip
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()
    harness_url("REDIS_URL")
    harness_url("MONGO_URL")  # the map reads the journey documents from MongoDB
    os.environ["MONGO_DB"] = DOCUMENTS_DB
    os.environ.pop("CELERY_BROKER_URL", None)  # nothing here queues tasks
    prepare_django(args.database_url)
    from trainy.generations import STATS as STATS_GENERATION

    user = traveller(args.journeys, args.seed)
    documents(user, args.seed)
    cookie = signed_in_cookie(user)
    say(f"== Statistics page of {USERNAME} ({args.journeys:,} journeys); gunicorn, 1 worker")
    say(f"  machine: {machine_note()}")
    rows = []
    with gunicorn(1, 1, LOG_DIR / "trainy-bench-stats-gunicorn.log") as port:
        for name, query in RANGES.items():
            path = f"/stats/?{query}"
            for _ in range(5):  # warm-up: imports, connections, templates
                fetch_page(port, path, cookie)
            cold = []
            for _ in range(args.requests):
                # A new generation: nothing of the traveller's is cached.
                STATS_GENERATION.move_on(user.pk)
                cold.append(fetch_page(port, path, cookie))
            # The figures of the last cold request, from Redis: what a traveller gets when they
            # look again before their journeys change. Never a stand-in for the cold figure.
            cached = [fetch_page(port, path, cookie) for _ in range(args.requests)]
            say(f"  {name}: page cold {spread(cold)}; page cached {spread(cached)}")
            rows.append((f"{name}: page, cold (uncached)", spread(cold), "p95 < 500 ms",
                         verdict(percentile(cold, 0.95) < TARGETS["cold"])))  # fmt: skip
            rows.append((f"{name}: page, warm (figures cached in Redis)", spread(cached),
                         "p95 < 100 ms",
                         verdict(percentile(cached, 0.95) < TARGETS["warm"])))  # fmt: skip

            # The map: no cache on its way (ids from PostgreSQL, documents from MongoDB), so
            # every request is a cold one.
            map_path = f"/stats/map.json?{query}"
            routes = map_routes(user, query)
            for _ in range(3):
                fetch_map(port, map_path, cookie, routes)
            times, size = [], 0
            for _ in range(args.map_requests):
                elapsed, size = fetch_map(port, map_path, cookie, routes)
                times.append(elapsed)
            say(f"  {name}: map.json ({routes} routes, {size / 1e6:.2f} MB) {spread(times)}")
            say(f"    its parts in-process (medians of 5): {map_parts(user, query, 5)}")
            rows.append((f"{name}: map.json, {routes} routes (uncached)", spread(times),
                         "p95 < 500 ms",
                         verdict(percentile(times, 0.95) < TARGETS["map"])))  # fmt: skip
    say(f"  machine afterwards: {machine_note()}")
    say()
    header = ("measure (p50 / p95 / p99)", "Trainy", "target", "met")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * width for width in widths), *rows]:
        say("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
