"""Journeys taken out of sight: made private (by an admin, or by age as their traveller asked)
or deleted in bulk by an admin."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from checkins.models import CheckIn, Visibility
from checkins.services.checkins import checkin_delete
from trainy.accounts.models import User
from trainy.generations import FEED, RANKS, STATS

logger = logging.getLogger(__name__)


@transaction.atomic
def checkins_make_private(*, checkin_ids: list[int]) -> int:
    """Make these journeys private (an admin's moderation); returns how many changed."""
    rows = list(
        CheckIn.objects.select_for_update()
        .filter(id__in=checkin_ids)
        .exclude(visibility=Visibility.PRIVATE)
        .values_list("id", "user_id")
    )
    if not rows:
        return 0
    CheckIn.objects.filter(id__in=[pk for pk, _ in rows]).update(
        visibility=Visibility.PRIVATE, updated_at=timezone.now()
    )
    _made_private(user_ids={user_id for _, user_id in rows})
    return len(rows)


def journeys_make_private_by_age(*, users: list[User] | None = None) -> int:
    """Make private the journeys older than their traveller's "private after N days" setting
    (all such travellers, or ``users``: the periodic task, and a traveller who changed the
    setting). Returns how many journeys changed."""
    travellers = users or User.objects.filter(private_after_days__isnull=False)
    now = timezone.now()
    changed = 0
    changed_users: set[int] = set()
    for traveller in travellers:
        if traveller.private_after_days is None:
            continue
        cutoff = now - timedelta(days=traveller.private_after_days)
        # One UPDATE per traveller: their own cutoff, and no list of ids to carry around.
        count = (
            CheckIn.objects.filter(user=traveller, arrival_planned__lt=cutoff)
            .exclude(visibility=Visibility.PRIVATE)
            .update(visibility=Visibility.PRIVATE, updated_at=now)
        )
        if count:
            changed += count
            changed_users.add(traveller.pk)
    if changed:
        _made_private(user_ids=changed_users)
        logger.info("made %d journeys private by age", changed)
    return changed


def _made_private(*, user_ids: set[int]) -> None:
    """What follows journeys made private, however: feeds and the travellers' statistics are
    let go after the commit."""
    FEED.changed()
    RANKS.changed()
    for user_id in user_ids:
        STATS.changed(user_id)


@transaction.atomic
def checkins_delete(*, checkin_ids: list[int]) -> int:
    """Delete these journeys and their documents (see checkin_delete); returns how many."""
    checkins = list(CheckIn.objects.select_for_update().filter(id__in=checkin_ids))
    for checkin in checkins:
        checkin_delete(checkin=checkin)
    return len(checkins)
