"""Celery task metrics, recorded from Celery's signals in whichever process runs the task."""

from __future__ import annotations

import time
from typing import Any

from celery.signals import task_failure, task_postrun, task_prerun, task_retry

from trainy import metrics

ENRICHMENT_TASK = "checkins.tasks.enrich_journey"

# Start times by task id. A pool process runs one task at a time (prefork), so this holds one
# entry per process; an entry whose postrun never came (the process was killed) is overwritten
# by nothing and dies with the process.
_started: dict[str, float] = {}


def _eager(task: Any) -> bool:
    # Tasks run eagerly (no broker: `make run`) belong to the web request, not to a worker.
    return bool(getattr(getattr(task, "request", None), "is_eager", False))


@task_prerun.connect(dispatch_uid="trainy.metrics.task_prerun")
def _task_started(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    if task_id and not _eager(task):
        _started[task_id] = time.perf_counter()


@task_postrun.connect(dispatch_uid="trainy.metrics.task_postrun")
def _task_finished(
    task_id: str | None = None, task: Any = None, state: str | None = None, **kwargs: Any
) -> None:
    started = _started.pop(task_id or "", None)
    if started is None:
        return
    metrics.TASK_DURATION.labels(task=getattr(task, "name", "?"), state=state or "UNKNOWN").observe(
        time.perf_counter() - started
    )


@task_retry.connect(dispatch_uid="trainy.metrics.task_retry")
def _task_retried(sender: Any = None, reason: Any = None, **kwargs: Any) -> None:
    if getattr(sender, "name", None) == ENRICHMENT_TASK:
        metrics.enrichment_failed(outcome="retry", reason=_reason(reason))


@task_failure.connect(dispatch_uid="trainy.metrics.task_failure")
def _task_failed(sender: Any = None, exception: BaseException | None = None, **kwargs: Any) -> None:
    if getattr(sender, "name", None) == ENRICHMENT_TASK and not _eager(sender):
        metrics.enrichment_failed(outcome="failure", reason=_reason(exception))


def _reason(error: Any) -> str:
    # The exception's class (a bounded set of label values), never its message.
    original = getattr(error, "exc", None) or error
    return type(original).__name__ if isinstance(original, BaseException) else "unknown"
