"""Celery entry points of the accounts app."""

from __future__ import annotations

from celery import shared_task

from trainy.accounts.services import accounts_delete_due
from trainy.celery import OUTAGE_RETRIES


@shared_task(**OUTAGE_RETRIES, ignore_result=True)
def delete_due_accounts() -> int:
    """Periodic (Celery beat): delete the accounts whose grace period has ended. An outage of
    the document store or the database is retried: no account goes while its journeys'
    documents cannot be deleted."""
    return accounts_delete_due()
