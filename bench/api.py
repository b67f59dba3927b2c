"""API benchmark: GET departures, GET my journeys and POST check-in over /api/v1/, each under 20
concurrent clients with tokens of their own, side by side with the page that serves the same
thing and with GET /healthz of the same server, in one run. Prints figures; not a test.

Run with the services up (as root the first time: the broker gets a vhost of its own):

    eval "$(scripts/services env)"
    .venv/bin/python bench/api.py                  # ~6 min, the MTA import the first time besides
    .venv/bin/python bench/api.py --history 100 --requests 600

It shares checkin.py's isolation: the database trainy_bench (the MTA feed imported if it is not
active there), the MongoDB database and RabbitMQ vhost trainy_bench, the users
bench-traveller-NN, whose journeys from earlier runs are deleted at the start.
"""

from __future__ import annotations

import argparse
import json
import os
import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from checkin import (
    BENCH_NAME,
    LOG_DIR,
    Call,
    Load,
    Segment,
    active_mta,
    bench_broker_url,
    checkin_call,
    csrf_token,
    describe,
    forget_earlier_runs,
    gunicorn,
    harness_url,
    is_checked_in,
    machine_note,
    purge_queues,
    run_load,
    share_out,
    signed_in_cookie,
    travellers,
    trip_path,
    trip_segments,
)
from timetable import (
    FEEDS,
    MTA,
    add_database_argument,
    board_pairs,
    percentile,
    prepare_django,
    say,
    spread,
    verdict,
)

TARGETS = {"get": 0.020, "post": 0.050}
JSON = "application/json"


def tokens(users: list[Any]) -> list[str]:
    """A personal access token of every scope for each traveller, made through the service as
    the settings page makes them (earlier runs' bench tokens are revoked first)."""
    from trainy.accounts.models import AccessToken, Scope
    from trainy.accounts.services import token_create

    AccessToken.objects.filter(user__in=users, name="bench").delete()
    return [
        token_create(user=user, name="bench", scopes=list(Scope.values)).secret for user in users
    ]


def make_history(users: list[Any], plans: list[list[Segment]]) -> None:
    """Each traveller's journeys so far, checked in through the service as the page does (none
    overlaps another of the same traveller, nor the check-ins the benchmark posts later)."""
    from checkins.services.checkins import checkin_from_trip

    for user, plan in zip(users, plans, strict=True):
        for n, segment in enumerate(plan):
            checkin_from_trip(
                user=user, feed=MTA, trip_id=segment.trip_id, service_date=segment.day,
                origin_seq=segment.origin_seq, destination_seq=segment.destination_seq,
                purpose=("private", "business", "commute")[n % 3],
            )  # fmt: skip


def settle() -> None:
    """VACUUM (ANALYZE) the tables the history filled, as autovacuum would have long before
    on a server in use: the timed reads see the statistics and visibility map of a live
    database, not those of the moment thousands of rows arrived (not timed)."""
    from django.db import connection

    from checkins.models import CheckIn

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {CheckIn._meta.db_table}")


def paced(calls: list[Call], think: float, rng: random.Random) -> list[Call]:
    """The same calls, each after a pause uniform between half and one and a half ``think``:
    an app that reads what it got before it asks again."""
    return [
        Call(call.method, call.path, call.body, call.headers, rng.uniform(0.5, 1.5) * think)
        for call in calls
    ]


def departure_calls(
    pairs: list[tuple[str, datetime]], headers: dict[str, str], api: bool
) -> list[Call]:
    calls = []
    for stop_id, moment in pairs:
        at = quote(moment.strftime("%Y-%m-%dT%H:%M"))
        stop = quote(stop_id, safe="")
        if api:
            path = f"/api/v1/stations/{MTA}/{stop}/departures/?at={at}"
        else:
            path = f"/stations/{MTA}/{stop}/departures/?at={at}"
        calls.append(Call("GET", path, headers=headers))
    return calls


# What a client asks of "my journeys": the first page mostly, a year, a purpose, a mode.
JOURNEY_QUERIES = [
    {},
    {},
    {"period": "this-year"},
    {"purpose": "business"},
    {"mode": "subway"},
    {"period": "custom", "start": "2026-01-01", "end": "2026-12-31"},
]


