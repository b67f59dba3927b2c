"""Journey enrichment against the real services: broker, worker and document-store outages, and
distances on the DB feed checked against an independent geodesic computation.

The outage tests stop a real service through the harness (the ``services`` fixture starts it
again whatever happens) and use real Celery workers: the session's ``celery_worker``, which
has to ride out the outage like a deployed worker, or workers of their own that they kill.
"""

from __future__ import annotations

import csv
import itertools
import os
import random
import re
import signal
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse
from geopy.distance import geodesic

from checkins.enrichment import build_document
from checkins.models import CheckIn
from checkins.services.checkins import Place, checkin_create, checkin_from_trip
from checkins.services.enrichment_lifecycle import enrichment_sweep, journey_enrich
from tests.checkins.feeds import post_trip_checkin, write_feed
from tests.conftest import (
    DB_FEED,
    ROOT,
    stop_process,
    wait_for,
    wait_for_sessions_to_end,
    worker_command,
    worker_environment,
)
from trainy.documents import MongoJourneyStore, journey_store, validate_document

# The user-facing bound on a check-in while a backing service is away.
PROMPT_S = 10
# Celery's line for a task that failed and will run again (not "raised unexpected": given up).
RETRY_LOGGED = re.compile(r"enrich_journey\[[^]]+\] retry: Retry in \d+s: DocumentStoreUnavailable")
# Our workers name their PostgreSQL sessions, so teardown can wait for exactly those to end.
WORKER_APP_NAME = "trainy-reliability-worker"


# --- Helpers -------------------------------------------------------------------------------------


@pytest.fixture
def small_feed(tmp_path):
    call_command("import_gtfs", str(write_feed(tmp_path / "feed")), name="test", verbosity=0)


def expected_document(checkin: CheckIn) -> dict:
    """What the store should hold for the check-in: today's document, as the store keeps it."""
    return validate_document(build_document(checkin))


def mongo_store() -> MongoJourneyStore:
    store = journey_store()
    assert isinstance(store, MongoJourneyStore), "these tests need MONGO_URL (the real server)"
    return store


def enriched(checkin_id: int) -> CheckIn | None:
    return CheckIn.objects.filter(id=checkin_id, enriched_at__isnull=False).first()


def log_of(worker: subprocess.Popen) -> Path:
    """The file a worker process writes its log to (its stdout; Linux, like the harness)."""
    return Path(os.readlink(f"/proc/{worker.pid}/fd/1"))


def check_in_while_stopped(client, user, services, service: str, message: str):
    """Stops the service, then the user checks in on the trip form: the check-in must still be
    committed (a redirect to its page) within PROMPT_S. Returns the response and the check-in."""
    client.force_login(user)
    services.stop(service)
    started = time.monotonic()
    response = post_trip_checkin(client, message=message)
    took = time.monotonic() - started
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert took < PROMPT_S, f"the check-in took {took:.1f} s while {service} was down"
    return response, CheckIn.objects.get(user=user)


def children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


class Workers:
    """Celery worker processes of a test's own, started like the session's ``celery_worker``
    (prefork, one child, every queue, the test database), each in a process group of its own
    so that it can be killed whole."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[subprocess.Popen] = []

    def start(self, name: str) -> subprocess.Popen:
        # Sessions of their own name, apart from the session worker's, so that only theirs are
        # waited for and ended.
        env = {**worker_environment(), "PGAPPNAME": WORKER_APP_NAME}
        log = self.folder / f"{name}.log"
        with log.open("w") as output:
            worker = subprocess.Popen(
                worker_command(name),
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(worker)
        wait_for(
            lambda: "ready" in log.read_text() or worker.poll() is not None,
            timeout=60,
            message=f"the Celery worker {name} to start",
        )
        if worker.poll() is not None:
            pytest.fail(f"the Celery worker {name} exited:\n{log.read_text()[-3000:]}")
        return worker

    def kill(self, worker: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool: nothing gets to acknowledge or clean up."""
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=20)

    def stop_all(self) -> None:
        for worker in self.started:
            if worker.poll() is None:
                stop_process(worker, timeout=20, group=True)
        wait_for_sessions_to_end(
            WORKER_APP_NAME, message="the killed workers' database sessions to end"
        )


