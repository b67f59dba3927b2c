"""Celery entry points of the stats app (queue ``exports``, see CELERY_TASK_ROUTES)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from stats.selectors import leaderboards_refresh
from stats.services import export_fail, export_run, exports_expire
from trainy.celery import FILE_TASK
from trainy.tasks import RecordsFailure


class ExportTask(RecordsFailure):
    """Marks the export failed once the task gives up (a bug, or an outage outlasting the
    retries), so its page says so instead of showing a bar that never moves."""

    subject = "export_id"

    def record_failure(self, subject_id: Any, exc: BaseException) -> None:
        export_fail(
            export_id=subject_id,
            error="The export failed; please try again. If it fails again, tell the admins.",
        )


@shared_task(base=ExportTask, **FILE_TASK)
def run_export(export_id: int) -> None:
    export_run(export_id=export_id)


@shared_task(ignore_result=True)
def refresh_leaderboards() -> int:
    """Periodic (Celery beat, every LEADERBOARD_SECONDS): make the kept leaderboards afresh,
    so that no page waits for one."""
    return leaderboards_refresh()


@shared_task(acks_late=True, ignore_result=True)
def expire_exports() -> int:
    """Periodic (Celery beat): delete archives past their expiry."""
    return exports_expire()
