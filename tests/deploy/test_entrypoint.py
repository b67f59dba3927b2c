"""The image's roles, run from docker/entrypoint.sh on this machine (there is no Docker engine):
the same script, gunicorn config and commands as in the container, against the real services.

They use a database of their own (trainy_deploy, made afresh by the fixture) and, on the
harness's RabbitMQ vhost, a queue of their own, so they never touch other tests' data.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

import psycopg
import pytest

from tests.conftest import require_service
from tests.deploy.tooling import ROOT

pytestmark = pytest.mark.services

ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
DATABASE = "trainy_deploy"
FEED = ROOT.parent / "shared" / "data" / "gtfs" / "db-fv-2019" / "gtfs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    try:
        with urlopen(Request(url, headers=headers or {}), timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def wait_for(check: Callable[[], object], *, timeout: float, what: str, process=None) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process exited ({process.returncode}) while waiting for {what}")
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


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


@pytest.fixture(scope="module")
def role_env(tmp_path_factory) -> dict[str, str]:
    database_url = recreate_database(require_service("postgres"))
    require_service("rabbitmq")
    require_service("redis")
    tmp = tmp_path_factory.mktemp("roles")
    return {
        **os.environ,
        "PYTHON": sys.executable,
        "DATABASE_URL": database_url,
        # As in production (DEBUG off, JSON logs), minus TLS and collected static files.
        "DEBUG": "false",
        "SECRET_KEY": "role-test-" + uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "TRAINY_HTTPS": "false",
        "TRAINY_STATIC_MANIFEST": "false",
        "LOG_FORMAT": "json",
        "MONGO_DB": DATABASE,
        "CACHE_KEY_PREFIX": f"trainy-deploy-{uuid.uuid4().hex[:8]}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prometheus"),
        "TMPDIR": str(tmp),
        "GUNICORN_WORKER_TMP_DIR": str(tmp),
        "CELERY_BEAT_SCHEDULE_FILE": str(tmp / "celerybeat-schedule"),
    }


def run_role(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ENTRYPOINT), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


class Role:
    """A long-running role in a session of its own, stopped with SIGTERM like a pod."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [str(ENTRYPOINT), *args],
                cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text()

    def json_lines(self) -> list[dict]:
        lines = []
        for line in self.text().splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
        return lines

    def stop(self, timeout: float = 40) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            pytest.fail(f"the role ignored SIGTERM for {timeout:.0f} s:\n{self.text()[-3000:]}")


@pytest.fixture
def start(tmp_path) -> Iterator[Callable[..., Role]]:
    roles: list[Role] = []

    def starter(env: dict[str, str], *args: str) -> Role:
        role = Role(env, tmp_path / f"{args[0]}-{len(roles)}.log", *args)
        roles.append(role)
        return role

    yield starter
    for role in roles:
        if role.process.poll() is None:
            role.stop()


@pytest.fixture(scope="module")
def migrated(role_env) -> dict[str, str]:
    result = run_role(role_env, "migrate")
    assert result.returncode == 0, result.stdout + result.stderr
    return role_env


def test_migrate_applies_everything_then_nothing(role_env):
    first = run_role(role_env, "migrate")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Applying feed.0001_initial... OK" in first.stdout
    again = run_role(role_env, "migrate")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No migrations to apply." in again.stdout


