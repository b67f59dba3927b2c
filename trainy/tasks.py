"""What every Celery task of Trainy shares: recording a failure on the row the task works on,
and queueing a task after the transaction that wrote its row, with one policy for a broker
that refuses it.

The broker policy (RabbitMQ down, or refusing, at the moment of queueing):

- The write that asked for the task stands: it has committed, and is not undone or turned
  into an error page for the person who made it.
- The row says it was not queued: ``on_refused`` marks it (a journey's "queued" mark is
  cleared so that the sweeper queues it again; an import or export is marked failed with a
  message that asks its owner to start it again). What the person sees comes from that row.
- The refusal is logged as a warning. ``on_refused`` may raise to a caller who is there to
  tell a person at once (the admin's "enrich again" action) or to fail a periodic task.
- Queueing stops at the first refusal: each attempt waits for the broker's timeout, and the
  rest would be refused too. ``on_refused`` gets the ids not queued.
- Any other error of publishing (a task run in-process, without a broker, that failed) is
  logged, not raised: the task's own ``on_failure`` has recorded it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from celery import Task
from django.db import InterfaceError, OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger(__name__)

# Called with the ids not queued (the refused one and those after it) and the broker's error.
OnRefused = Callable[[list[int], BrokerUnavailable], None]


class RecordsFailure(Task):
    """A task on one row (its first argument, named ``subject``) that records on the row why
    it gave up: after its last retry, or at once for an error that retrying cannot mend. Not
    called for a worker lost mid-task: that message is delivered again.

    Subclasses say how, in ``record_failure``. If the database itself is away, the failure
    cannot be recorded: it is logged, and the row stays as it was (for enrichment, the sweeper
    tries the journey again later), which is the best that can be done then.
    """

    # The name of the task's argument that holds the row's id.
    subject = "id"

    def record_failure(self, subject_id: Any, exc: BaseException) -> None:
        raise NotImplementedError

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        subject_id = args[0] if args else (kwargs or {}).get(self.subject)
        try:
            self.record_failure(subject_id, exc)
        except (OperationalError, InterfaceError):
            logger.exception("%s of %s failed and could not be recorded", self.name, subject_id)


def enqueue(task: Task, ids: Sequence[int], *, on_refused: OnRefused) -> None:
    """Queue ``task(id)`` for each of ``ids`` now, under the broker policy above. Callers
    outside a transaction (the sweeper, a periodic task) use this; the others
    enqueue_on_commit."""
    ids = list(ids)
    for position, subject_id in enumerate(ids):
        try:
            task.delay(subject_id)
        except BrokerUnavailable as error:
            logger.warning(
                "%s: %d not queued (from %s on), the broker refused: %s",
                task.name,
                len(ids) - position,
                subject_id,
                error,
            )
            on_refused(ids[position:], error)
            return
        except Exception:
            # Run in-process (no broker configured) and failed: recorded by its on_failure.
            logger.exception("%s of %s failed when run in-process", task.name, subject_id)


def enqueue_on_commit(task: Task, ids: Sequence[int], *, on_refused: OnRefused) -> None:
    """Queue ``task(id)`` for each of ``ids`` once the current transaction commits (at once
    outside one), under the broker policy above: the worker must find the rows as the caller
    left them, and a rolled-back write queues nothing."""
    ids = list(ids)
    transaction.on_commit(lambda: enqueue(task, ids, on_refused=on_refused))
