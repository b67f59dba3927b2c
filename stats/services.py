"""Writes of the stats app: exports made in the background, and the calendar-feed token."""

from __future__ import annotations

import logging
import secrets
import tempfile
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from checkins.models import CheckIn
from stats.exports import SPOOL_BYTES, ExportOptions, export_chunks
from stats.exports.archive import archive_write
from stats.exports.options import ARCHIVE, ARCHIVE_FORMAT
from stats.exports.selectors import export_source
from stats.models import Export
from trainy.accounts.models import User
from trainy.services import model_update
from trainy.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

# Exports of more journeys than this are made by a Celery task; smaller ones answer at once.
DIRECT_LIMIT = 2000
# Finished files are kept in the database; each traveller keeps this many of the newest.
KEEP_EXPORTS = 10
# Progress is written at most this often (rows): each write is an UPDATE.
PROGRESS_EVERY = 250


@transaction.atomic
def export_create(*, owner: User, options: ExportOptions, rows_total: int) -> Export:
    """Record an export to be made in the background and queue its task once committed.

    The owner's older exports beyond the newest KEEP_EXPORTS go (files are not kept forever).
    """
    export = Export(
        user=owner,
        format=options.format,
        options=options.to_json(),
        rows_total=rows_total,
        filename=options.filename(owner.username),
        content_type=options.kind.content_type,
    )
    export.full_clean()
    export.save()
    keep = Export.objects.filter(user=owner).order_by("-created_at", "-id")[:KEEP_EXPORTS]
    Export.objects.filter(user=owner).exclude(
        id__in=list(keep.values_list("id", flat=True))
    ).delete()

    return _queued(export)


def _queued(export: Export) -> Export:
    """Queue the export's task once the transaction commits."""
    from stats.tasks import run_export  # imported here: the tasks module imports this one

    def refused(export_ids: list[int], error: BrokerUnavailable) -> None:
        # Said on the export's page rather than left queued for ever.
        export_fail(
            export_id=export.id,
            error="The export could not be started; please try again in a few minutes.",
        )

    enqueue_on_commit(run_export, [export.id], on_refused=refused)
    return export


@transaction.atomic
def archive_create(*, owner: User, by: User | None = None) -> Export:
    """Record the traveller's archive (all their data, stats.exports.archive) to be made in
    the background, and queue its task once committed. It expires ARCHIVE_KEEP_DAYS after it
    is made. One already under way is answered instead of a second. ``by``: the admin who
    asked on the traveller's behalf; the archive names them, and the log says so."""
    unfinished = (
        Export.objects.filter(user=owner, format=ARCHIVE)
        .filter(status__in=[Export.Status.QUEUED, Export.Status.RUNNING])
        .defer("content")
        .first()
    )
    if unfinished is not None:
        return unfinished
    options = {"period": "all"}  # everything, of all time
    if by is not None and by.pk != owner.pk:
        options["made_by"] = by.username
    export = Export(
        user=owner,
        format=ARCHIVE,
        options=options,
        rows_total=CheckIn.objects.filter(user=owner).count(),
        filename=f"trainy-archive-{owner.username}-{timezone.localdate():%Y-%m-%d}.zip",
        content_type=ARCHIVE_FORMAT.content_type,
    )
    export.full_clean()
    export.save()
    if "made_by" in options:
        logger.info(
            "archive %s of traveller %s asked for by admin %s",
            export.id,
            owner.pk,
            options["made_by"],
        )
    return _queued(export)


def export_run(*, export_id: int) -> Export | None:
    """Make the export's file and store it on the row. Idempotent: a finished export is left
    alone, and one cut off mid-way (a worker killed, the task delivered again) starts over.

    Not atomic: progress is committed as it goes, so the page polling it sees it move.
    Errors are raised to the task, which retries outages and marks the export failed when it
    gives up.
    """
    export = Export.objects.filter(id=export_id).select_related("user").defer("content").first()
    if export is None or export.status == Export.Status.DONE:
        return export
    Export.objects.filter(id=export.id).update(status=Export.Status.RUNNING, rows_done=0, error="")

    def progress(done: int) -> None:
        Export.objects.filter(id=export.id).update(rows_done=done)

    expires_at = None
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as out:
        if export.format == ARCHIVE:
            total = archive_write(export.user, out, progress)
            expires_at = timezone.now() + timedelta(days=settings.TRAINY_ARCHIVE_KEEP_DAYS)
        else:
            source = export_source(
                owner=export.user, options=ExportOptions.from_json(export.options)
            )
            total = source.count()
            Export.objects.filter(id=export.id).update(rows_total=total)
            source.progress = progress
            source.every = PROGRESS_EVERY
            for chunk in export_chunks(source):
                out.write(chunk)
        out.seek(0)
        content = out.read()
    Export.objects.filter(id=export.id).update(
        status=Export.Status.DONE,
        rows_done=total,
        rows_total=total,
        content=content,
        finished_at=timezone.now(),
        expires_at=expires_at,
    )
    logger.info(
        "export %s: %s, %d journeys, %d bytes", export.id, export.format, total, len(content)
    )
    # None if its owner deleted it meanwhile (a newer export pushed it out).
    return Export.objects.defer("content").filter(id=export.id).first()


def exports_expire() -> int:
    """Delete the exports past their expiry (archives); how many there were."""
    deleted, _ = Export.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


def export_fail(*, export_id: int, error: str) -> None:
    """Mark the export failed, with a message for its owner."""
    Export.objects.filter(id=export_id).exclude(status=Export.Status.DONE).update(
        status=Export.Status.FAILED, error=error[:1000], finished_at=timezone.now()
    )


def calendar_token_renew(*, user: User) -> str:
    """Give the traveller's calendar feed a new secret URL; the old one stops working."""
    model_update(instance=user, data={"calendar_token": secrets.token_urlsafe(32)})
    return user.calendar_token


def calendar_token_revoke(*, user: User) -> None:
    """Turn the traveller's calendar feed off: its URL answers 404 from now on."""
    model_update(instance=user, data={"calendar_token": ""})
