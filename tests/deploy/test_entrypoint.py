"""docker/entrypoint.sh outside the image: the command line each role builds (with $PYTHON, the
script's own override, standing in for the interpreter), and a real worker started by it with the
threads pool, as the chart's webhooks worker runs, answering its probe.

(tests/deploy/test_image_roles.py runs every role from the built image.)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from tests.conftest import require_service, stop_process, wait_for
from tests.deploy.tooling import CHART, ROOT, one, render

ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"


def argv(tmp_path: Path, *args: str, **env: str) -> list[str]:
    """The arguments the entrypoint hands to $PYTHON for ``args``, with ``env`` set."""
    record = tmp_path / "argv"
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    fake.chmod(0o755)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "PROMETHEUS"))}
    subprocess.run(
        [str(ENTRYPOINT), *args],
        env={**clean, **env, "PYTHON": str(fake), "APP_DIR": str(ROOT)},
        check=True, timeout=30,
    )  # fmt: skip
    return record.read_text().splitlines()


def option(arguments: list[str], name: str) -> str:
    return arguments[arguments.index(name) + 1]


def test_the_worker_role_passes_the_pool_and_its_size(tmp_path):
    arguments = argv(tmp_path, "worker", CELERY_POOL="threads", CELERY_CONCURRENCY="16")
    assert arguments[:4] == ["-m", "celery", "-A", "trainy"]
    assert option(arguments, "--pool") == "threads"
    assert option(arguments, "--concurrency") == "16"


def test_the_worker_role_uses_the_prefork_pool_unless_told(tmp_path):
    arguments = argv(tmp_path, "worker")
    assert option(arguments, "--pool") == "prefork"
    assert "--concurrency" not in arguments
    assert option(arguments, "--queues") == "default,enrichment,exports,webhooks"


def test_each_chart_worker_starts_with_its_queues_pool_and_threads(tmp_path):
    """The chart's environment of each worker, through the entrypoint, makes the command line
    meant: the webhooks worker a threads pool on `webhooks` alone."""
    docs = render(CHART / "ci" / "defaults-values.yaml")
    expected = {
        "trainy-worker": ("default,enrichment,exports", "prefork", "2"),
        "trainy-webhooks-worker": ("webhooks", "threads", "16"),
    }
    for name, (queues, pool, concurrency) in expected.items():
        (container,) = one(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
        arguments = argv(tmp_path, *container["args"], **env)
        assert option(arguments, "--queues") == queues, name
        assert option(arguments, "--pool") == pool, name
        assert option(arguments, "--concurrency") == concurrency, name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(port: int) -> dict | None:
    """The probe's answer once it says "ok" (200 "waiting for the broker" is not enough: it
    would be said while another test has stopped RabbitMQ, heartbeat or not)."""
    try:
        answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    except requests.RequestException:
        return None
    body = answer.json() if answer.status_code == 200 else {}
    return body if body.get("status") == "ok" else None


@pytest.mark.services
def test_a_threads_pool_worker_answers_its_probe_and_stops_warmly(tmp_path):
    """The probe's heartbeat rides the worker's event loop, which a threads pool has as a
    prefork pool does: /healthz says "ok" with a fresh heartbeat. The worker consumes a queue of
    its own, so it takes no task of other tests sharing the broker."""
    broker = require_service("rabbitmq")
    queue = f"probe-test-{uuid.uuid4().hex[:12]}"
    port = free_port()
    log = tmp_path / "worker.log"
    env = {
        **os.environ, "PYTHON": sys.executable, "APP_DIR": str(ROOT),
        "CELERY_QUEUES": queue, "CELERY_POOL": "threads", "CELERY_CONCURRENCY": "4",
        "CELERY_HOSTNAME": f"{queue}@%h", "TRAINY_METRICS_PORT": str(port),
    }  # fmt: skip
    with log.open("w") as output:
        worker = subprocess.Popen(
            [str(ENTRYPOINT), "worker"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        status = wait_for(
            lambda: healthy(port) or worker.poll() is not None,
            timeout=90,
            message="the worker's probe",
        )
        assert worker.poll() is None, log.read_text()[-3000:]
        assert isinstance(status, dict) and status["heartbeat_age_s"] < 15, status
        assert "concurrency: 4 (thread)" in log.read_text()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log.read_text()[-3000:]
        assert "Warm shutdown" in log.read_text()
    finally:
        if worker.poll() is None:
            stop_process(worker, timeout=10)
        from kombu import Connection

        with Connection(broker) as connection:
            connection.default_channel.queue_delete(queue)
            connection.default_channel.exchange_delete(queue)
