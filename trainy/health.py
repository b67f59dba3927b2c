"""Liveness and readiness.

``/healthz`` answers as long as the process can serve a request; it touches no dependency, so a
database outage never makes Kubernetes restart healthy pods. ``/readyz`` checks every backing
service and answers 503 when a required one (settings.READYZ_REQUIRED) is down.

``/readyz`` is for the kubelet only, like ``/metrics``: through the Gateway it is a 404. Its body
says of each component only its status, backend kind and latency; why a component is down (an
exception naming hosts, ports, users) goes to the log, with passwords in URLs redacted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from trainy.celery import app as celery_app
from trainy.documents import journey_store
from trainy.proxies import cluster_only
from trainy.redaction import redact

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ComponentStatus:
    status: str  # "ok", "down" or "embedded"
    backend: str
    latency_ms: float
    # Why it is down: for the log only, never for the response.
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "backend": self.backend,
            "latency_ms": round(self.latency_ms, 1),
        }


def _timed(backend: str, probe: Callable[[], str | None]) -> ComponentStatus:
    started = time.perf_counter()
    try:
        status = probe() or "ok"
    except Exception as exc:  # noqa: BLE001 -- any failure of a probe means "down"
        elapsed = (time.perf_counter() - started) * 1000
        error = redact(f"{exc.__class__.__name__}: {exc}")[:300]
        return ComponentStatus("down", backend, elapsed, error)
    return ComponentStatus(status, backend, (time.perf_counter() - started) * 1000)


def check_database() -> ComponentStatus:
    def probe() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    return _timed(connection.vendor, probe)


def check_cache() -> ComponentStatus:
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.startswith("django_redis"):
        # The cache API swallows Redis errors by design (DJANGO_REDIS_IGNORE_EXCEPTIONS), so ask
        # the client directly.
        from django_redis import get_redis_connection

        return _timed("redis", lambda: get_redis_connection("default").ping() and None)

    def probe() -> str:
        cache.set("trainy:readyz", "1", 5)
        return "embedded"

    return _timed("locmem", probe)


def check_broker() -> ComponentStatus:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return ComponentStatus("embedded", "eager (tasks run in-process)", 0.0)

    def probe() -> None:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)

    return _timed("amqp", probe)


def check_documents() -> ComponentStatus:
    store = journey_store()

    def probe() -> str | None:
        store.ping()
        return "embedded" if store.backend == "sql" else None

    return _timed(store.backend, probe)


CHECKS: dict[str, Callable[[], ComponentStatus]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "documents": check_documents,
}


def _in_thread(check: Callable[[], ComponentStatus]) -> ComponentStatus:
    try:
        return check()
    finally:
        # Django connections are per thread; one opened here (the SQL document store) would
        # otherwise outlive the pool's thread.
        connections.close_all()


def readiness() -> tuple[bool, dict[str, ComponentStatus]]:
    """Run every check at once (each has a short timeout), database in this thread."""
    others = {name: check for name, check in CHECKS.items() if name != "database"}
    with ThreadPoolExecutor(max_workers=len(others)) as pool:
        futures = {name: pool.submit(_in_thread, check) for name, check in others.items()}
        results = {"database": check_database()}
        results |= {name: future.result() for name, future in futures.items()}
    ready = all(results[name].status != "down" for name in settings.READYZ_REQUIRED)
    _log_changes(results)
    return ready, results


# The error last logged for each component that is down, in this process. The kubelet asks
# every few seconds: an outage is logged when it starts or its cause changes, and when it ends.
_logged_errors: dict[str, str] = {}


def _log_changes(results: dict[str, ComponentStatus]) -> None:
    for name, result in results.items():
        if result.status == "down" and _logged_errors.get(name) != result.error:
            _logged_errors[name] = result.error
            logger.warning("readyz: %s (%s) is down: %s", name, result.backend, result.error)
        elif result.status != "down" and _logged_errors.pop(name, None) is not None:
            logger.info("readyz: %s (%s) is back", name, result.backend)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@cluster_only("TRAINY_READYZ_PUBLIC")
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    ready, results = readiness()
    down = sorted(name for name, result in results.items() if result.status == "down")
    body = {
        "status": "ok" if not down else ("degraded" if ready else "unavailable"),
        "down": down,
        "components": {name: result.as_dict() for name, result in results.items()},
    }
    return JsonResponse(body, status=200 if ready else 503)
