"""Trainy's own Prometheus metrics, beside django-prometheus's request metrics.

Services call the small functions below (``checkin_created``, ``journey_enriched``); Celery
task durations and enrichment failures are recorded from Celery's signals (``trainy.metrics.
tasks``), and figures that live in PostgreSQL or RabbitMQ (enrichment backlog, queue depth,
GTFS import durations) are read when ``/metrics`` is scraped (``trainy.metrics.collectors``).

In production every process writes its counters to files in ``PROMETHEUS_MULTIPROC_DIR`` (set
by the container's entrypoint), so the gunicorn workers' and the Celery pool processes' figures
are added up by whichever process answers the scrape. Without it (``make run``, tests) they stay
in the process's default registry.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import Counter, Histogram

if TYPE_CHECKING:
    from checkins.models import CheckIn

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # The client writes each metric's file there from the first metric on.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

CHECKINS_CREATED = Counter(
    "trainy_checkins_created",
    "Journeys checked in, by mode and whether they came from the timetable.",
    ["mode", "source"],
)
ENRICHMENT_LAG = Histogram(
    "trainy_enrichment_lag_seconds",
    "Time from a check-in to its enrichment (the journey document and summary written).",
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600),
)
ENRICHMENT_FAILURES = Counter(
    "trainy_enrichment_failures",
    "Enrichment attempts that failed: retried (an outage) or given up.",
    ["outcome", "reason"],
)
TASK_DURATION = Histogram(
    "trainy_celery_task_duration_seconds",
    "Run time of Celery tasks in the workers, by task and final state.",
    ["task", "state"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)


def checkin_created(checkin: CheckIn) -> None:
    """Count a recorded journey. Call once its row is saved."""
    source = "timetable" if checkin.trip_id else "manual"
    CHECKINS_CREATED.labels(mode=checkin.mode, source=source).inc()


def journey_enriched(checkin: CheckIn, *, enriched_at: datetime) -> None:
    """Record how long a journey waited for its first enrichment. Call once the summary is
    written, before ``checkin.enriched_at`` is updated: a journey enriched again (new real
    times) has waited for nothing and is not counted."""
    if checkin.enriched_at is None:
        ENRICHMENT_LAG.observe(max(0.0, (enriched_at - checkin.created_at).total_seconds()))


def enrichment_failed(*, outcome: str, reason: str) -> None:
    """Count a failed enrichment attempt: ``outcome`` is "retry" or "failure"."""
    ENRICHMENT_FAILURES.labels(outcome=outcome, reason=reason).inc()
