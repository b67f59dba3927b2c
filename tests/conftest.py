"""Shared fixtures: travellers, the real services and their control, a real Celery worker."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection, connections

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
SERVICES_SCRIPT = ROOT / "scripts" / "services"
# Real feeds staged beside the repository (never copied into it).
GTFS_DATA = ROOT.parent / "shared" / "data" / "gtfs"
DB_FEED = GTFS_DATA / "db-fv-2019" / "gtfs"
MTA_FEED = GTFS_DATA / "mta-nyct-subway-2026" / "gtfs.zip"
SERVICE_URLS = {
    "postgres": "DATABASE_URL",
    "redis": "REDIS_URL",
    "rabbitmq": "CELERY_BROKER_URL",
    "ferretdb": "MONGO_URL",
}


# --- Travellers (alice owns, bob is another signed-in user, charlie is a third) and the admin --


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", display_name="Alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", display_name="Bob")


@pytest.fixture
def charlie(db):
    return UserFactory(username="charlie", display_name="Charlie")


@pytest.fixture
def root(db):
    """A superuser, for the admin's pages."""
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, root):
    """The test client signed in as ``root`` (in place of pytest-django's ``admin_client``)."""
    client.force_login(root)
    return client


# --- The real services ---------------------------------------------------------------------------


def require_service(name: str) -> str:
    """The URL of a real service; a test that needs it fails (never skips) when it is unset."""
    variable = SERVICE_URLS[name]
    url = os.environ.get(variable)
    if not url:
        pytest.fail(
            f"{variable} is not set: this test needs the real {name} server "
            '(run it through `make test`, or `eval "$(scripts/services env)"` first)'
        )
    return url


def drop_database(server: Any, name: str) -> None:
    """DROP DATABASE ``name`` on ``server`` (a psycopg connection in autocommit). Plain first:
    PostgreSQL stops an autovacuum worker that has just started on a new database itself,
    while WITH (FORCE) refuses to terminate it for a role that is not its superuser's ("must
    be a member of the role whose process is being terminated"). FORCE only when sessions of
    ours are still open on it."""
    import psycopg

    try:
        server.execute(f'DROP DATABASE IF EXISTS "{name}"')
    except psycopg.errors.ObjectInUse:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def full_stack() -> dict[str, str]:
    return {name: require_service(name) for name in SERVICE_URLS}


class ServiceControl:
    """Stops and starts the real services through the harness, restoring them afterwards."""

    def __init__(self) -> None:
        self.stopped: list[str] = []

    def _run(self, *args: str) -> None:
        subprocess.run([str(SERVICES_SCRIPT), *args], check=True, capture_output=True, timeout=180)

    def stop(self, name: str) -> None:
        require_service(name)
        self.stopped.append(name)
        self._run("stop", name)

    def start(self, name: str) -> None:
        self._run("start", name)
        if name in self.stopped:
            self.stopped.remove(name)
        if name == "postgres":
            # The test process's own connections died with the server.
            for connection in connections.all():
                connection.close()

    def restore(self) -> None:
        for name in list(self.stopped):
            self.start(name)


@pytest.fixture
def services() -> Iterator[ServiceControl]:
    control = ServiceControl()
    try:
        yield control
    finally:
        control.restore()


def configure_gitlab(settings: Any) -> None:
    """GitLab sign-in configured (a GitLab that is never asked: for pages that only offer or
    refuse it), as an administrator sets GITLAB_CLIENT_ID and the provider."""
    settings.GITLAB_CLIENT_ID = "trainy-client"
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [{"provider_id": "gitlab", "name": "GitLab", "client_id": "trainy-client",
                      "secret": "s3cret", "settings": {"server_url": "https://git.example.edu"}}],
        }
    }  # fmt: skip


