"""A small HTTP server in Celery worker and beat processes: ``/healthz`` and ``/metrics``.

Kubernetes probes it instead of running ``celery inspect ping`` (a new Python process and a
broker round trip every period). The worker's event loop and beat's scheduler loop stamp a
heartbeat; ``/healthz`` answers 503 when the stamp is older than TRAINY_PROBE_STALE_SECONDS
while the broker accepts connections, i.e. when the loop is stuck for a reason of its own. While
the broker is down the loop waits in its reconnect, and restarting the pod would not help, so
that stale stamp still answers 200 (the broker outage shows on /readyz of the web pods).

The server is off unless TRAINY_METRICS_PORT is set (the container's entrypoint sets it for the
worker and beat roles), so test workers and a developer's `celery worker` open no port.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from celery import bootsteps
from celery.beat import PersistentScheduler
from celery.signals import beat_init
from django.conf import settings
from prometheus_client import CONTENT_TYPE_LATEST

from trainy.metrics.registry import process_metrics

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0


class Heartbeat:
    def __init__(self) -> None:
        self.last: float | None = None

    def touch(self) -> None:
        self.last = time.monotonic()

    def age(self) -> float | None:
        return None if self.last is None else time.monotonic() - self.last


heartbeat = Heartbeat()


def broker_reachable(timeout: float = 1.0) -> bool:
    """A TCP connect to the broker: cheap, and enough to tell "the broker is away" apart."""
    url = urlsplit(settings.CELERY_BROKER_URL)
    if not url.hostname:
        return True
    default_port = 6379 if url.scheme.startswith("redis") else 5672
    try:
        with socket.create_connection((url.hostname, url.port or default_port), timeout=timeout):
            return True
    except OSError:
        return False


def health() -> tuple[int, dict[str, Any]]:
    age = heartbeat.age()
    stale_after = settings.TRAINY_PROBE_STALE_SECONDS
    if age is not None and age <= stale_after:
        return 200, {"status": "ok", "heartbeat_age_s": round(age, 1)}
    if not broker_reachable():
        return 200, {"status": "waiting for the broker", "heartbeat_age_s": age}
    status = "starting" if age is None else "stalled"
    return 503, {"status": status, "heartbeat_age_s": age, "stale_after_s": stale_after}


class ProbeHandler(BaseHTTPRequestHandler):
    server_version = "trainy-probe"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/healthz":
            status, body = health()
            self._send(status, "application/json", json.dumps(body).encode())
        elif path == "/metrics":
            self._send(200, CONTENT_TYPE_LATEST, process_metrics())
        else:
            self._send(404, "text/plain", b"not found\n")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # Probes every few seconds would drown the logs.
        pass


def serve(port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("0.0.0.0", port), ProbeHandler)  # noqa: S104 -- a pod port
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="trainy-probe", daemon=True)
    thread.start()
    logger.info("probe and metrics server listening on port %s", port)
    return server


class WorkerProbe(bootsteps.StartStopStep):
    """Worker step: the heartbeat rides the worker's own timer, which runs in its event loop."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.server: ThreadingHTTPServer | None = None

    def include_if(self, worker: Any) -> bool:
        return bool(settings.TRAINY_METRICS_PORT)

    def start(self, worker: Any) -> None:
        # A first stamp as soon as the event loop runs, not one interval later: the probe says
        # "starting" (503) until then.
        worker.timer.call_after(0.1, heartbeat.touch)
        worker.timer.call_repeatedly(HEARTBEAT_SECONDS, heartbeat.touch)
        self.server = serve(settings.TRAINY_METRICS_PORT)

    def stop(self, worker: Any) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server = None


def install_worker_step() -> None:
    from trainy.celery import app

    app.steps["worker"].add(WorkerProbe)


class BeatScheduler(PersistentScheduler):
    """Celery beat's default scheduler, stamping the heartbeat on every tick."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        heartbeat.touch()
        return super().tick(*args, **kwargs)


@beat_init.connect(dispatch_uid="trainy.metrics.beat_init")
def _serve_beat_probe(**kwargs: Any) -> None:
    if settings.TRAINY_METRICS_PORT:
        serve(settings.TRAINY_METRICS_PORT)
