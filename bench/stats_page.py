"""Statistics benchmark: the statistics page of a traveller with 10,000 journeys, cold (nothing
cached: every figure computed from PostgreSQL) and warm (the traveller's figures cached in
Redis), over HTTP from gunicorn. Prints figures; not a test.

    eval "$(scripts/services env)"
    .venv/bin/python bench/stats_page.py                 # 10,000 journeys, 200 requests each way
    .venv/bin/python bench/stats_page.py --requests 500

Runs against the database trainy_bench (created and migrated if missing). The traveller
bench-stats gets 10,000 journeys over two years (made once, kept for later runs).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from checkin import HOST, LOG_DIR, gunicorn, machine_note, signed_in_cookie
from timetable import add_database_argument, percentile, prepare_django, say, spread, verdict

USERNAME = "bench-stats"
TARGETS = {"warm": 0.100, "cold": 0.500}
PATHS = {
    "this year": "/stats/?period=this-year",
    "all time": "/stats/?period=all",
    "business, last year": "/stats/?period=last-year&purpose=business",
}


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


def fetch(port: int, path: str, cookie: str) -> float:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    began = time.perf_counter()
    connection.request("GET", path, headers={"Host": HOST, "Cookie": f"sessionid={cookie}"})
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - began
    connection.close()
    if response.status != 200 or b'data-testid="total-journeys"' not in body:
        raise SystemExit(f"GET {path} answered {response.status} without the figures")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_database_argument(parser, "Trainy's benchmark database (created and migrated if missing)")
    parser.add_argument("--journeys", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests each way")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit('REDIS_URL is not set: run `eval "$(scripts/services env)"` first')
    os.environ.pop("CELERY_BROKER_URL", None)  # nothing here queues tasks
    prepare_django(args.database_url)
    from trainy.generations import STATS as STATS_GENERATION

    user = traveller(args.journeys, args.seed)
    cookie = signed_in_cookie(user)
    say(f"== Statistics page of {USERNAME} ({args.journeys:,} journeys); gunicorn, 1 worker")
    say(f"  machine: {machine_note()}")
    rows = []
    with gunicorn(1, 1, LOG_DIR / "trainy-bench-stats-gunicorn.log") as port:
        for name, path in PATHS.items():
            for _ in range(5):  # warm-up: imports, connections, templates
                fetch(port, path, cookie)
            cold = []
            for _ in range(args.requests):
                # A new generation: nothing of the traveller's is cached.
                STATS_GENERATION.move_on(user.pk)
                cold.append(fetch(port, path, cookie))
            warm = [fetch(port, path, cookie) for _ in range(args.requests)]
            say(f"  {name}: cold {spread(cold)}, warm {spread(warm)}")
            rows.append((f"{name}, cold (p50/p95/p99)", spread(cold), "p95 < 500 ms",
                         verdict(percentile(cold, 0.95) < TARGETS["cold"])))  # fmt: skip
            rows.append((f"{name}, warm (p50/p95/p99)", spread(warm), "p95 < 100 ms",
                         verdict(percentile(warm, 0.95) < TARGETS["warm"])))  # fmt: skip
    say(f"  machine afterwards: {machine_note()}")
    say()
    header = ("measure", "Trainy", "target", "met")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * width for width in widths), *rows]:
        say("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
