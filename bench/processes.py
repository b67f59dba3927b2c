"""The processes a benchmark starts (gunicorn, Celery workers): waiting for one to listen, and
stopping it."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path


def wait_until_listening(
    process: subprocess.Popen, host: str, port: int, *, timeout: float, log: Path
) -> None:
    """Returns once gunicorn (the process) accepts connections on the port; exits the benchmark
    if it ends first or does not listen within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start, see {log}") from None
            time.sleep(0.2)


def stop(process: subprocess.Popen, *, timeout: float) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within ``timeout`` seconds."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
