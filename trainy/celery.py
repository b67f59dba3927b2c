"""The Celery application: configured from Django settings (the CELERY_* names)."""

import os
from typing import Any

from celery import Celery, states
from celery.signals import task_postrun, task_prerun
from django.db import InterfaceError, OperationalError, close_old_connections, connections

from trainy.documents import DocumentStoreUnavailable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trainy.settings")

app = Celery("trainy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# What a task retries on: the database or the document store being away for a while. Anything
# else (a programming error, say a missing column) must fail and say so, not retry for hours.
OUTAGES = (DocumentStoreUnavailable, OperationalError, InterfaceError)
# How a task on one row rides out an outage of what it needs: retried with growing, jittered
# waits (up to 5 min) for about half an hour, and acknowledged only once it is done, so a worker
# lost mid-task leaves the message to another.
OUTAGE_RETRIES: dict[str, Any] = {
    "autoretry_for": OUTAGES,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 12,
    "acks_late": True,
}
# A task making or reading one traveller's file (an export, an import): retried through
# outages for about ten minutes (someone is watching its progress bar), with room for large
# files past the default time limits.
FILE_TASK: dict[str, Any] = {
    "autoretry_for": OUTAGES,
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
    "ignore_result": True,
    "soft_time_limit": 900,
    "time_limit": 960,
}


# Celery's Django fixup closes every database connection before and after each task (unless
# CELERY_DB_REUSE_MAX is set), because a task cut off mid-query can leave a connection that
# Django still takes for usable. Connecting to PostgreSQL costs more than enriching a journey,
# so the settings turn that off and workers keep connections the way the web processes do:
# checked before reuse, and dropped after any task that did not succeed, the one case where a
# query may have been interrupted.


def _eager(task: Any) -> bool:
    # An eager task runs inside the caller's request or transaction: hands off its connection.
    return bool(getattr(getattr(task, "request", None), "is_eager", False))


@task_prerun.connect
def _check_connections(task: Any = None, **kwargs: Any) -> None:
    if not _eager(task):
        # As at the start of a web request: CONN_MAX_AGE and CONN_HEALTH_CHECKS apply.
        close_old_connections()


@task_postrun.connect
def _drop_connections_after_failure(
    task: Any = None, state: str | None = None, **kwargs: Any
) -> None:
    if not _eager(task) and state != states.SUCCESS:
        for connection in connections.all(initialized_only=True):
            connection.close()
