"""Every role, run from the built image as the cluster runs it (tests/deploy/image.py: uid 10001,
root filesystem read-only, /tmp the only writable place), against the real services.

The roles use a database of their own (trainy_deploy, made afresh), the harness's RabbitMQ
vhost trainy_deploy and a document database of their own, so their worker never takes the
test suite's tasks and they never touch other tests' data.
"""

from __future__ import annotations

import re
import secrets
import socket
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import requests

from tests.conftest import require_service
from tests.deploy.image import Role, require_image, run_role, wait_for, write_env
from tests.deploy.tooling import CHART, ROOT, one, render
from tests.webserver import serve_directory

pytestmark = pytest.mark.services

DATABASE = "trainy_deploy"
FEED = ROOT.parent / "shared" / "data" / "gtfs" / "db-fv-2019" / "gtfs"
PASSWORD = "a-long-test-password-" + uuid.uuid4().hex[:8]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, **kwargs) -> requests.Response | None:
    try:
        return requests.get(url, timeout=10, **kwargs)
    except requests.RequestException:
        return None


def answers(url: str, status: int = 200) -> Callable[[], bool]:
    return lambda: (lambda r: r is not None and r.status_code == status)(get(url))


def recreate_database(server_url: str) -> str:
    """An empty trainy_deploy database (the harness's role may create databases)."""
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            [DATABASE],
        )
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    return urlsplit(server_url)._replace(path=f"/{DATABASE}").geturl()


def grace_periods() -> dict[str, int]:
    """The chart's terminationGracePeriodSeconds of each long-running role."""
    docs = render(CHART / "ci" / "defaults-values.yaml")
    return {
        role: one(docs, "Deployment", f"trainy-{role}")["spec"]["template"]["spec"][
            "terminationGracePeriodSeconds"
        ]
        for role in ("web", "worker", "beat")
    }


@pytest.fixture(scope="module")
def image() -> str:
    return require_image()


@pytest.fixture(scope="module")
def role_env(image) -> dict[str, str]:
    broker = urlsplit(require_service("rabbitmq"))._replace(path=f"/{DATABASE}").geturl()
    return {
        "DATABASE_URL": recreate_database(require_service("postgres")),
        "REDIS_URL": require_service("redis"),
        "CELERY_BROKER_URL": broker,
        "MONGO_URL": require_service("ferretdb"),
        "MONGO_DB": DATABASE,
        # As in production (DEBUG off, JSON logs, collected static files), minus TLS.
        "DEBUG": "false",
        "SECRET_KEY": "role-test-" + uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "TRAINY_HTTPS": "false",
        "LOG_FORMAT": "json",
        "CACHE_KEY_PREFIX": f"trainy-deploy-{uuid.uuid4().hex[:8]}",
        # The feed is served from this machine (127.0.0.1) in the import test.
        "TRAINY_IMPORT_ALLOW_PRIVATE": "true",
    }


@pytest.fixture
def env_file(role_env, tmp_path) -> Callable[..., Path]:
    count = iter(range(100))

    def make(**extra: str) -> Path:
        return write_env(tmp_path / f"role-{next(count)}.env", {**role_env, **extra})

    return make


@pytest.fixture(scope="module")
def migrated(role_env, tmp_path_factory) -> dict[str, str]:
    env = write_env(tmp_path_factory.mktemp("migrate") / "role.env", role_env)
    result = run_role(env, "migrate")
    assert result.returncode == 0, result.stdout + result.stderr
    return role_env


@pytest.fixture
def start(tmp_path) -> Iterator[Callable[..., Role]]:
    roles: list[Role] = []

    def starter(env_file: Path, *args: str) -> Role:
        role = Role(env_file, tmp_path / f"{args[0]}-{len(roles)}.log", *args)
        roles.append(role)
        return role

    yield starter
    # Every role is stopped, even when one of them fails to stop: a role left running would
    # hold its queues (and its worker's name) into the next test.
    stuck = []
    for role in roles:
        if role.process.poll() is None:
            try:
                role.stop()
            except BaseException as failure:  # noqa: BLE001 -- the others are stopped first
                stuck.append(failure)
    if stuck:
        raise stuck[0]


def test_migrate_applies_every_migration_on_an_empty_database_then_nothing(image, env_file):
    fresh = env_file()
    first = run_role(fresh, "migrate")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Applying feed.0001_initial... OK" in first.stdout
    again = run_role(fresh, "migrate")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No migrations to apply." in again.stdout