def journeys_calls(count: int, headers: dict[str, str], api: bool, n: int) -> list[Call]:
    base = "/api/v1/journeys/" if api else "/journeys/"
    calls = []
    for k in range(count):
        query = JOURNEY_QUERIES[(n + k) % len(JOURNEY_QUERIES)]
        path = base + (f"?{urlencode(query, doseq=True)}" if query else "")
        calls.append(Call("GET", path, headers=headers))
    return calls


def api_checkin_body(segment: Segment, n: int) -> bytes:
    return json.dumps(
        {
            "feed": MTA,
            "trip_id": segment.trip_id,
            "service_date": segment.day.isoformat(),
            "origin_seq": segment.origin_seq,
            "destination_seq": segment.destination_seq,
            "visibility": ("public", "followers", "private")[n % 3],
            "purpose": ("private", "business", "commute")[n % 3],
            "message": f"Benchmark journey {n}",
        }
    ).encode()


def is_created(status: int, location: str) -> bool:
    return status == 201 and "/api/v1/journeys/" in location


def ok(status: int, _location: str) -> bool:
    return status == 200


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_database_argument(parser, "Trainy's benchmark database (created and migrated if missing)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=1200, help="timed GETs per load")
    parser.add_argument("--checkins", type=int, default=30, help="timed POSTs per traveller")
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls per client first")
    parser.add_argument("--think", type=float, default=0.5,
                        help="mean seconds between a client's calls (paced loads)")  # fmt: skip
    parser.add_argument("--checkin-think", type=float, default=1.0,
                        help="mean seconds a traveller takes before a check-in")  # fmt: skip
    parser.add_argument("--history", type=int, default=200, help="journeys per traveller")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--time-limit", type=float, default=120, help="seconds per timed load")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--reads-only", action="store_true",
                        help="the paced API reads only (to compare server shapes)")  # fmt: skip
    args = parser.parse_args(argv)

    if not FEEDS[MTA].exists():
        raise SystemExit(f"the staged feed is missing: {FEEDS[MTA]}")
    broker = harness_url("CELERY_BROKER_URL")
    harness_url("REDIS_URL")
    harness_url("MONGO_URL")
    os.environ["CELERY_BROKER_URL"] = bench_broker_url(broker)
    os.environ["MONGO_DB"] = BENCH_NAME
    # The benchmark measures the operations, not the rate limiter: limits far above its load.
    for limit in ("TRAINY_API_RATE_TOKEN", "TRAINY_API_RATE_USER"):
        os.environ[limit] = str(10**6)
    prepare_django(args.database_url)
    say(f"Machine: {os.cpu_count()} cores; database {args.database_url}; broker vhost "
        f"{urlsplit(os.environ['CELERY_BROKER_URL']).path.lstrip('/')}")  # fmt: skip
    version_id, zone = active_mta()
    users = travellers(args.clients)
    forget_earlier_runs()
    rng = random.Random(args.seed)  # noqa: S311 (reproducible samples, not secrets)
    each = -(-args.requests // args.clients)
    posts = args.checkins + 1
    segments = trip_segments(version_id, zone, (args.history + posts) * args.clients * 6 // 5, rng)
    plans = share_out(segments, [args.history + posts] * args.clients)
    say(f"== History: {args.history} journeys per traveller through checkin_from_trip "
        "(not timed)")  # fmt: skip
    make_history(users, [plan[: args.history] for plan in plans])
    settle()
    say(f"  purged {purge_queues()} queued tasks")
    secrets = tokens(users)
    sessions = [signed_in_cookie(user) for user in users]
    pairs = board_pairs(args.clients * (each + args.warmup), rng, None)
    log = LOG_DIR / "trainy-bench-api-gunicorn.log"
    say(
        f"== {args.clients} clients at once; gunicorn gthread, {args.workers} workers x "
        f"{args.threads} threads; paced: a call every {args.think:g} s on average per client"
    )
    say(f"  machine: {machine_note()}")
    loads: dict[str, Load] = {}
    with gunicorn(args.workers, args.threads, log) as port:
        warm = args.warmup
        share = [pairs[k * (each + warm) : (k + 1) * (each + warm)] for k in range(args.clients)]
        bearers = [{"Authorization": f"Bearer {secret}", "Accept": JSON} for secret in secrets]
        cookies = [{"Cookie": f"sessionid={session}"} for session in sessions]

        def load(name: str, plans: list[list[Call]], check: Any = ok) -> None:
            loads[name] = run_load(port, plans, warm, check, args.time_limit)
            describe(name, loads[name])

        load("GET /healthz, paced (ceiling)",
             [paced([Call("GET", "/healthz")] * (each + warm), args.think, rng)
              for _ in range(args.clients)])  # fmt: skip
        # Distinct (station, minute) pairs for every call: no board is served twice.
        load("GET departures API, paced",
             [paced(departure_calls(mine, headers, True), args.think, rng)
              for mine, headers in zip(share, bearers, strict=True)])  # fmt: skip
        load("GET my journeys API, paced",
             [paced(journeys_calls(each + warm, headers, True, n), args.think, rng)
              for n, headers in enumerate(bearers)])  # fmt: skip
        if args.reads_only:
            return
        load("GET departures page, paced",
             [paced(departure_calls(mine, headers, False), args.think, rng)
              for mine, headers in zip(share, cookies, strict=True)])  # fmt: skip
        load("GET my journeys page, paced",
             [paced(journeys_calls(each + warm, headers, False, n), args.think, rng)
              for n, headers in enumerate(cookies)])  # fmt: skip
        load("GET departures API, back to back",
             [departure_calls(list(reversed(mine)), headers, True)
              for mine, headers in zip(share, bearers, strict=True)])  # fmt: skip
        load("GET my journeys API, back to back",
             [journeys_calls(each + warm, headers, True, n + 1)
              for n, headers in enumerate(bearers)])  # fmt: skip
        # Check-ins: the form's POST against the API's, travellers pausing before each.
        fresh = [plan[args.history :] for plan in plans]
        half = posts // 2
        form_tokens = [
            csrf_token(port, session, trip_path(plan[0]))
            for session, plan in zip(sessions, fresh, strict=True)
        ]
        api_posts = [
            paced([Call("POST", "/api/v1/checkins/", api_checkin_body(segment, n),
                        {**headers, "Content-Type": JSON})
                   for n, segment in enumerate(plan[:half])], args.checkin_think, rng)
            for plan, headers in zip(fresh, bearers, strict=True)
        ]  # fmt: skip
        form_posts = [
            paced([checkin_call(segment, n, session, token)
                   for n, segment in enumerate(plan[half:])], args.checkin_think, rng)
            for plan, session, token in zip(fresh, sessions, form_tokens, strict=True)
        ]  # fmt: skip
        load("POST check-in API, paced", api_posts, is_created)
        load("POST check-in form, paced", form_posts, is_checked_in)
    say(f"  purged {purge_queues()} queued tasks; machine afterwards: {machine_note()}")
    say(f"  gunicorn log {log}")
    say()

    def row(name: str, reference: str, target: float | None) -> tuple[str, ...]:
        figures = loads[name]
        p95 = percentile(figures.times, 0.95) if figures.times else float("inf")
        met = verdict(p95 < target and not figures.failures) if target else "–"
        goal = f"p95 < {target * 1000:.0f} ms" if target else "–"
        return (name, spread(figures.times) + f" ({figures.failures} failed)",
                f"{figures.rate:.0f} req/s", reference, goal, met)  # fmt: skip

    def times(name: str) -> str:
        return spread(loads[name].times)

    healthz = times("GET /healthz, paced (ceiling)")
    rows = [
        row("GET departures API, paced", "page " + times("GET departures page, paced"),
            TARGETS["get"]),
        row("GET my journeys API, paced", "page " + times("GET my journeys page, paced"),
            TARGETS["get"]),
        row("POST check-in API, paced", "form " + times("POST check-in form, paced"),
            TARGETS["post"]),
        row("GET departures API, back to back", f"/healthz paced {healthz}", None),
        row("GET my journeys API, back to back", "–", None),
    ]  # fmt: skip
    header = ("measure", "Trainy p50/p95/p99", "rate", "reference", "target", "met")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, tuple("-" * width for width in widths), *rows]:
        say("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)))


if __name__ == "__main__":
    main()
