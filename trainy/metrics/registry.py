"""What a scrape returns: every process's metrics, and the state read at scrape time."""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

from trainy.metrics.collectors import StateCollector

_state = CollectorRegistry(auto_describe=False)
_state.register(StateCollector())


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def process_metrics() -> bytes:
    """Counters and histograms of every process of this pod (or of this process alone)."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def exposition(*, include_state: bool) -> bytes:
    """The text a scrape gets. ``include_state`` adds the database and broker figures, which
    only the web pods report (one query set per scrape of a web pod, none per worker)."""
    text = process_metrics()
    if include_state:
        text += generate_latest(_state)
    return text
