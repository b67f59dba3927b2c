"""Check-in benchmark: the check-in POST under 20 concurrent travellers, and journey enrichment
per worker process, on the MTA subway feed (with shapes). Prints figures; not a test.

Run with the services up, as root (the broker gets a vhost of its own, made with rabbitmqctl):

    eval "$(scripts/services env)"
    .venv/bin/python bench/checkin.py                   # both parts, ~15 min
    .venv/bin/python bench/checkin.py --skip-enrich     # the check-in POST only
    .venv/bin/python bench/checkin.py --skip-post       # enrichment only

Trainy runs against its own database (default postgres://trainy:trainy@127.0.0.1:5432/
trainy_bench, created and migrated here; the MTA feed is imported if it is not active there),
a MongoDB database of its own (trainy_bench) and a RabbitMQ vhost of its own (trainy_bench), so
that a test run's worker never takes the benchmark's tasks, nor its purge the benchmark's queue,
and the benchmark's purge never empties the tests' queues. Its travellers are the users
bench-traveller-NN; their journeys from earlier runs are deleted at the start.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import logging
import os
import pstats
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pymongo
from processes import stop, wait_until_listening
from timetable import (
    FEEDS,
    MTA,
    ROOT,
    SERVICES_DIR,
    add_database_argument,
    free_port,
    percentile,
    prepare_django,
    say,
    spread,
    trainy_import,
    verdict,
)

BENCH_NAME = "trainy_bench"  # the broker vhost and the MongoDB database of the benchmark
TRAVELLER = "bench-traveller-{:02d}"
ENRICHMENT_QUEUE = "enrichment"
HOST = "127.0.0.1"
LOG_DIR = Path(os.environ.get("TMPDIR", "/tmp"))  # noqa: S108 (logs of the processes started)

TRIP_PATH = "/trips/{feed}/{trip_id}/{day}/?from={stop_id}"
DETAIL_PATH = re.compile(r"^/journeys/(\d+)/$")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

TARGETS = {"post": "p95 < 50 ms", "enrich": "≥ 100 journeys/s"}


def harness_url(name: str) -> str:
    url = os.environ.get(name)
    if not url:
        raise SystemExit(f'{name} is not set: run `eval "$(scripts/services env)"` first')
    return url


# --- A broker vhost of the benchmark's own ---------------------------------------------------


def rabbitmqctl(*args: str, amqp_port: int) -> subprocess.CompletedProcess[str]:
    """rabbitmqctl against the harness's broker node, in the environment scripts/services uses
    for it (the node name, cookie and Erlang ports must match)."""
    state = SERVICES_DIR / "rabbitmq"
    node = "rabbit@localhost" if amqp_port == 5672 else f"rabbit-{amqp_port}@localhost"
    loopback = "-kernel inet_dist_use_interface {127,0,0,1}"
    environment = [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/var/lib/rabbitmq",
        "LANG=C.UTF-8",
        "LC_ALL=C.UTF-8",
        f"RABBITMQ_NODENAME={node}",
        f"RABBITMQ_NODE_IP_ADDRESS={HOST}",
        f"RABBITMQ_NODE_PORT={amqp_port}",
        f"RABBITMQ_DIST_PORT={amqp_port + 20000}",
        f"ERL_EPMD_ADDRESS={HOST}",
        "ERL_EPMD_PORT=4369",
        f"RABBITMQ_CTL_ERL_ARGS={loopback}",
        f"RABBITMQ_CONF_ENV_FILE={state}/rabbitmq-env.conf",
        f"RABBITMQ_CONFIG_FILE={state}/rabbitmq.conf",
        f"RABBITMQ_ADVANCED_CONFIG_FILE={state}/advanced.config",
        f"RABBITMQ_ENABLED_PLUGINS_FILE={state}/enabled_plugins",
        f"RABBITMQ_MNESIA_BASE={state}/mnesia",
        f"RABBITMQ_LOG_BASE={state}/log",
    ]
    command = ["runuser", "-u", "rabbitmq", "--", "env", "-i", *environment, "timeout", "60",
               "/usr/lib/rabbitmq/bin/rabbitmqctl", "-n", node, *args]  # fmt: skip
    return subprocess.run(
        command, cwd=state, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )


def broker_opens(url: str) -> bool:
    from amqp.exceptions import AMQPError
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.connect()
    except AMQPError:
        return False
    return True


def bench_broker_url(base: str) -> str:
    """The harness's broker URL with the benchmark's vhost, which is created if missing."""
    parts = urlsplit(base)
    url = parts._replace(path=f"/{BENCH_NAME}").geturl()
    if broker_opens(url):
        return url
    if os.geteuid() != 0:
        raise SystemExit(
            f"the broker has no vhost {BENCH_NAME} and only root can add it (rabbitmqctl): "
            "run once as root, or pass --shared-vhost to use the harness's vhost (a test run "
            "at the same time would then take the benchmark's tasks)"
        )
    say(f"creating RabbitMQ vhost {BENCH_NAME}")
    port = parts.port or 5672
    for args in (
        ("add_vhost", BENCH_NAME),
        ("set_permissions", "-p", BENCH_NAME, parts.username or "trainy", ".*", ".*", ".*"),
    ):
        result = rabbitmqctl(*args, amqp_port=port)
        if result.returncode != 0 and "already exists" not in result.stderr:
            raise SystemExit(f"rabbitmqctl {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    if not broker_opens(url):
        raise SystemExit(f"the broker still refuses vhost {BENCH_NAME}")
    return url


def wait_for_broker(connection: Any) -> None:
    """Connect, waiting up to about two minutes: another session's outage tests stop and start
    the shared broker now and then."""
    connection.ensure_connection(max_retries=60, interval_start=1, interval_step=1, interval_max=2)


def queue_depth(name: str) -> int:
    from trainy.celery import app

    with app.connection_for_write() as connection:
        wait_for_broker(connection)
        queue = app.amqp.queues[name](connection.default_channel)
        queue.declare()
        declared: Any = queue.queue_declare(passive=True)  # (name, messages, consumers)
        return int(declared.message_count)


def purge_queues() -> int:
    """Empty every queue of the benchmark's vhost (declared as the worker declares them)."""
    from trainy.celery import app

    purged = 0
    with app.connection_for_write() as connection:
        wait_for_broker(connection)
        for queue in app.amqp.queues.values():
            bound = queue(connection.default_channel)
            bound.declare()
            purged += bound.purge() or 0
    return purged


# --- Travellers, their sessions and their journeys -------------------------------------------


