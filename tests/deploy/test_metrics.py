"""Trainy's own metrics (trainy/metrics): what services, Celery signals and scrapes record."""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY

from trainy import metrics
from trainy.metrics import collectors, probes, tasks
from trainy.metrics.registry import exposition


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_checkin_is_counted_by_mode_and_source():
    before = sample("trainy_checkins_created_total", mode="regional", source="timetable")
    metrics.checkin_created(SimpleNamespace(mode="regional", trip_id="ICE-1"))
    metrics.checkin_created(SimpleNamespace(mode="regional", trip_id=""))
    assert (
        sample("trainy_checkins_created_total", mode="regional", source="timetable") == before + 1
    )
    assert sample("trainy_checkins_created_total", mode="regional", source="manual") >= 1


def test_only_the_first_enrichment_of_a_journey_counts_as_lag():
    created = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    count = sample("trainy_enrichment_lag_seconds_count")
    total = sample("trainy_enrichment_lag_seconds_sum")
    first = SimpleNamespace(created_at=created, enriched_at=None)
    metrics.journey_enriched(first, enriched_at=created + dt.timedelta(seconds=3))
    again = SimpleNamespace(created_at=created, enriched_at=created + dt.timedelta(seconds=3))
    metrics.journey_enriched(again, enriched_at=created + dt.timedelta(hours=5))
    assert sample("trainy_enrichment_lag_seconds_count") == count + 1
    assert sample("trainy_enrichment_lag_seconds_sum") == pytest.approx(total + 3)


def test_task_durations_and_enrichment_failures_come_from_celerys_signals():
    task = SimpleNamespace(
        name="checkins.tasks.enrich_journey", request=SimpleNamespace(is_eager=False)
    )
    labels = {"task": "checkins.tasks.enrich_journey", "state": "SUCCESS"}
    before = sample("trainy_celery_task_duration_seconds_count", **labels)
    tasks._task_started(task_id="t1", task=task)
    time.sleep(0.01)
    tasks._task_finished(task_id="t1", task=task, state="SUCCESS")
    assert sample("trainy_celery_task_duration_seconds_count", **labels) == before + 1
    assert sample("trainy_celery_task_duration_seconds_sum", **labels) >= 0.01

    failures = {"outcome": "retry", "reason": "ConnectionError"}
    before = sample("trainy_enrichment_failures_total", **failures)
    tasks._task_retried(sender=task, reason=ConnectionError("down"))
    tasks._task_retried(sender=SimpleNamespace(name="stats.tasks.export"), reason=ConnectionError())
    assert sample("trainy_enrichment_failures_total", **failures) == before + 1
    tasks._task_failed(sender=task, exception=ValueError("bad"))
    assert sample("trainy_enrichment_failures_total", outcome="failure", reason="ValueError") >= 1


def test_eager_tasks_are_not_timed_as_worker_tasks():
    task = SimpleNamespace(name="x.eager", request=SimpleNamespace(is_eager=True))
    tasks._task_started(task_id="e1", task=task)
    tasks._task_finished(task_id="e1", task=task, state="SUCCESS")
    assert sample("trainy_celery_task_duration_seconds_count", task="x.eager", state="SUCCESS") == 0


@pytest.mark.django_db
def test_a_scrape_survives_a_dead_source_and_says_which(monkeypatch):
    def broken():
        raise ConnectionError("broker away")
        yield  # pragma: no cover

    monkeypatch.setitem(collectors.SOURCES, "queues", broken)
    collector = collectors.StateCollector()
    families = {family.name: family for family in collector.collect()}
    up = {s.labels["source"]: s.value for s in families["trainy_metrics_source_up"].samples}
    assert up == {"backlog": 1, "gtfs": 1, "queues": 0}
    assert families["trainy_enrichment_backlog"].samples[0].value == 0


@pytest.mark.django_db
def test_metrics_are_for_the_cluster_only(client, settings):
    assert client.get("/metrics").status_code == 200
    assert b"trainy_metrics_source_up" in client.get("/metrics").content
    # Through the Gateway (it adds X-Forwarded-For): not there.
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 404
    settings.TRAINY_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200


def test_probes_answer_for_a_pod_ip_host(client):
    # The kubelet sends the pod's IP as Host, which ALLOWED_HOSTS does not list.
    assert client.get("/healthz", HTTP_HOST="10.42.0.17:8000").status_code == 200
    assert client.get("/", HTTP_HOST="10.42.0.17:8000").status_code == 400


def test_worker_health_fails_only_when_stuck_with_the_broker_reachable(monkeypatch, settings):
    settings.TRAINY_PROBE_STALE_SECONDS = 60
    beat = probes.Heartbeat()
    monkeypatch.setattr(probes, "heartbeat", beat)
    monkeypatch.setattr(probes, "broker_reachable", lambda: True)
    assert probes.health()[0] == 503  # not started yet
    beat.touch()
    status, body = probes.health()
    assert (status, body["status"]) == (200, "ok") and body["heartbeat_age_s"] < 5
    beat.last = time.monotonic() - 120
    status, body = probes.health()
    assert (status, body["status"]) == (503, "stalled")
    monkeypatch.setattr(probes, "broker_reachable", lambda: False)
    status, body = probes.health()
    assert (status, body["status"]) == (200, "waiting for the broker")


def test_the_exposition_of_the_web_pods_includes_the_state_read_at_scrape(db):
    text = exposition(include_state=True).decode()
    assert "trainy_enrichment_backlog" in text
    assert "trainy_enrichment_backlog" not in exposition(include_state=False).decode()