@pytest.fixture
def workers(tmp_path) -> Iterator[Workers]:
    # The session's worker, if an earlier test started it, must not take these tests' tasks:
    # it stops consuming while they run (the queues are empty now, so it holds no message).
    paused = _consumers("cancel")
    control = Workers(tmp_path)
    try:
        yield control
    finally:
        control.stop_all()
        for worker in paused:
            _consumers("add", destination=worker)


def _consumers(action: str, destination: str | None = None) -> list[str]:
    """Cancel (or add back) every queue's consumer on the running workers; their names."""
    from trainy.celery import app

    names: set[str] = set()
    for queue in app.amqp.queues:
        method = app.control.cancel_consumer if action == "cancel" else app.control.add_consumer
        replies = method(
            queue, reply=True, timeout=1, destination=[destination] if destination else None
        )
        names.update(name for reply in replies or [] for name in reply)
    return sorted(names)


# --- (1) A worker killed mid-task: every journey ends with one correct document ----------------

KILL_BATCH = 300
# Rows the test locks, so that the worker stalls on them half-way through a task.
LOCKED = slice(100, 110)


def blocked_worker_backends() -> list[int]:
    """Our workers' PostgreSQL sessions waiting for a lock, by backend pid."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = %s AND wait_event_type = 'Lock'",
            [WORKER_APP_NAME],
        )
        return [pid for (pid,) in cursor.fetchall()]


def end_backend(pid: int) -> None:
    """End a killed worker's session. Its client is dead, but a statement waiting for a lock
    would still run (and commit) once the lock is free: the task would half-finish itself."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.outage
@pytest.mark.timeout(240)
@pytest.mark.django_db(transaction=True)
def test_workers_killed_mid_task_leave_one_correct_document_per_checkin(full_stack, workers, alice):
    store = mongo_store()
    store.drop_all()
    rng = random.Random(20190603)
    start = datetime(2019, 6, 3, 6, 0, tzinfo=UTC)
    checkins = [
        checkin_create(
            user=alice,
            line_name=f"RE {n}",
            origin=Place("Berlin Hbf", 52.5251, 13.3694),
            destination=Place(
                f"Stop {n}", 52.5251 + rng.uniform(-1.5, 1.5), 13.3694 + rng.uniform(-2, 2)
            ),
            departure_planned=start + timedelta(hours=4 * n),
            arrival_planned=start + timedelta(hours=4 * n, minutes=rng.randint(60, 180)),
        )
        for n in range(KILL_BATCH)
    ]
    ids = [checkin.id for checkin in checkins]

    def enriched_ids() -> set[int]:
        return set(
            CheckIn.objects.filter(id__in=ids, enriched_at__isnull=False).values_list(
                "id", flat=True
            )
        )

    # A second session holds row locks on some check-ins: a task for one of them stores its
    # document, then waits to write the summary row. Killed there, it is half done.
    locker = connections.create_connection("default")
    try:
        locker.set_autocommit(False)
        with locker.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM checkins_checkin WHERE id = ANY(%s) FOR UPDATE",
                [ids[LOCKED]],
            )
        doomed = workers.start("doomed")
        log = log_of(doomed)
        (stalled,) = wait_for(
            blocked_worker_backends, timeout=60, message="the worker to reach a locked row"
        )
        assert len(enriched_ids()) >= LOCKED.start, "the worker did not get through the queue"

        # SIGKILL the pool child mid-task: its parent must give the message back to RabbitMQ
        # (task_reject_on_worker_lost) and start a new child.
        (child,) = children_of(doomed.pid)
        os.kill(child, signal.SIGKILL)
        end_backend(stalled)
        wait_for(
            lambda: "WorkerLostError" in log.read_text(),
            timeout=30,
            message="the worker to notice its pool child died mid-task",
        )
        assert doomed.poll() is None
        # The new child stalls on a locked row again (the same journey, given back, or the
        # next one). Now SIGKILL the whole worker: RabbitMQ takes back the message it had not
        # acknowledged (acks_late) when its connection drops.
        (stalled,) = wait_for(
            lambda: [pid for pid in blocked_worker_backends() if pid != stalled],
            timeout=60,
            message="the new pool child to reach a locked row",
        )
        workers.kill(doomed)
        end_backend(stalled)
        half_done = set(store.get_many(ids)) - enriched_ids()
        assert half_done, "no task was killed between storing its document and its summary"
        assert half_done <= set(ids[LOCKED])
    finally:
        locker.rollback()
        locker.close()

    # No sweeper here: only redelivery can finish the killed tasks.
    workers.start("successor")
    wait_for(
        lambda: len(enriched_ids()) == KILL_BATCH,
        timeout=120,
        message=f"all {KILL_BATCH} check-ins to be enriched after the kills",
    )

    documents = store.get_many(ids)
    assert sorted(documents) == sorted(ids)
    assert store._collection.count_documents({}) == KILL_BATCH
    for checkin in CheckIn.objects.filter(id__in=ids):
        assert documents[checkin.id] == expected_document(checkin), checkin.id
        assert checkin.distance_m == documents[checkin.id]["distance"]["meters"]
        assert checkin.duration_s == checkin.planned_duration_s
    assert enrichment_sweep(older_than=timedelta(0)) == 0


