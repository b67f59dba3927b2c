"""Figures read when /metrics is scraped: they live in PostgreSQL and RabbitMQ, not in a process.

Every web pod reports the same values (dashboards take ``max``). A scrape costs one indexed
query for the enrichment backlog (the partial index on unenriched check-ins), one for the feeds
and one passive queue declaration per queue; the answer is kept for ``CACHE_SECONDS`` so
several scrapers (or a scraper retrying) cost no more. A failing source is reported through
``trainy_metrics_source_up`` instead of failing the scrape.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from amqp.exceptions import NotFound
from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

CACHE_SECONDS = 15.0
# Counting stops here: a backlog this large is an outage, and its exact size costs a long scan.
BACKLOG_LIMIT = 100_000


def enrichment_backlog() -> Iterator[Metric]:
    from checkins.models import CheckIn

    pending = CheckIn.objects.filter(enriched_at__isnull=True)
    count = pending.values("id")[:BACKLOG_LIMIT].count()
    oldest = pending.aggregate(oldest=Min("created_at"))["oldest"]
    yield GaugeMetricFamily(
        "trainy_enrichment_backlog",
        f"Check-ins not enriched yet (counted up to {BACKLOG_LIMIT}).",
        value=count,
    )
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    yield GaugeMetricFamily(
        "trainy_enrichment_oldest_pending_seconds",
        "Age of the oldest check-in still waiting for its enrichment (0 when none waits).",
        value=max(0.0, age),
    )


def gtfs_imports() -> Iterator[Metric]:
    from checkins.timetable.models import Feed, FeedVersion

    duration = GaugeMetricFamily(
        "trainy_gtfs_import_duration_seconds",
        "How long the import of each feed's active timetable version took.",
        labels=["feed"],
    )
    activated = GaugeMetricFamily(
        "trainy_gtfs_import_timestamp_seconds",
        "When each feed's active timetable version was switched to (Unix time).",
        labels=["feed"],
    )
    for feed in Feed.objects.select_related("active_version").exclude(active_version=None):
        version = feed.active_version
        if version is None:
            continue
        if version.seconds is not None:
            duration.add_metric([feed.name], version.seconds)
        if version.activated_at is not None:
            activated.add_metric([feed.name], version.activated_at.timestamp())
    yield duration
    yield activated
    versions = GaugeMetricFamily(
        "trainy_gtfs_feed_versions",
        "Timetable versions kept, by status (a failed import leaves one marked failed).",
        labels=["status"],
    )
    for row in FeedVersion.objects.values("status").annotate(n=Count("id")).order_by("status"):
        versions.add_metric([row["status"]], row["n"])
    yield versions


def queue_depth() -> Iterator[Metric]:
    from trainy.celery import app

    messages = GaugeMetricFamily(
        "trainy_celery_queue_messages",
        "Messages ready in each Celery queue (not yet delivered to a worker).",
        labels=["queue"],
    )
    consumers = GaugeMetricFamily(
        "trainy_celery_queue_consumers", "Workers consuming each Celery queue.", labels=["queue"]
    )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # No broker: tasks run in the web process, nothing ever waits in a queue.
        yield messages
        yield consumers
        return
    with app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
        channel: Any = connection.default_channel
        for queue in app.amqp.queues.values():
            try:
                _, ready, consuming = channel.queue_declare(queue=queue.name, passive=True)
            except NotFound:
                # A queue no worker has declared yet; the broker closed the channel.
                channel = connection.channel()
                ready = consuming = 0
            messages.add_metric([queue.name], ready)
            consumers.add_metric([queue.name], consuming)
    yield messages
    yield consumers


SOURCES = {"backlog": enrichment_backlog, "gtfs": gtfs_imports, "queues": queue_depth}


class StateCollector(Collector):
    """The figures above, each source failing on its own, cached for CACHE_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: list[Metric] = []
        self._cached_at = -CACHE_SECONDS

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            if time.monotonic() - self._cached_at >= CACHE_SECONDS:
                self._cached = list(self._gather())
                self._cached_at = time.monotonic()
            return list(self._cached)

    def _gather(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "trainy_metrics_source_up",
            "Whether the last read of each source of these figures succeeded.",
            labels=["source"],
        )
        for name, source in SOURCES.items():
            try:
                gathered = list(source())
            except Exception:  # a dead source must not fail the whole scrape
                logger.warning("metrics source %s is unavailable", name, exc_info=True)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from gathered
        yield up

    def describe(self) -> Iterable[Metric]:
        # Registering must not query the database.
        return []
