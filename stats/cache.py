"""Per-traveller cache generations: a traveller's statistics are cached until one of their
journeys changes; changing one moves their generation on, and the old entries are never read
again (they expire on their own)."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db import transaction


def _key(user_id: int) -> str:
    return f"stats:generation:{user_id}"


def stats_generation(user_id: int) -> int:
    return cache.get(_key(user_id), 0)


def stats_changed(user_id: int) -> None:
    """Say that the traveller's journeys changed; takes effect when the transaction commits
    (so no reader caches the old figures again in between)."""
    transaction.on_commit(lambda: _next(user_id))


def _next(user_id: int) -> None:
    try:
        cache.incr(_key(user_id))
    except ValueError:  # not there yet (or evicted): any new value differs from the old
        cache.set(_key(user_id), time.time_ns(), None)