# --- (2) RabbitMQ down: the check-in is committed at once, enriched once the broker is back -----


@pytest.mark.outage
@pytest.mark.django_db(transaction=True)
def test_a_checkin_while_rabbitmq_is_down_commits_promptly_and_is_enriched_after(
    client, full_stack, services, celery_worker, small_feed, alice
):
    response, checkin = check_in_while_stopped(client, alice, services, "rabbitmq", "Broker away")
    assert response["Location"] == reverse("checkins:detail", args=[checkin.id])
    assert checkin.message == "Broker away"
    assert checkin.enriched_at is None
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "being computed…" in page.content.decode()

    services.start("rabbitmq")
    # The task was lost with the broker: the sweeper (the beat task's body) finds the journey.
    assert enrichment_sweep(older_than=timedelta(0)) == 1
    # The session's worker was running all along: it must have reconnected by itself.
    done = wait_for(
        lambda: enriched(checkin.id),
        timeout=90,
        message="the worker, reconnected to RabbitMQ, to enrich the swept check-in",
    )
    assert celery_worker.poll() is None
    document = mongo_store().get(checkin.id)
    assert document == expected_document(done)
    assert document["distance"]["method"] == "shape"
    assert done.distance_m == document["distance"]["meters"] > 250_000
    assert done.duration_s == 109 * 60  # 08:02 -> 09:51
    assert enrichment_sweep(older_than=timedelta(0)) == 0


# --- (3) MongoDB down: check-ins and pages work; the document follows once it is back ----------


@pytest.mark.outage
@pytest.mark.django_db(transaction=True)
def test_while_the_document_store_is_down_pages_work_and_the_document_follows(
    client, full_stack, services, celery_worker, small_feed, alice
):
    worker_log = log_of(celery_worker)
    seen = worker_log.stat().st_size
    _, checkin = check_in_while_stopped(client, alice, services, "ferretdb", "Store away")
    route = f"{checkin.origin_name} → {checkin.destination_name}"

    # The worker takes the task, cannot store the document and schedules a retry.
    wait_for(
        lambda: RETRY_LOGGED.search(worker_log.read_bytes()[seen:].decode(errors="replace")),
        timeout=30,
        message="the worker to try the enrichment, find the store down and schedule a retry",
    )
    for url in (reverse("checkins:detail", args=[checkin.id]), "/journeys/", "/"):
        started = time.monotonic()
        page = client.get(url)
        assert page.status_code == 200, url
        assert time.monotonic() - started < PROMPT_S, url
        html = page.content.decode()
        assert route in html, url
        assert "Store away" in html, url
    detail = client.get(reverse("checkins:detail", args=[checkin.id])).content.decode()
    assert "being computed…" in detail
    assert "ICE 1601" in detail
    checkin.refresh_from_db()
    assert checkin.enriched_at is None

    services.start("ferretdb")
    # No sweeper: the task's own retries (exponential backoff from 2 s) must get there.
    done = wait_for(
        lambda: enriched(checkin.id),
        timeout=90,
        message="the retried enrichment to store the document",
    )
    document = mongo_store().get(checkin.id)
    assert document == expected_document(done)
    detail = client.get(reverse("checkins:detail", args=[checkin.id])).content.decode()
    assert "being computed…" not in detail
    assert 'data-testid="map"' in detail
    stopovers = detail.split('data-testid="stopovers"', 1)[1]
    assert document["stopovers"][-1]["name"] in stopovers