def travellers(count: int) -> list[Any]:
    from trainy.accounts.models import User

    users = []
    for n in range(1, count + 1):
        user, created = User.objects.get_or_create(
            username=TRAVELLER.format(n),
            defaults={"display_name": f"Bench traveller {n}", "email": f"bench{n}@example.org"},
        )
        if created:
            user.set_unusable_password()
            user.save()
        users.append(user)
    return users


def forget_earlier_runs() -> None:
    """Delete the bench travellers' journeys and sessions, the benchmark's journey documents
    and whatever is left in the benchmark's queues."""
    from django.contrib.sessions.models import Session

    from checkins.models import CheckIn
    from trainy.accounts.models import User
    from trainy.documents import journey_store

    ids = {
        str(pk)
        for pk in User.objects.filter(username__startswith="bench-traveller-").values_list(
            "pk", flat=True
        )
    }
    # Sessions that other benchmarks signed with their own SECRET_KEY do not decode here; Django
    # logs a warning for each one it cannot read, thousands of lines that say nothing.
    quiet = logging.getLogger("django.security.SuspiciousSession")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        stale = [s.pk for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") in ids]
    finally:
        quiet.setLevel(level)
    Session.objects.filter(pk__in=stale).delete()
    deleted, _ = CheckIn.objects.filter(user__username__startswith="bench-traveller-").delete()
    # The benchmark's document database dropped whole: deleting the documents of a long run
    # one by one takes the SQLite-backed FerretDB longer than a client waits for an answer.
    Interruptions.retrying(
        lambda: pymongo.MongoClient(os.environ["MONGO_URL"]).drop_database(os.environ["MONGO_DB"])
    )
    journey_store().ensure_indexes()
    purged = purge_queues()
    say(f"  earlier runs: {deleted} journeys, {len(stale)} sessions, {purged} queued tasks removed")


def signed_in_cookie(user: Any) -> str:
    """A session of ``user``, as django.contrib.auth.login would store it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return str(store.session_key)


@dataclass(frozen=True)
class Segment:
    """Part of a timetable trip on one service day: what a traveller checks in to."""

    trip_id: str
    day: date
    origin_seq: int
    destination_seq: int
    origin_stop_id: str
    departure: datetime
    arrival: datetime
    stops: int  # stops travelled


def _fetch(statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def trip_segments(version_id: int, zone: ZoneInfo, count: int, rng: random.Random) -> list[Segment]:
    """``count`` segments (or a few fewer) of distinct random trips that have a shape, each on a
    random day the trip runs, from a random stop to a random later one (mixed lengths)."""
    trips = _fetch(
        "SELECT trip_pk, trip_id, service_pk FROM tt_trip"
        " WHERE version_id = %s AND shape_pk IS NOT NULL ORDER BY trip_pk",
        [version_id],
    )
    sample = rng.sample(trips, min(len(trips), count + count // 5 + 10))
    stops: dict[int, list[tuple[int, str, int | None, int | None]]] = {}
    for trip_pk, seq, stop_id, arrival_s, departure_s in _fetch(
        """
        SELECT st.trip_pk, st.seq, s.stop_id, st.arrival_s, st.departure_s
        FROM tt_stop_time st
        JOIN tt_stop s ON s.version_id = st.version_id AND s.stop_pk = st.stop_pk
        WHERE st.version_id = %s AND st.trip_pk = ANY(%s)
        ORDER BY st.trip_pk, st.seq
        """,
        [version_id, [trip[0] for trip in sample]],
    ):
        stops.setdefault(trip_pk, []).append((seq, stop_id, arrival_s, departure_s))
    days = dict(
        _fetch(
            "SELECT service_pk, array_agg(date ORDER BY date) FROM tt_service_date"
            " WHERE version_id = %s AND service_pk = ANY(%s) GROUP BY service_pk",
            [version_id, sorted({trip[2] for trip in sample})],
        )
    )
    segments = []
    for trip_pk, trip_id, service_pk in sample:
        calls = stops.get(trip_pk, [])
        if len(calls) < 2 or not days.get(service_pk):
            continue
        length = rng.randint(1, len(calls) - 1)
        first = rng.randint(0, len(calls) - 1 - length)
        entry, exit_ = calls[first], calls[first + length]
        departure_s = entry[3] if entry[3] is not None else entry[2]
        arrival_s = exit_[2] if exit_[2] is not None else exit_[3]
        if departure_s is None or arrival_s is None or arrival_s <= departure_s:
            continue
        day = rng.choice(days[service_pk])
        # GTFS's zero of a service day: noon minus 12 h, as checkins.timetable reads it.
        zero = datetime(day.year, day.month, day.day, 12, tzinfo=zone).astimezone(UTC)
        zero -= timedelta(hours=12)
        segments.append(
            Segment(trip_id, day, entry[0], exit_[0], entry[1],
                    zero + timedelta(seconds=departure_s), zero + timedelta(seconds=arrival_s),
                    length)
        )  # fmt: skip
        if len(segments) == count:
            break
    return segments


def share_out(segments: list[Segment], sizes: list[int]) -> list[list[Segment]]:
    """``sizes[k]`` segments for traveller k, none overlapping another of the same traveller (a
    minute apart at least), so no check-in is answered with the overlap confirmation."""
    gap = timedelta(minutes=1)
    plans: list[list[Segment]] = [[] for _ in sizes]
    for n, segment in enumerate(segments):
        for k in range(len(sizes)):
            person = (n + k) % len(sizes)
            plan = plans[person]
            if len(plan) < sizes[person] and all(
                segment.departure >= other.arrival + gap or segment.arrival + gap <= other.departure
                for other in plan
            ):
                plan.append(segment)
                break
    if any(len(plan) < size for plan, size in zip(plans, sizes, strict=True)):
        raise SystemExit("too few non-overlapping trips for the travellers: lower --requests")
    return plans


def active_mta() -> tuple[int, ZoneInfo]:
    from checkins.timetable.selectors import active_versions

    versions = active_versions(MTA)
    if not versions:
        say(f"importing {MTA} into the benchmark database (not timed)")
        trainy_import(MTA, FEEDS[MTA])
        versions = active_versions(MTA)
    return versions[0].id, versions[0].timezone


# --- Noise on the machine -------------------------------------------------------------------


def neighbours() -> list[str]:
    """Other test runs, servers and workers on the machine (they share its 2 cores and may stop
    and start the services): their presence makes the figures noisy."""
    mine = {os.getpid()}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        line = " ".join(word.decode(errors="replace") for word in words if word)
        ours = f"bench-enrich-{os.getpid()}" in line or "trainy-bench" in line
        if not ours and re.search(r"pytest|celery .*worker|gunicorn|runserver|import_gtfs", line):
            found.append(line[:90])
    return found


def machine_note() -> str:
    one, five, _ = os.getloadavg()
    others = neighbours()
    note = f"load average {one:.2f} (1 min), {five:.2f} (5 min)"
    if others:
        note += f"; {len(others)} other Trainy processes running (e.g. {others[0]!r})"
    return note


# --- Profiles --------------------------------------------------------------------------------


def trainy_code(filename: str) -> bool:
    return (
        filename.startswith(str(ROOT)) and "/.venv/" not in filename and "/bench/" not in filename
    )


def short(filename: str) -> str:
    return re.sub(r".*/site-packages/", "", filename.replace(str(ROOT) + "/", ""))


def show_profile(
    profiler: cProfile.Profile,
    count: int,
    what: str,
    *,
    own_code: bool = False,
    trainy_too: bool = False,
    lookups: Sequence[tuple[str, str]] = (),
) -> None:
    """The top 10 functions by cumulative time (only Trainy's own with ``own_code``) and by own
    time, and the library calls named in ``lookups`` (file suffix, function)."""
    stats = pstats.Stats(profiler)
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]
    entries = list(stats.stats.items())  # type: ignore[attr-defined]
    say(f"  profile of {count} {what} (cProfile: {total:.2f} s, {total / count * 1000:.1f} ms "
        f"each under the profiler):")  # fmt: skip

    def show(title: str, chosen: list[Any], column: int) -> None:
        say(f"    {title}:")
        say(f"      {'cumulative':>10} {'own':>8} {'calls':>8}  per call  function")
        for (filename, line, function), figures in sorted(
            chosen, key=lambda item: item[1][column], reverse=True
        )[:10]:
            _, calls, own, cumulative, _ = figures
            each = cumulative / calls * 1000 if calls else 0.0
            say(f"      {cumulative:>9.3f}s {own:>7.3f}s {calls:>8} {each:>7.2f}ms  "
                f"{short(filename)}:{line}({function})")  # fmt: skip

    if own_code:
        chosen = [item for item in entries if trainy_code(item[0][0])]
    else:  # not the benchmark's own wrappers, nor the profiler's
        chosen = [item for item in entries if "/bench/" not in item[0][0] and item[0][0] != "~"]
    show("top 10 by cumulative time" + (" (Trainy's code)" if own_code else ""), chosen, 3)
    if trainy_too:
        trainy = [item for item in entries if trainy_code(item[0][0])]
        show("top 10 by cumulative time among Trainy's own functions", trainy, 3)
    if lookups:
        show(
            "library calls of note",
            [item for item in entries
             if any(item[0][0].endswith(suffix) and item[0][2] == function
                    for suffix, function in lookups)],
            3,
        )  # fmt: skip
    show("top 10 by own time", entries, 2)


# --- Serving and loading ---------------------------------------------------------------------


@contextmanager
def gunicorn(workers: int, threads: int, log: Path) -> Iterator[int]:
    """Trainy under gunicorn (gthread) on a free loopback port, with this process's settings."""
    port = free_port()
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "trainy.wsgi", "--bind",
             f"{HOST}:{port}", "--workers", str(workers), "--worker-class", "gthread",
             "--threads", str(threads), "--log-level", "warning", "--name", "trainy-bench"],
            cwd=ROOT, env=os.environ.copy(), stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_listening(server, HOST, port, timeout=60, log=log)
        yield port
    finally:
        stop(server, timeout=30)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    think: float = 0.0  # seconds the traveller waits before sending it (reading, filling in)
    timed: bool = True  # False: a page view between the timed calls; it must answer 200


@dataclass
class Load:
    times: list[float]
    seconds: float
    failures: int
    reconnects: int
    unfinished: int
    statuses: Counter[str]
    samples: list[str]

    @property
    def rate(self) -> float:
        return len(self.times) / self.seconds if self.seconds else 0.0


def run_load(
    port: int,
    plans: list[list[Call]],
    warmup: int,
    ok: Callable[[int, str], bool],
    time_limit: float,
) -> Load:
    """One thread per plan, each on its own keep-alive connection, one call after another
    (a closed loop; back to back unless the calls have think time): first ``warmup`` untimed
    calls each, then, all starting together, the rest, the ``timed`` ones timed. A thread
    stops early once ``time_limit`` seconds of the timed part have passed."""
    barrier = threading.Barrier(len(plans))
    lock = threading.Lock()
    load = Load([], 0.0, 0, 0, 0, Counter(), [])
    spans: list[tuple[float, float]] = []

    def traveller(plan: list[Call]) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        times: list[float] = []
        failures = reconnects = 0
        statuses: Counter[str] = Counter()
        samples: list[str] = []
        started = ended = 0.0
        for n, call in enumerate(plan):
            if n == warmup:
                barrier.wait(timeout=300)
                started = time.perf_counter()
            if n >= warmup and time.perf_counter() - started > time_limit:
                with lock:
                    load.unfinished += len(plan) - n
                break
            headers = {"Host": HOST, **call.headers}
            if call.think:
                time.sleep(call.think)
            for attempt in range(2):
                began = time.perf_counter()
                try:
                    connection.request(call.method, call.path, body=call.body, headers=headers)
                    response = connection.getresponse()
                    body = response.read()
                    break
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    # The server closed an idle keep-alive connection: open a new one, once.
                    connection.close()
                    reconnects += 1
                    if attempt:
                        raise
            elapsed = time.perf_counter() - began
            ended = time.perf_counter()
            location = response.getheader("Location") or ""
            good = ok(response.status, location) if call.timed else response.status == 200
            statuses[f"{response.status}" + ("" if good else " (unexpected)")] += 1
            if n >= warmup:
                if call.timed:
                    times.append(elapsed)
                failures += not good
            if not good and len(samples) < 3:
                text = re.sub(r"\s+", " ", body.decode(errors="replace"))
                errors = re.findall(r'<ul class="errors?[^"]*">(.*?)</ul>', text)
                samples.append(f"{call.method} {call.path} -> {response.status} {location} "
                               f"{errors[:1] or text[:300]}")  # fmt: skip
        connection.close()
        with lock:
            load.times.extend(times)
            load.failures += failures
            load.reconnects += reconnects
            load.statuses.update(statuses)
            load.samples.extend(samples)
            if times:
                spans.append((started, ended))

    threads = [threading.Thread(target=traveller, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if spans:
        load.seconds = max(end for _, end in spans) - min(start for start, _ in spans)
    return load


def describe(name: str, load: Load) -> None:
    note = f", {load.failures} failed"
    if load.reconnects:
        note += f", {load.reconnects} reconnects"
    if load.unfinished:
        note += f", {load.unfinished} not sent (time limit)"
    say(f"  {name}: {spread(load.times)}, {load.rate:.0f} req/s "
        f"({len(load.times)} timed requests in {load.seconds:.1f} s{note})")  # fmt: skip
    say(f"    responses, warm-up included: {dict(load.statuses)}")
    for sample in load.samples:
        say(f"    e.g. {sample[:400]}")


def csrf_token(port: int, session: str, path: str) -> str:
    """The CSRF cookie a GET of the trip page sets (the form's own token works with it)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request("GET", path, headers={"Host": HOST, "Cookie": f"sessionid={session}"})
    response = connection.getresponse()
    body = response.read().decode()
    cookies: SimpleCookie = SimpleCookie()
    for header in response.msg.get_all("Set-Cookie") or []:
        cookies.load(header)
    connection.close()
    if response.status != 200 or "csrftoken" not in cookies or not CSRF_FIELD.search(body):
        raise SystemExit(f"GET {path} gave {response.status} without a CSRF token")
    return cookies["csrftoken"].value


# --- Part 1: the check-in POST ----------------------------------------------------------------


def trip_path(segment: Segment) -> str:
    return TRIP_PATH.format(
        feed=MTA,
        trip_id=quote(segment.trip_id, safe=""),
        day=segment.day.isoformat(),
        stop_id=quote(segment.origin_stop_id),
    )


def checkin_form(segment: Segment, n: int) -> dict[str, str]:
    """What the trip page's form posts (mixed visibilities and purposes, a fresh form each)."""
    return {
        "origin_seq": str(segment.origin_seq),
        "destination_seq": str(segment.destination_seq),
        "visibility": ("public", "followers", "private")[n % 3],
        "purpose": ("private", "business", "commute")[n % 3],
        "message": f"Benchmark journey {n}",
        "idempotency_key": str(uuid.uuid4()),
    }


def checkin_call(segment: Segment, n: int, session: str, token: str, think: float = 0.0) -> Call:
    form = {"csrfmiddlewaretoken": token, **checkin_form(segment, n)}
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Cookie": f"sessionid={session}; csrftoken={token}"}  # fmt: skip
    return Call("POST", trip_path(segment), urlencode(form).encode(), headers, think)


def traveller_calls(
    plan: list[Segment], session: str, token: str, think: float, rng: random.Random
) -> list[Call]:
    """A traveller checking in again and again: the trip page, a pause to pick the exit stop
    and fill in the form (uniform between half and one and a half times ``think``), the POST."""
    calls = []
    for n, segment in enumerate(plan):
        page_headers = {"Cookie": f"sessionid={session}; csrftoken={token}"}
        calls.append(Call("GET", trip_path(segment), headers=page_headers, timed=False))
        pause = rng.uniform(0.5, 1.5) * think
        calls.append(checkin_call(segment, n, session, token, think=pause))
    return calls


def is_checked_in(status: int, location: str) -> bool:
    return status == 302 and bool(DETAIL_PATH.match(location))


@dataclass
class PostFigures:
    travellers: Load
    checkin: Load
    healthz: Load
    created: int
    queued: int
    sequential: list[float] = field(default_factory=list)


def bench_post(
    args: argparse.Namespace,
    users: list[Any],
    plans: list[list[Segment]],
    pacing: list[list[Segment]],
    rng: random.Random,
) -> PostFigures:
    from checkins.models import CheckIn

    warmup = args.warmup // len(users)
    log = LOG_DIR / "trainy-bench-checkin-gunicorn.log"
    sessions = [signed_in_cookie(user) for user in users]
    say(f"== Check-in POST, {len(users)} travellers at once; gunicorn gthread, {args.workers} "
        f"workers x {args.threads} threads")  # fmt: skip
    say(f"  machine: {machine_note()}")
    with gunicorn(args.workers, args.threads, log) as port:
        tokens = [
            csrf_token(port, session, trip_path(plan[0]))
            for session, plan in zip(sessions, plans, strict=True)
        ]
        before = CheckIn.objects.filter(user__in=users).count()
        say(f"  (a) as travellers use it: each opens a trip page, takes {args.think:g} s on "
            f"average to fill in the form, posts it, and again; {len(pacing[0]) - 1} timed "
            "check-ins each after 1 warm-up one")  # fmt: skip
        paced = [
            traveller_calls(plan, session, token, args.think, rng)
            for plan, session, token in zip(pacing, sessions, tokens, strict=True)
        ]
        travelling = run_load(port, paced, 2, is_checked_in, args.time_limit)
        describe("POST check-in (page views between them not timed)", travelling)
        say(f"  (b) saturation: back to back, no think time, {len(plans[0]) - warmup} timed "
            f"check-ins each after {warmup} warm-up ones")  # fmt: skip
        healthz = [[Call("GET", "/healthz")] * len(plan) for plan in plans]
        health = run_load(port, healthz, warmup, lambda status, _: status == 200, args.time_limit)
        describe("GET /healthz (reference)", health)
        calls = [
            [checkin_call(segment, n, session, token) for n, segment in enumerate(plan)]
            for plan, session, token in zip(plans, sessions, tokens, strict=True)
        ]
        checkin = run_load(port, calls, warmup, is_checked_in, args.time_limit)
        describe("POST check-in", checkin)
        if checkin.rate:
            # Little's law: in a closed loop the mean latency is the clients over the rate.
            say(f"    {len(users)} clients / {checkin.rate:.0f} req/s = "
                f"{len(users) / checkin.rate * 1000:.0f} ms mean latency at this throughput "
                "(the machine's ceiling for check-ins, shared with PostgreSQL, RabbitMQ and "
                "this load generator)")  # fmt: skip
    created = CheckIn.objects.filter(user__in=users).count() - before
    queued = queue_depth(ENRICHMENT_QUEUE)
    vhost = urlsplit(os.environ["CELERY_BROKER_URL"]).path.lstrip("/")
    say(f"  {created} journeys created; {queued} enrichment tasks waiting in RabbitMQ "
        f"(vhost {vhost}, no worker consuming)")  # fmt: skip
    if queued != created:
        say(f"  {created - queued} check-ins were not queued (the broker went away mid-run?): "
            "figures disturbed")  # fmt: skip
    say(f"  machine afterwards: {machine_note()}; gunicorn log {log}")
    return PostFigures(travelling, checkin, health, created, queued)


def bench_post_in_process(user: Any, plan: list[Segment], count: int) -> list[float]:
    """Where one POST's time goes without concurrency: the same POST through Django's test
    client in this process (middleware, view, service, commit, publish; no HTTP server), timed
    one after another, its SQL listed, and profiled."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST=HOST)
    client.force_login(user)

    def post(segment: Segment, n: int) -> None:
        response = client.post(trip_path(segment), checkin_form(segment, n))
        if not is_checked_in(response.status_code, response.get("Location", "")):
            raise SystemExit(f"in-process POST answered {response.status_code}")

    say(f"  the same POST in-process (Django test client, one after another, {count} timed):")
    warm, timed, profiled, last = plan[:10], plan[10 : 10 + count], plan[10 + count : -1], plan[-1]
    for n, segment in enumerate(warm):
        post(segment, n)
    times = []
    for n, segment in enumerate(timed):
        began = time.perf_counter()
        post(segment, n)
        times.append(time.perf_counter() - began)
    say(f"    {spread(times)} each (the server's own cost of a check-in, no queueing)")
    statements: list[tuple[str, float]] = []

    def timed_sql(execute: Callable[..., Any], sql: str, *rest: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, *rest)
        finally:
            statements.append((sql, time.perf_counter() - began))

    with connection.execute_wrapper(timed_sql):
        post(last, 0)
    groups: Counter[str] = Counter()
    for sql, _ in statements:
        groups[re.sub(r"\s+", " ", sql).strip()[:100]] += 1
    total = sum(seconds for _, seconds in statements) * 1000
    say(f"    SQL of one check-in: {len(statements)} statements (transaction control not counted), "
        f"{total:.1f} ms waiting for PostgreSQL:")  # fmt: skip
    for text, times_seen in groups.most_common():
        say(f"      {times_seen:>2} x {re.sub(r'_x[0-9]+', '_x…', text)}")
    profiler = cProfile.Profile()
    profiler.enable()
    for n, segment in enumerate(profiled):
        post(segment, n)
    profiler.disable()
    show_profile(
        profiler,
        len(profiled),
        "in-process check-in POSTs",
        own_code=True,
        lookups=[
            ("django/db/models/base.py", "full_clean"),
            ("django/db/models/base.py", "validate_constraints"),
            ("django/db/models/base.py", "save"),
            ("celery/app/task.py", "delay"),
            ("django/contrib/sessions/backends/cached_db.py", "load"),
            ("django/contrib/auth/__init__.py", "get_user"),
            ("kombu/messaging.py", "publish"),
            ("django/db/transaction.py", "__exit__"),
        ],
    )
    return times


# --- Part 2: enrichment ----------------------------------------------------------------------


def enrichment_journeys(
    count: int, users: list[Any], version_id: int, zone: ZoneInfo, rng: random.Random
) -> list[int]:
    """``count`` trip journeys of the bench travellers: those the POST part made, topped up
    through checkin_from_trip (their queued tasks are purged before they would matter)."""
    from checkins.models import CheckIn
    from checkins.services.checkins import checkin_from_trip

    ids = list(
        CheckIn.objects.filter(user__in=users).exclude(trip_id="").order_by("id")
        .values_list("id", flat=True)[:count]
    )  # fmt: skip
    missing = count - len(ids)
    if missing > 0:
        say(f"  creating {missing} more trip journeys through checkin_from_trip (not timed)")
    while len(ids) < count:
        for n, segment in enumerate(trip_segments(version_id, zone, count - len(ids), rng)):
            checkin = checkin_from_trip(
                user=users[n % len(users)], feed=MTA, trip_id=segment.trip_id,
                service_date=segment.day, origin_seq=segment.origin_seq,
                destination_seq=segment.destination_seq, allow_overlap=True,
            )  # fmt: skip
            ids.append(checkin.id)
    purge_queues()
    return ids[:count]


def unenrich(ids: list[int]) -> None:
    """Back to the state right after check-in: no summary, no document, nothing queued."""
    from checkins.models import CheckIn
    from trainy.documents import journey_store

    CheckIn.objects.filter(id__in=ids).update(
        enriched_at=None, distance_m=None, duration_s=None, distance_method=""
    )
    # The benchmark's document database dropped whole: deleting the documents of a long run
    # one by one takes the SQLite-backed FerretDB longer than a client waits for an answer.
    Interruptions.retrying(
        lambda: pymongo.MongoClient(os.environ["MONGO_URL"]).drop_database(os.environ["MONGO_DB"])
    )
    journey_store().ensure_indexes()
    purge_queues()


def journeys_summary(ids: list[int]) -> str:
    from django.db.models import Avg, Count

    from checkins.models import CheckIn

    rows = (
        CheckIn.objects.filter(id__in=ids)
        .values("distance_method")
        .annotate(n=Count("id"), km=Avg("distance_m"))
    )
    stops = _fetch(
        "SELECT avg(destination_seq - origin_seq), max(destination_seq - origin_seq)"
        " FROM checkins_checkin WHERE id = ANY(%s)",
        [ids],
    )[0]
    methods = ", ".join(
        f"{row['distance_method'] or 'none'} {row['n']} (mean {(row['km'] or 0) / 1000:.1f} km)"
        for row in rows
    )
    return f"{methods}; stops travelled: mean {float(stops[0]):.1f}, max {stops[1]}"


class Interruptions:
    """Counts document-store outages met mid-run (another session's outage tests stop and
    start the shared services): the loops wait them out, and the figures are marked."""

    count = 0

    @classmethod
    def retrying(cls, function: Callable[[], Any]) -> Any:
        from trainy.documents import DocumentStoreUnavailable

        for _ in range(60):
            try:
                return function()
            except DocumentStoreUnavailable:
                cls.count += 1
                time.sleep(1)
        return function()


@dataclass
class EnrichRun:
    """Journeys enriched one after the other in this process: each one's time, the seconds
    in all, and the store's put() times within them (and of its replace_one calls)."""

    times: list[float]
    seconds: float
    put_times: list[float]
    replace_times: list[float]

    @property
    def rate(self) -> float:
        return len(self.times) / max(self.seconds, 1e-9)

    @property
    def without_put_rate(self) -> float:
        return len(self.times) / max(self.seconds - sum(self.put_times), 1e-9)

    @property
    def put_rate(self) -> float:
        return len(self.put_times) / max(sum(self.put_times), 1e-9)


@dataclass
class EnrichFigures:
    first: EnrichRun  # documents written the first time, the collection growing from empty
    again: EnrichRun  # the same journeys enriched again: every put() replaces a document
    build_rate: float
    put_rate: float
    worker_rate: float = 0.0
    worker_again_rate: float = 0.0
    sql_worker_rate: float | None = None
    worker_span_rate: float = 0.0
    task_times: list[float] = field(default_factory=list)
    task_again_times: list[float] = field(default_factory=list)


def store_note() -> str:
    """How the document server finds a journey's document by its id, where it says (FerretDB's
    explain tells whether the filter reaches its SQL backend, and the SQL plan whether that
    uses an index or scans the table)."""
    from trainy.documents import _key, journey_store

    collection = getattr(journey_store(), "_collection", None)
    if collection is None:
        return "the embedded SQL store"
    plan = collection.database.command(
        "explain", {"find": collection.name, "filter": {"_id": _key(1)}}
    )
    info = collection.database.client.server_info()
    server = f"server {info.get('version', '?')}" + (
        f", FerretDB {info['ferretdb']['version']}" if "ferretdb" in info else ""
    )
    if "filterPushdown" not in plan:
        return server
    if not plan["filterPushdown"]:
        return f"{server}; find by _id: filter pushdown NOT used, every document is decoded"
    scans = "SCAN" in str(plan.get("queryPlanner", "")) or "Seq Scan" in str(plan)
    how = "its SQL scans the table (no index used)" if scans else "its SQL uses an index"
    return f"{server}; find by _id: filter pushed down, {how}"


def bench_parts(ids: list[int]) -> tuple[float, float]:
    """Journeys/s of build_document() alone (row and timetable reads, shape cut, encoding; no
    writes), and of the document store's put() alone (real documents, into an empty
    collection)."""
    from checkins.enrichment import build_document
    from checkins.models import CheckIn
    from trainy.documents import journey_store

    checkins = list(CheckIn.objects.filter(id__in=ids))
    started = time.perf_counter()
    documents = [build_document(checkin) for checkin in checkins]
    build_seconds = time.perf_counter() - started
    store = journey_store()
    unenrich(ids)
    times = []
    for checkin, document in list(zip(checkins, documents, strict=True))[:200]:
        began = time.perf_counter()
        Interruptions.retrying(lambda: store.put(checkin.id, document))  # noqa: B023
        times.append(time.perf_counter() - began)
    unenrich(ids)
    build_rate, put_rate = len(checkins) / build_seconds, len(times) / sum(times)
    say(f"  build_document() alone: {build_rate:.0f} journeys/s "
        f"({build_seconds / len(checkins) * 1000:.1f} ms each)")  # fmt: skip
    say(f"  the document store's put() alone, {len(times)} documents into an empty collection: "
        f"{put_rate:.0f}/s, {spread(times)} each")  # fmt: skip
    return build_rate, put_rate


def bench_in_process(ids: list[int], profile_count: int, time_limit: float) -> EnrichFigures:
    from checkins.services.enrichment_lifecycle import journey_enrich
    from trainy.documents import journey_store

    say(f"  document store: {store_note()}")
    build_rate, put_rate = bench_parts(ids)
    for checkin_id in ids[:50]:
        Interruptions.retrying(lambda: journey_enrich(checkin_id=checkin_id))  # noqa: B023
    unenrich(ids)
    first = enrich_timed(ids, time_limit)
    say(f"  in-process journey_enrich(), first time: {first.rate:.0f} journeys/s "
        f"({len(first.times)} in {first.seconds:.1f} s, the collection growing from empty; "
        f"each {spread(first.times)})")  # fmt: skip
    show_put_share(first)
    say(f"    journeys: {journeys_summary(ids[: len(first.times)])}")

    # The same journeys enriched again, as after a traveller's edit or new realtime times:
    # each already has its document, so the store's put() meets it and replaces it.
    done = ids[: len(first.times)]
    have = len(Interruptions.retrying(lambda: journey_store().get_many(done)))
    again = enrich_timed(done, time_limit)
    say(f"  in-process journey_enrich() again, replacing documents ({have} of {len(done)} "
        f"journeys had one): {again.rate:.0f} journeys/s ({len(again.times)} in "
        f"{again.seconds:.1f} s, {len(again.replace_times)} documents replaced; "
        f"each {spread(again.times)})")  # fmt: skip
    show_put_share(again)
    if again.replace_times:
        say(f"    the store's replace_one() alone (after its insert met the document): "
            f"{spread(again.replace_times)}; {sum(again.replace_times) / again.seconds:.0%} "
            f"of the time")  # fmt: skip

    profiled = ids[:profile_count]
    unenrich(profiled)
    profiler = cProfile.Profile()
    profiler.enable()
    for checkin_id in profiled:
        Interruptions.retrying(lambda: journey_enrich(checkin_id=checkin_id))  # noqa: B023
    profiler.disable()
    show_profile(
        profiler,
        len(profiled),
        "journeys enriched in-process, from an empty collection",
        trainy_too=True,
    )
    return EnrichFigures(first, again, build_rate, put_rate)


def enrich_timed(ids: list[int], time_limit: float) -> EnrichRun:
    """journey_enrich() on each journey in turn (until ``time_limit``), the store's put() and
    the collection's replace_one() timed on the side (instance attributes shadowing the
    methods), so that the document database's share can be told from Trainy's own."""
    from checkins.services.enrichment_lifecycle import journey_enrich
    from trainy.documents import journey_store

    store = journey_store()
    put = store.put
    put_times: list[float] = []
    replace_times: list[float] = []

    def timed_put(checkin_id: int, document: dict[str, Any]) -> None:
        began = time.perf_counter()
        try:
            put(checkin_id, document)
        finally:
            put_times.append(time.perf_counter() - began)

    collection = getattr(store, "_collection", None)
    replace_one = getattr(collection, "replace_one", None)

    def timed_replace_one(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return replace_one(*args, **kwargs)  # type: ignore[misc]
        finally:
            replace_times.append(time.perf_counter() - began)

    store.put = timed_put  # type: ignore[method-assign]
    if collection is not None:
        collection.replace_one = timed_replace_one
    times: list[float] = []
    started = time.perf_counter()
    try:
        for checkin_id in ids:
            began = time.perf_counter()
            if began - started > time_limit:
                say(f"  time limit: stopped after {len(times)} of {len(ids)} journeys")
                break
            Interruptions.retrying(lambda: journey_enrich(checkin_id=checkin_id))  # noqa: B023
            times.append(time.perf_counter() - began)
    finally:
        del store.put
        if collection is not None:
            del collection.replace_one
    return EnrichRun(times, time.perf_counter() - started, put_times, replace_times)


def show_put_share(run: EnrichRun) -> None:
    tenth = max(1, len(run.put_times) // 10)
    say(f"    of which the store's put(): {sum(run.put_times) / run.seconds:.0%} of the time; "
        f"{percentile(run.put_times[:tenth], 0.5) * 1000:.1f} ms (p50) for the first tenth, "
        f"{percentile(run.put_times[-tenth:], 0.5) * 1000:.1f} ms for the last; "
        f"the rest alone: {run.without_put_rate:.0f} journeys/s")  # fmt: skip


def bench_worker(
    ids: list[int],
    pool: str,
    log: Path,
    time_limit: float,
    *,
    sql_store: bool = False,
    again: bool = False,
) -> tuple[float, float, list[float]]:
    """N queued enrich_journey tasks, then one worker process: journeys/s from the moment it is
    ready to the last enriched_at (or to the time limit), and from the first to the last. With
    ``sql_store`` the worker runs without MONGO_URL: documents go to the embedded SQL store (a
    table in PostgreSQL), as a reference for an indexed document store. With ``again`` every
    journey keeps (or is first given, untimed) its MongoDB document, so each task replaces one:
    the journeys enriched again after an edit or new realtime times."""
    from checkins.enrichment import build_document
    from checkins.models import CheckIn, JourneyDocument
    from checkins.tasks import enrich_journey
    from trainy.documents import journey_store

    if again:
        # Only the summary cleared, so that the wait below sees each task done; the documents
        # stay, and those a cut-short earlier run did not write are written now (untimed).
        CheckIn.objects.filter(id__in=ids).update(enriched_at=None)
        purge_queues()
        documents = journey_store()
        have = Interruptions.retrying(lambda: documents.get_many(ids))
        missing = [checkin for checkin in CheckIn.objects.filter(id__in=ids)
                   if checkin.id not in have]  # fmt: skip
        if missing:
            Interruptions.retrying(
                lambda: documents.put_many({c.id: build_document(c) for c in missing})
            )
        say(f"  every journey has its document ({len(missing)} written first, untimed)")
    else:
        unenrich(ids)
    JourneyDocument.objects.filter(checkin_id__in=ids).delete()
    started = time.perf_counter()
    for checkin_id in ids:
        enrich_journey.delay(checkin_id)
    queued = queue_depth(ENRICHMENT_QUEUE)
    say(f"  queued {len(ids)} enrich_journey tasks in {time.perf_counter() - started:.1f} s; "
        f"{queued} waiting in the queue")  # fmt: skip
    environment = os.environ | {"LOG_LEVEL": "info", "LOG_FORMAT": "json"}  # as in production
    if sql_store:
        del environment["MONGO_URL"]
    command = [sys.executable, "-m", "celery", "-A", "trainy", "worker", "-Q", ENRICHMENT_QUEUE,
               "--concurrency", "1", "--pool", pool, "--without-gossip", "--without-mingle",
               "--without-heartbeat", "-l", "info",
               "-n", f"bench-enrich-{os.getpid()}@%h"]  # fmt: skip
    with log.open("w") as output:
        launched = time.perf_counter()
        worker = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    pending = CheckIn.objects.filter(id__in=ids, enriched_at__isnull=True)
    try:
        deadline = time.monotonic() + 60
        while "ready" not in log.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the Celery worker did not start, see {log}")
            time.sleep(0.02)
        ready_at = datetime.now(UTC)
        startup = time.perf_counter() - launched
        deadline = time.monotonic() + time_limit
        while pending.exists():
            if worker.poll() is not None:
                raise SystemExit(f"the Celery worker exited, see {log}")
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        stopped_at = datetime.now(UTC)
    finally:
        stop(worker, timeout=60)
    purge_queues()
    JourneyDocument.objects.filter(checkin_id__in=ids).delete()
    enriched = CheckIn.objects.filter(id__in=ids, enriched_at__lte=stopped_at)
    stamps = sorted(stamp for stamp in enriched.values_list("enriched_at", flat=True) if stamp)
    done = len(stamps)
    end = stamps[-1] if done == len(ids) else stopped_at
    rate = done / max((end - ready_at).total_seconds(), 1e-9)
    span = (done - 1) / max((stamps[-1] - stamps[0]).total_seconds(), 1e-9) if done > 1 else 0.0
    text = log.read_text()
    task_times = [float(seconds) for seconds in re.findall(r"succeeded in ([0-9.]+)s", text)]
    retries = len(re.findall(r"[Rr]etry in", text))
    cut = "" if done == len(ids) else f"; time limit: {done} of {len(ids)} done"
    store = "the embedded SQL document store" if sql_store else "MongoDB"
    if again:
        store += ", every document replaced"
    say(f"  one Celery worker process ({pool}, concurrency 1, {store}): {rate:.0f} journeys/s "
        f"from ready "
        f"to the last enriched_at ({(end - ready_at).total_seconds():.1f} s; {span:.0f}/s first "
        f"to last; it started in {startup:.1f} s{cut})")  # fmt: skip
    if task_times:
        tenth = max(1, len(task_times) // 10)
        say(f"    task run time as the worker logs it: {spread(task_times)} "
            f"(mean {sum(task_times) / len(task_times) * 1000:.1f} ms; p50 of the first tenth "
            f"{percentile(task_times[:tenth], 0.5) * 1000:.1f} ms, of the last "
            f"{percentile(task_times[-tenth:], 0.5) * 1000:.1f} ms)")  # fmt: skip
    if retries:
        say(f"    {retries} task retries (a service went away mid-run): figures disturbed")
    say(f"    worker log: {log}")
    return rate, span, task_times


# --- Main ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_database_argument(parser, "Trainy's benchmark database (created and migrated if missing)")
    parser.add_argument("--travellers", type=int, default=20, help="concurrent travellers")
    parser.add_argument("--requests", type=int, default=2000, help="timed check-in POSTs in all")
    parser.add_argument("--warmup", type=int, default=200, help="untimed POSTs first, in all")
    parser.add_argument("--paced-checkins", type=int, default=30,
                        help="timed check-ins per traveller with think time")  # fmt: skip
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean seconds a traveller takes to fill in the form")  # fmt: skip
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--in-process", type=int, default=100,
                        help="check-in POSTs timed (and as many profiled) in-process")  # fmt: skip
    parser.add_argument("--journeys", type=int, default=2000, help="journeys to enrich")
    parser.add_argument("--profile", type=int, default=300, help="journeys profiled in-process")
    parser.add_argument("--pool", default="prefork", choices=("prefork", "solo"),
                        help="the Celery worker's pool (concurrency 1 either way)")  # fmt: skip
    parser.add_argument("--time-limit", type=float, default=180, help="seconds per timed part")
    parser.add_argument("--seed", type=int, default=20260526)
    parser.add_argument("--skip-post", action="store_true", help="enrichment only")
    parser.add_argument("--skip-enrich", action="store_true", help="the check-in POST only")
    parser.add_argument("--no-sql-store", action="store_true",
                        help="no worker run with the embedded SQL document store")  # fmt: skip
    parser.add_argument("--shared-vhost", action="store_true",
                        help=f"use the harness's RabbitMQ vhost, not {BENCH_NAME}")  # fmt: skip
    args = parser.parse_args(argv)

    if not FEEDS[MTA].exists():
        raise SystemExit(f"the staged feed is missing: {FEEDS[MTA]}")
    # The harness's services, with a broker vhost and a document database of the benchmark's.
    broker = harness_url("CELERY_BROKER_URL")
    harness_url("REDIS_URL")
    harness_url("MONGO_URL")
    if not args.shared_vhost:
        os.environ["CELERY_BROKER_URL"] = bench_broker_url(broker)
    os.environ["MONGO_DB"] = BENCH_NAME
    prepare_django(args.database_url)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version(), current_setting('max_connections'),"
            " current_setting('synchronous_commit'), current_setting('fsync')"
        )
        version, max_connections, synchronous_commit, fsync = cursor.fetchone()
    say(f"PostgreSQL: {version.split(',')[0]}, max_connections {max_connections}, "
        f"synchronous_commit {synchronous_commit}, fsync {fsync}")  # fmt: skip
    say(f"Machine: {os.cpu_count()} cores; Trainy database {args.database_url}; broker vhost "
        f"{urlsplit(os.environ['CELERY_BROKER_URL']).path.lstrip('/')}; MongoDB database "
        f"{os.environ['MONGO_DB']} at {os.environ['MONGO_URL']}")  # fmt: skip
    say(f"  {machine_note()}")
    version_id, zone = active_mta()
    users = travellers(args.travellers + 1)  # the last one is for the in-process diagnostics
    forget_earlier_runs()
    rng = random.Random(args.seed)  # noqa: S311 (reproducible samples, not secrets)
    say()

    post: PostFigures | None = None
    if not args.skip_post:
        each = -(-(args.requests + args.warmup) // args.travellers)
        paced = args.paced_checkins + 1
        sizes = [each + paced] * args.travellers + [10 + 2 * args.in_process + 1]
        segments = trip_segments(version_id, zone, sum(sizes) * 6 // 5, rng)
        plans = share_out(segments, sizes)
        post = bench_post(
            args,
            users[:-1],
            [plan[:each] for plan in plans[:-1]],
            [plan[each:] for plan in plans[:-1]],
            rng,
        )
        post.sequential = bench_post_in_process(users[-1], plans[-1], args.in_process)
        say(f"  purged {purge_queues()} queued tasks")
        say()

    enrich: EnrichFigures | None = None
    if not args.skip_enrich:
        say(f"== Enrichment: {args.journeys} trip journeys on {MTA} (trips with shapes, "
            f"mixed lengths), journey documents in MongoDB database {BENCH_NAME}")  # fmt: skip
        say(f"  machine: {machine_note()}")
        ids = enrichment_journeys(args.journeys, users[:-1], version_id, zone, rng)
        enrich = bench_in_process(ids, args.profile, args.time_limit)
        log = LOG_DIR / "trainy-bench-checkin-worker.log"
        enrich.worker_rate, enrich.worker_span_rate, enrich.task_times = bench_worker(
            ids, args.pool, log, args.time_limit
        )
        log = LOG_DIR / "trainy-bench-checkin-worker-again.log"
        enrich.worker_again_rate, _, enrich.task_again_times = bench_worker(
            ids, args.pool, log, args.time_limit, again=True
        )
        if not args.no_sql_store:
            log = LOG_DIR / "trainy-bench-checkin-worker-sql.log"
            enrich.sql_worker_rate, _, _ = bench_worker(
                ids, args.pool, log, args.time_limit, sql_store=True
            )
        say(f"  machine afterwards: {machine_note()}")
        if Interruptions.count:
            say(f"  the document store was unavailable {Interruptions.count} times mid-run "
                "(waited out; the in-process figures include the waits)")  # fmt: skip
        say()

    rows = []
    if post is not None:
        p95 = percentile(post.travellers.times, 0.95)
        rows.append((
            f"check-in POST p50/p95/p99, {args.travellers} travellers at once",
            spread(post.travellers.times) + f" ({post.travellers.failures} failed)",
            f"{post.travellers.rate:.0f} check-ins/s, page views besides",
            TARGETS["post"],
            verdict(p95 < 0.050 and not post.travellers.failures),
        ))  # fmt: skip
        rows.append((
            f"check-in POST p50/p95/p99, {args.travellers} back to back",
            spread(post.checkin.times) + f" ({post.checkin.failures} failed)",
            "GET /healthz " + spread(post.healthz.times),
            "– (saturation)",
            "–",
        ))  # fmt: skip
        rows.append((
            "check-in POST throughput, back to back",
            f"{post.checkin.rate:.0f} req/s",
            f"GET /healthz {post.healthz.rate:.0f} req/s",
            "–",
            "–",
        ))  # fmt: skip
        if post.sequential:
            rows.append(("check-in POST alone, in-process p50/p95/p99", spread(post.sequential),
                         "–", "–", "–"))  # fmt: skip
    if enrich is not None:
        parts = f"store put {enrich.put_rate:.0f}/s, build {enrich.build_rate:.0f}/s"
        for label, run in (("first time", enrich.first), ("again, replacing", enrich.again)):
            rows.append((f"enrichment in-process, 1 process, {label}",
                         f"{run.rate:.0f} journeys/s",
                         f"{run.without_put_rate:.0f}/s without put; its put {run.put_rate:.0f}/s"
                         + ("; " + parts if run is enrich.first else ""),
                         TARGETS["enrich"], verdict(run.rate >= 100)))  # fmt: skip
        rows.append((f"enrichment, 1 Celery worker ({args.pool} -c 1), first time",
                     f"{enrich.worker_rate:.0f} journeys/s", parts, TARGETS["enrich"],
                     verdict(enrich.worker_rate >= 100)))  # fmt: skip
        rows.append((f"enrichment, 1 Celery worker ({args.pool} -c 1), again, replacing",
                     f"{enrich.worker_again_rate:.0f} journeys/s",
                     "task run time p50 "
                     + (f"{percentile(enrich.task_again_times, 0.5) * 1000:.1f} ms"
                        if enrich.task_again_times else "–"),
                     TARGETS["enrich"], verdict(enrich.worker_again_rate >= 100)))  # fmt: skip
        if enrich.sql_worker_rate is not None:
            rows.append(("  the same worker, SQL document store (no MONGO_URL)",
                         f"{enrich.sql_worker_rate:.0f} journeys/s", "–", "–", "–"))  # fmt: skip
    header = ("measure", "Trainy", "reference", "target", "met")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * width for width in widths), *rows]:
        say("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
