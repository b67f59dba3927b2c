"""Gunicorn's configuration for the `web` role (docker/entrypoint.sh).

Workers follow the CPUs the container may use (its cgroup quota, not the node's cores), timeouts
leave room for Kubernetes' grace period, and the access log is one JSON object per line in the
same shape as Trainy's own log lines (trainy/logging.py), ready for VictoriaLogs.
Every value can be overridden from the environment (names below).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]


def _load_redaction() -> Any:
    """trainy/redaction.py, loaded by its path: the master process never imports the
    application, and importing the ``trainy`` package would bring Celery and Django with it."""
    path = Path(__file__).resolve().parent.parent / "trainy" / "redaction.py"
    spec = importlib.util.spec_from_file_location("trainy_redaction_for_gunicorn", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# Calendar tokens in paths, query strings and referers, and passwords in URLs: never logged.
_redaction = _load_redaction()
redact = _redaction.redact


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def available_cpus() -> float:
    """CPUs this container may use: the cgroup v2 (or v1) quota, else the cores it sees."""
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]  # noqa: SIM115
        if quota != "max":
            return int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int(open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read())  # noqa: SIM115
        period_us = int(open("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read())  # noqa: SIM115
        if quota_us > 0:
            return quota_us / period_us
    except (OSError, ValueError):
        pass
    return float(len(os.sched_getaffinity(0)))


def default_workers() -> int:
    # Two processes per CPU, threads inside each for the time spent waiting on PostgreSQL,
    # Redis and the broker; at least 2 so one slow request never blocks the pod.
    return max(2, math.ceil(available_cpus() * 2))


bind = f"0.0.0.0:{_int('PORT', 8000)}"
workers = _int("WEB_CONCURRENCY", default_workers())
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
# A request that takes longer than this is killed (the worker is restarted).
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM, requests in flight get this long to finish; below the pod's grace period (30 s)
# so Kubernetes never has to SIGKILL a worker with requests in it.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
# Longer than the proxy's idle timeout towards the pod would be wasted; shorter would make the
# proxy reuse connections gunicorn has just closed.
keepalive = _int("GUNICORN_KEEPALIVE", 75)
# Workers are replaced now and then, so a slow leak never grows into an OOM kill.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# Heartbeat files of the workers: /tmp is a writable emptyDir (the root filesystem is not).
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/tmp")  # noqa: S108
# The proxy in front (the Gateway) sends X-Forwarded-*; Django decides what to trust
# (TRAINY_PROXY_SSL_HEADER), gunicorn leaves them alone.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proxy_allow_ips = forwarded_allow_ips
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
capture_output = False
control_socket_disable = True
# Probes and scrapes are logged only when they fail: one line per pod every few seconds would
# drown everything else.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RedactingLogger(Logger):
    """Gunicorn's logger, with secrets redacted from every field of the access log and from
    its own messages ("Error handling request /calendar/…", "Invalid request from …")."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.addFilter(_redaction.RedactSecretsFilter())

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            name: redact(value) if isinstance(value, str) else value
            for name, value in atoms.items()
        }


class JsonLogger(RedactingLogger):
    """Gunicorn's logger with JSON lines: access records and gunicorn's own messages."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.syslog):
            return
        status = int(str(resp.status).split()[0]) if resp.status else 0
        if req.path in QUIET_PATHS and status < 400:
            return
        headers = dict(resp.headers)
        request_id = next(
            (value for name, value in headers.items() if name.lower() == "x-request-id"), "-"
        )
        path = redact(req.path)
        record = {
            "timestamp": _timestamp(),
            "level": "INFO",
            "logger": "gunicorn.access",
            "message": f"{req.method} {path} {status}",
            "request_id": request_id,
            "method": req.method,
            "path": path,
            "query": redact(req.query),
            "status": status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            # The client as Trainy worked it out behind the proxies (trainy/proxies.py: the
            # application rewrites REMOTE_ADDR in this same environ), and the proxy it came from.
            "remote_addr": environ.get("REMOTE_ADDR", ""),
            "peer_addr": environ.get("TRAINY_PEER_ADDR", environ.get("REMOTE_ADDR", "")),
            "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR", ""),
            "user_agent": environ.get("HTTP_USER_AGENT", ""),
            "referer": redact(environ.get("HTTP_REFERER", "")),
            "protocol": environ.get("SERVER_PROTOCOL", ""),
        }
        try:
            self.access_log.info(json.dumps(record, ensure_ascii=False))
        except Exception:  # noqa: BLE001 -- a log line must never fail a request
            self.exception("failed to write an access log line")

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)

        # Gunicorn's own messages ("Booting worker …") as JSON lines too.
        class GunicornJsonFormatter(logging.Formatter):
            def format(self, record: logging.LogRecord) -> str:
                data = {
                    "timestamp": datetime.fromtimestamp(record.created, UTC)
                    .isoformat(timespec="milliseconds")
                    .replace("+00:00", "Z"),
                    "level": record.levelname,
                    "logger": record.name,
                    "message": record.getMessage(),
                    "request_id": "-",
                }
                if record.exc_info:
                    data["exc_info"] = self.formatException(record.exc_info)
                elif record.exc_text:
                    data["exc_info"] = record.exc_text
                return json.dumps(data, ensure_ascii=False)

        for handler in self.error_log.handlers:
            handler.setFormatter(GunicornJsonFormatter())
        for handler in self.access_log.handlers:
            handler.setFormatter(logging.Formatter("%(message)s"))


# JSON unless the deployment asked for text logs (LOG_FORMAT, as for Django's own lines).
_json_logs = os.environ.get("LOG_FORMAT", "json").strip().lower() == "json"
logger_class: type[Logger] = JsonLogger if _json_logs else RedactingLogger


def child_exit(server: Any, worker: Any) -> None:
    # The metrics files of a worker that has exited stay (its counters still count); this
    # drops its live gauges.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def when_ready(server: Any) -> None:
    server.log.info(
        "serving on %s with %s workers x %s threads (%.1f CPUs)",
        bind,
        workers,
        threads,
        available_cpus(),
    )
