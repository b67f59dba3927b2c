"""Celery entry points of the stats app (queue ``exports``, see CELERY_TASK_ROUTES)."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from stats.services import export_fail, export_run
from trainy.celery import OUTAGES

logger = logging.getLogger(__name__)


class ExportTask(Task):
    """Marks the export failed once the task gives up (a bug, or an outage outlasting the
    retries), so its page says so instead of showing a bar that never moves."""

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        export_id = (args or [None])[0] or kwargs.get("export_id")
        try:
            export_fail(
                export_id=export_id,
                error="The export failed; please try again. If it fails again, tell the admins.",
            )
        except (OperationalError, InterfaceError):
            logger.exception("export %s failed and could not be marked failed", export_id)


@shared_task(
    base=ExportTask,
    autoretry_for=OUTAGES,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
    acks_late=True,
    ignore_result=True,
    # Large exports take longer than the default limits allow a task.
    soft_time_limit=900,
    time_limit=960,
)
def run_export(export_id: int) -> None:
    export_run(export_id=export_id)