def test_import_gtfs_imports_a_feed_and_needs_a_source(migrated):
    result = run_role(
        migrated, "import-gtfs", str(FEED), "--name", "deploy-test", "--verbosity", "1"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Imported feed 'deploy-test'" in result.stdout
    # The import's duration is what /metrics reports for the feed.
    command = (
        "from trainy.metrics.registry import exposition as e; print(e(include_state=True).decode())"
    )
    exposition = run_role(migrated, "manage", "shell", "-c", command)
    assert re.search(
        r'trainy_gtfs_import_duration_seconds\{feed="deploy-test"\} [0-9.]+', exposition.stdout
    ), exposition.stdout[-2000:] + exposition.stderr[-2000:]
    usage = run_role(migrated, "import-gtfs")
    assert usage.returncode == 64
    assert "usage: import-gtfs URL_OR_PATH" in usage.stderr


def test_web_serves_answers_readyz_and_exposes_metrics(migrated, start):
    port = free_port()
    web = start({**migrated, "PORT": str(port), "WEB_CONCURRENCY": "2"}, "web")
    base = f"http://127.0.0.1:{port}"
    wait_for(
        lambda: get(f"{base}/healthz")[0] == 200, timeout=60, what="/healthz", process=web.process
    )

    status, body = get(f"{base}/readyz")
    assert status == 200, body
    assert json.loads(body)["components"]["database"]["status"] == "ok"
    assert get(f"{base}/")[0] == 200

    # Scrapers address the pod by IP, which is in no ALLOWED_HOSTS.
    status, metrics = get(f"{base}/metrics", {"Host": "10.42.0.17:8000"})
    assert status == 200
    assert "django_http_requests_total_by_method_total" in metrics
    assert re.search(r'trainy_metrics_source_up\{source="backlog"\} 1\.0', metrics)
    assert re.search(r'trainy_metrics_source_up\{source="queues"\} 1\.0', metrics)
    assert re.search(r'trainy_celery_queue_messages\{queue="enrichment"\}', metrics)
    assert re.search(r'trainy_metrics_source_up\{source="gtfs"\} 1\.0', metrics)
    # … but what came through the Gateway never sees them.
    assert get(f"{base}/metrics", {"X-Forwarded-For": "203.0.113.9"})[0] == 404
    # A calendar feed's token is the key to it: in no log line, gunicorn's or Django's.
    token = secrets.token_urlsafe(32)
    calendar = f"{base}/calendar/{token}.ics"
    assert get(f"{calendar}?period=all", {"Referer": calendar})[0] == 404

    assert web.stop() == 0
    assert token not in web.text()
    assert "Not Found: /calendar/[redacted]" in web.text()
    access = [line for line in web.json_lines() if line.get("logger") == "gunicorn.access"]
    # Probes and scrapes are logged only when they fail (the 404 above).
    assert [(line["path"], line["status"]) for line in access] == [
        ("/", 200),
        ("/metrics", 404),
        ("/calendar/[redacted]", 404),
    ]
    line = access[0]
    assert line["status"] == 200 and line["method"] == "GET" and line["duration_ms"] >= 0
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    assert any("Booting worker" in line.get("message", "") for line in web.json_lines())


def test_worker_consumes_a_task_from_its_queues_and_answers_its_probe(migrated, start):
    from kombu import Queue

    from trainy.celery import app

    queue = f"trainy-deploy-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {**migrated, "CELERY_QUEUES": queue, "CELERY_CONCURRENCY": "1",
           "TRAINY_METRICS_PORT": str(port)}  # fmt: skip
    worker = start(env, "worker")
    probe = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: get(f"{probe}/healthz")[0] == 200 and "ok" in get(f"{probe}/healthz")[1],
            timeout=90, what="the worker's heartbeat", process=worker.process,
        )  # fmt: skip
        app.send_task("checkins.tasks.sweep_enrichment", queue=queue, routing_key=queue)
        done = re.compile(
            r'trainy_celery_task_duration_seconds_count\{state="SUCCESS",'
            r'task="checkins.tasks.sweep_enrichment"\} 1\.0'
        )
        wait_for(
            lambda: done.search(get(f"{probe}/metrics")[1]),
            timeout=60, what="the task to be consumed", process=worker.process,
        )  # fmt: skip
        assert worker.stop() == 0
        messages = [line.get("message", "") for line in worker.json_lines()]
        assert any("succeeded" in m and "sweep_enrichment" in m for m in messages), worker.text()[
            -2000:
        ]
    finally:
        with app.connection_for_write() as connection:
            Queue(queue, routing_key=queue)(connection.default_channel).delete()


def test_beat_starts_and_answers_its_probe(migrated, start):
    port = free_port()
    beat = start({**migrated, "TRAINY_METRICS_PORT": str(port)}, "beat")
    status_and_body = wait_for(
        lambda: (lambda r: r if r[0] == 200 else None)(get(f"http://127.0.0.1:{port}/healthz")),
        timeout=60, what="beat's probe", process=beat.process,
    )  # fmt: skip
    assert json.loads(status_and_body[1])["status"] == "ok"
    # Stopped before its first periodic task is due (60 s): nothing is sent.
    assert beat.stop() == 0
    assert "beat: Starting" in beat.text()