def test_the_deploy_checks_pass_with_production_settings(migrated, env_file):
    production = env_file(TRAINY_HTTPS="true", ALLOWED_HOSTS="trainy.example.org")
    result = run_role(production, "manage", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.fixture
def served_feed(tmp_path) -> Iterator[str]:
    """The small staged feed as a zip on a web server on 127.0.0.1, as an import Job fetches
    a feed by URL (the host's files are not in the container)."""
    archive = tmp_path / "feed.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for file in sorted(FEED.glob("*.txt")):
            bundle.write(file, file.name)
    with serve_directory(tmp_path) as base:
        yield f"{base}/feed.zip"


def test_import_gtfs_imports_a_feed_and_needs_a_source(migrated, env_file, served_feed):
    env = env_file()
    result = run_role(env, "import-gtfs", served_feed, "--name", "deploy-test", "--verbosity", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Imported feed 'deploy-test'" in result.stdout
    # The import's duration is what /metrics reports for the feed.
    command = (
        "from trainy.metrics.registry import exposition as e; print(e(include_state=True).decode())"
    )
    exposition = run_role(env, "manage", "shell", "-c", command)
    assert re.search(
        r'trainy_gtfs_import_duration_seconds\{feed="deploy-test"\} [0-9.]+', exposition.stdout
    ), exposition.stdout[-2000:] + exposition.stderr[-2000:]
    usage = run_role(env, "import-gtfs")
    assert usage.returncode == 64
    assert "usage: import-gtfs URL_OR_PATH" in usage.stderr


def test_web_serves_pages_static_files_probes_and_metrics(migrated, env_file, start):
    port = free_port()
    web = start(env_file(PORT=str(port), WEB_CONCURRENCY="2"), "web")
    base = f"http://127.0.0.1:{port}"
    wait_for(answers(f"{base}/healthz"), timeout=60, what="/healthz", role=web)

    readyz = get(f"{base}/readyz")
    assert readyz is not None and readyz.status_code == 200, readyz and readyz.text
    assert readyz.json()["components"]["database"]["status"] == "ok"
    page = get(f"{base}/")
    assert page is not None and page.status_code == 200
    # Static files were collected at build time: hashed names, served for a year.
    stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page.text)
    assert stylesheet, page.text[:2000]
    css = get(base + stylesheet.group(1))
    assert css is not None and css.status_code == 200
    assert "immutable" in css.headers["Cache-Control"]

    # Scrapers address the pod by IP, which is in no ALLOWED_HOSTS.
    metrics = get(f"{base}/metrics", headers={"Host": "10.42.0.17:8000"})
    assert metrics is not None and metrics.status_code == 200
    assert "django_http_requests_total_by_method_total" in metrics.text
    assert re.search(r'trainy_metrics_source_up\{source="queues"\} 1\.0', metrics.text)
    # … but what came through the Gateway never sees them.
    proxied = get(f"{base}/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied is not None and proxied.status_code == 404
    # A calendar feed's token is the key to it: in no log line, gunicorn's or Django's.
    token = secrets.token_urlsafe(32)
    calendar = f"{base}/calendar/{token}.ics"
    assert get(f"{calendar}?period=all", headers={"Referer": calendar}).status_code == 404

    assert web.stop(grace_periods()["web"]) == 0
    assert token not in web.text()
    assert "Not Found: /calendar/[redacted]" in web.text()
    access = [line for line in web.json_lines() if line.get("logger") == "gunicorn.access"]
    # Probes and scrapes are logged only when they fail (the 404 above).
    paths = [(line["path"], line["status"]) for line in access]
    assert ("/", 200) in paths and ("/calendar/[redacted]", 404) in paths
    assert ("/healthz", 200) not in paths
    assert any("Booting worker" in line.get("message", "") for line in web.json_lines())


def test_a_request_in_flight_completes_when_web_is_stopped(migrated, env_file, start):
    """SIGTERM while a request waits on the database: the answer still arrives, whole, and
    web exits cleanly within the chart's grace period."""
    port = free_port()
    web = start(env_file(PORT=str(port), WEB_CONCURRENCY="1"), "web")
    base = f"http://127.0.0.1:{port}"
    wait_for(answers(f"{base}/healthz"), timeout=60, what="/healthz", role=web)
    database = migrated["DATABASE_URL"]
    answer: dict[str, requests.Response | None] = {}
    with psycopg.connect(database) as lock:
        lock.execute("LOCK TABLE checkins_checkin IN ACCESS EXCLUSIVE MODE")
        # The leaderboards read the journeys while no board is kept (no other request of this
        # module asks for them, under its own cache prefix).
        leaderboards = f"{base}/stats/leaderboard/"
        thread = threading.Thread(target=lambda: answer.update(page=get(leaderboards)))
        thread.start()

        def waiting() -> bool:
            with psycopg.connect(database, autocommit=True) as look:
                row = look.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                    " AND wait_event_type = 'Lock'",
                    [DATABASE],
                ).fetchone()
                return bool(row and row[0])

        wait_for(waiting, timeout=20, what="the request to wait on the lock", role=web)
        web.terminate()
        time.sleep(1.5)  # the shutdown has begun; the request is still waiting
        assert web.process.poll() is None
        lock.rollback()  # the lock goes: the request goes on
    thread.join(timeout=30)
    page = answer.get("page")
    assert page is not None and page.status_code == 200, page and page.status_code
    assert "</html>" in page.text
    assert web.stop(grace_periods()["web"]) == 0


def test_worker_enriches_a_checkin_made_through_web_and_answers_its_probe(
    migrated, env_file, start
):
    from trainy.documents import MongoJourneyStore

    users = run_role(
        env_file(DJANGO_SUPERUSER_PASSWORD=PASSWORD),
        "manage", "createsuperuser", "--noinput", "--username", "rider",
        "--email", "rider@example.org",
    )  # fmt: skip
    assert users.returncode == 0, users.stdout + users.stderr
    web_port, probe_port = free_port(), free_port()
    web = start(env_file(PORT=str(web_port), WEB_CONCURRENCY="1"), "web")
    worker = start(env_file(TRAINY_METRICS_PORT=str(probe_port), CELERY_CONCURRENCY="1"), "worker")
    base, probe = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{probe_port}"
    wait_for(answers(f"{base}/healthz"), timeout=60, what="web's /healthz", role=web)
    wait_for(answers(f"{probe}/healthz"), timeout=90, what="the worker's heartbeat", role=worker)

    browser = requests.Session()
    browser.get(f"{base}/accounts/login/", timeout=10)
    signed_in = browser.post(
        f"{base}/accounts/login/",
        {"login": "rider", "password": PASSWORD,
         "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{base}/accounts/login/"}, timeout=10,
    )  # fmt: skip
    assert "Signed in as" in signed_in.text, signed_in.text[-2000:]
    checked_in = browser.post(
        f"{base}/journeys/new/",
        {"line_name": "S7", "mode": "suburban", "origin_name": "Alexanderplatz",
         "origin_lat": "52.5215", "origin_lon": "13.4113", "destination_name": "Potsdam Hbf",
         "destination_lat": "52.3917", "destination_lon": "13.067",
         "departure_planned": "2026-11-20T07:00", "arrival_planned": "2026-11-20T07:52",
         "visibility": "public", "purpose": "commute",
         "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{base}/journeys/new/"}, timeout=10,
    )  # fmt: skip
    journey = re.search(r"/journeys/(\d+)/$", checked_in.url)
    assert journey, checked_in.text[-2000:]
    checkin_id = int(journey.group(1))

    def enriched() -> bool:
        with psycopg.connect(migrated["DATABASE_URL"]) as connection:
            row = connection.execute(
                "SELECT enriched_at, distance_m FROM checkins_checkin WHERE id = %s", [checkin_id]
            ).fetchone()
        return bool(row and row[0] and row[1])

    wait_for(enriched, timeout=60, what="the worker to enrich the journey", role=worker)
    store = MongoJourneyStore(migrated["MONGO_URL"], DATABASE, timeout_ms=3000)
    document = store.get(checkin_id)
    assert document is not None
    assert [stop["name"] for stop in document["stopovers"]] == ["Alexanderplatz", "Potsdam Hbf"]
    assert worker.stop(grace_periods()["worker"]) == 0
    messages = [line.get("message", "") for line in worker.json_lines()]
    assert any("succeeded" in m and "enrich_journey" in m for m in messages), worker.text()[-2000:]


def test_beat_starts_answers_its_probe_and_stops_on_sigterm(migrated, env_file, start):
    port = free_port()
    beat = start(env_file(TRAINY_METRICS_PORT=str(port)), "beat")
    probe = f"http://127.0.0.1:{port}/healthz"
    wait_for(answers(probe), timeout=60, what="beat's probe", role=beat)
    assert get(probe).json()["status"] == "ok"
    assert beat.stop(grace_periods()["beat"]) == 0
    assert "beat: Starting" in beat.text()


def test_roles_run_as_10001_on_a_read_only_root(image, env_file):
    probe = (
        "import os, pathlib\n"
        "print(os.getuid(), os.getgid(), os.getpid())\n"
        "for place in ('/app', '/opt/venv', '/var/tmp', '/tmp'):\n"
        "    try:\n"
        "        pathlib.Path(place, 'probe').write_text('x')\n"
        "        print(place, 'writable')\n"
        "    except OSError:\n"
        "        print(place, 'read-only')\n"
    )
    result = run_role(env_file(), "python", "-c", probe)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "10001 10001 1"
    assert lines[1:] == [
        "/app read-only",
        "/opt/venv read-only",
        "/var/tmp read-only",
        "/tmp writable",
    ]