def wait_for(predicate: Callable[[], object], *, timeout: float, message: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {message}")


# --- A real Celery worker on the test database ------------------------------------------------


WORKER_APPLICATION_NAME = "trainy-test-worker"


def worker_command(name: str) -> list[str]:
    """A Celery worker like production's: prefork with one child, consuming every queue."""
    return [
        sys.executable, "-m", "celery", "-A", "trainy", "worker",
        "-Q", "default,enrichment,exports,webhooks", "--concurrency", "1",
        "--without-gossip", "--without-mingle", "-l", "info", "-n", f"{name}@%h",
    ]  # fmt: skip


def worker_environment() -> dict[str, str]:
    """A worker's environment: the test database, and sessions named for teardown to find.
    Call with database access unblocked."""
    return {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "PGAPPNAME": WORKER_APPLICATION_NAME,
        # The tests serve feeds from 127.0.0.1; that such an address is refused by default is
        # tested in the test process (tests/trainy/test_fetch.py, the import tests).
        "TRAINY_IMPORT_ALLOW_PRIVATE": "true",
        # Likewise the webhook receivers (tests/receiver.py; refusal: tests/feed/test_webhooks.py).
        "TRAINY_WEBHOOKS_ALLOW_PRIVATE": "true",
    }


def _test_database_url() -> str:
    parts = urlsplit(require_service("postgres"))
    test_name = connections["default"].settings_dict["NAME"]
    return parts._replace(path=f"/{test_name}").geturl()


@pytest.fixture(scope="session")
def celery_worker(
    django_db_setup, django_db_blocker, tmp_path_factory
) -> Iterator[subprocess.Popen]:
    """A worker process consuming every queue, connected to the test database.

    Tests that use it must be transactional (`django_db(transaction=True)`): the worker only
    sees committed rows.
    """
    require_service("rabbitmq")
    from trainy.celery import app

    with django_db_blocker.unblock():
        # PGAPPNAME names the worker's database sessions, so teardown can wait for just them.
        env = worker_environment()
    with app.connection_for_write() as conn:
        # Declared exactly as the worker declares them, then emptied of earlier runs' messages.
        for queue in app.amqp.queues.values():
            bound = queue(conn.default_channel)
            bound.declare()
            bound.purge()
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    with log.open("w") as output:
        worker = subprocess.Popen(
            worker_command("tests"),
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(
            lambda: "ready" in log.read_text() or worker.poll() is not None,
            timeout=60,
            message="the Celery worker to start",
        )
        if worker.poll() is not None:
            pytest.fail(f"the Celery worker exited:\n{log.read_text()[-3000:]}")
        yield worker
    finally:
        stop_process(worker, timeout=20)
        with django_db_blocker.unblock():
            # Dropping the test database at the end of the session fails while the worker's
            # backend is still on its way out.
            try:
                wait_for_sessions_to_end(
                    WORKER_APPLICATION_NAME, message="the worker's database session to end"
                )
            finally:
                connection.close()


def stop_process(process: subprocess.Popen, *, timeout: float, group: bool = False) -> None:
    """SIGTERM the process (with ``group``, its whole process group), then SIGKILL it if it has
    not exited within ``timeout`` seconds."""

    def send(sig: signal.Signals) -> None:
        if group:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)

    send(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait(timeout=timeout)


def wait_for_sessions_to_end(application_name: str, *, message: str) -> None:
    """Waits until no PostgreSQL session of that name is left on the test database: PostgreSQL
    ends a dead client's backend asynchronously, and the database cannot be flushed or dropped
    cleanly while one is still there."""

    def gone() -> bool:
        with connection.cursor() as cursor:
            # This test database's only: test runs beside this one have workers of their own.
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = %s AND datname = current_database()",
                [application_name],
            )
            return cursor.fetchone()[0] == 0

    wait_for(gone, timeout=15, message=message)


@pytest.fixture(scope="session", autouse=True)
def _cache_of_this_run() -> Iterator[None]:
    """Cache keys of this test run only: Redis outlives test databases, whose ids start again
    at 1, so a statistics entry cached by an earlier run for "user 5" would be served to this
    run's user 5."""
    import copy
    import uuid

    from django.conf import settings
    from django.test import override_settings

    prefix = f"trainy-test-{uuid.uuid4().hex[:12]}"
    os.environ["CACHE_KEY_PREFIX"] = prefix  # for the worker processes tests start
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = prefix
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(scope="session", autouse=True)
def _no_documents_of_earlier_runs() -> None:
    """The document database outlives test databases, whose ids start again at 1: a journey
    document an earlier (or interrupted) run left for "journey 1" would be read as this run's."""
    from django.conf import settings

    from trainy.documents import DocumentStoreError, MongoJourneyStore

    url = os.environ.get("MONGO_URL")
    if not url or "test" not in settings.MONGO_DB:
        return
    # Without the server, the tests that need it fail on their own, saying so.
    with contextlib.suppress(DocumentStoreError):
        MongoJourneyStore(url, settings.MONGO_DB, timeout_ms=3000).drop_all()


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Passwords hashed with one cheap round: Django's default (PBKDF2, a million iterations)
    costs a third of a second per traveller made or signed in, and no test is about the hash."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _fresh_feed_cache() -> None:
    """Each test starts a new feed generation: a front page cached by an earlier test (whose
    rows were rolled back without telling the cache) is never served to it. The same for the
    leaderboards' kept boards."""
    from feed.selectors import FEED_GENERATION
    from trainy.generations import RANKS

    FEED_GENERATION.move_on()
    RANKS.move_on()


@pytest.fixture(scope="session", autouse=True)
def _no_sessions_left_at_the_end(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Before the test database is dropped, end the sessions other threads left on it: the live
    server's request threads keep their persistent connections (CONN_MAX_AGE) until the
    browser's keep-alive sockets close, which can be after the drop is tried."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