# --- (4) Distances on the DB feed against geodesics from the files ------------------------------

DB_DAY = date(2019, 6, 3)
DISTANCE_SAMPLES = 30
TOLERANCE = 0.01


def _rows(name: str) -> Iterator[dict[str, str]]:
    with (DB_FEED / name).open(encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)


def _seconds(hms: str) -> int:
    hours, minutes, seconds = (int(part) for part in hms.split(":"))
    return hours * 3600 + minutes * 60 + seconds


def _sample_journeys(rng: random.Random) -> list[tuple[str, list[dict[str, str]]]]:
    """ICE and IC trips running on DB_DAY, read from the files alone, each with the stop_times
    rows from a random entry to a random later exit (one that is reached later in time)."""
    day = DB_DAY.strftime("%Y%m%d")
    running = {
        row["service_id"]
        for row in _rows("calendar_dates.txt")
        if row["date"] == day and row["exception_type"] == "1"
    }
    products = {
        row["route_id"]
        for row in _rows("routes.txt")
        if row["route_long_name"].split(" ")[0] in {"ICE", "IC"}
    }
    trips = sorted(
        row["trip_id"]
        for row in _rows("trips.txt")
        if row["service_id"] in running and row["route_id"] in products
    )
    stop_times: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _rows("stop_times.txt"):
        stop_times[row["trip_id"]].append(row)
    samples = []
    for trip_id in rng.sample(trips, len(trips)):
        rows = sorted(stop_times[trip_id], key=lambda row: int(row["stop_sequence"]))
        pairs = [
            (i, j)
            for i in range(len(rows))
            for j in range(i + 1, len(rows))
            if _seconds(rows[j]["arrival_time"]) > _seconds(rows[i]["departure_time"])
        ]
        if pairs:
            i, j = rng.choice(pairs)
            samples.append((trip_id, rows[i : j + 1]))
        if len(samples) == DISTANCE_SAMPLES:
            break
    assert len(samples) == DISTANCE_SAMPLES, f"only {len(samples)} ICE/IC trips run on {day}"
    return samples


@pytest.mark.services
@pytest.mark.timeout(180)
@pytest.mark.django_db
def test_distances_on_the_db_feed_are_within_one_percent_of_wgs84_geodesics(full_stack, alice):
    call_command("import_gtfs", str(DB_FEED), name="db-fv", verbosity=0)
    stops = {row["stop_id"]: row for row in _rows("stops.txt")}
    for trip_id, rows in _sample_journeys(random.Random(20190603)):
        checkin = checkin_from_trip(
            user=alice,
            feed="db-fv",
            trip_id=trip_id,
            service_date=DB_DAY,
            origin_seq=int(rows[0]["stop_sequence"]),
            destination_seq=int(rows[-1]["stop_sequence"]),
            allow_overlap=True,
        )
        done = journey_enrich(checkin_id=checkin.id)
        points = [
            (float(stops[row["stop_id"]]["stop_lat"]), float(stops[row["stop_id"]]["stop_lon"]))
            for row in rows
        ]
        reference = sum(
            geodesic(a, b, ellipsoid="WGS-84").meters for a, b in itertools.pairwise(points)
        )
        where = f"trip {trip_id} seq {rows[0]['stop_sequence']}..{rows[-1]['stop_sequence']}"
        assert done is not None and done.enriched_at is not None, where
        assert done.distance_method == "stop_to_stop", where
        assert abs(done.distance_m - reference) / reference < TOLERANCE, (
            f"{where}: {done.distance_m} m, geodesic {reference:.0f} m"
        )
        document = journey_store().get(checkin.id)
        assert [stop["name"] for stop in document["stopovers"]] == [
            stops[row["stop_id"]]["stop_name"] for row in rows
        ], where
