"""Cache generations: a named counter in the cache that every cached entry of its kind puts in
its key. A change moves the generation on, after it commits, and the entries of the old one are
never read again (they expire on their own), so nothing has to find and delete them.

A generation is one for the whole site (``Generation("feed")``) or one per scope, such as a
traveller's id (``Generation("stats").current(user.pk)``).

The cache may be down: Trainy's Redis cache reports an outage as a miss and ignores the write
(``DJANGO_REDIS_IGNORE_EXCEPTIONS``), so a generation reads as 0 then, moving it on does
nothing, and the entries built meanwhile are not kept either.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db import transaction

Scope = int | str | None


class Generation:
    def __init__(self, name: str) -> None:
        self.name = name

    def _counter(self, scope: Scope) -> str:
        return f"{self.name}:generation" if scope is None else f"{self.name}:generation:{scope}"

    def current(self, scope: Scope = None) -> int:
        return int(cache.get(self._counter(scope), 0))

    def key(self, *parts: object, scope: Scope = None) -> str:
        """A cache key of the current generation: ``name[:scope]:generation:parts…``."""
        prefix = self.name if scope is None else f"{self.name}:{scope}"
        return ":".join([prefix, str(self.current(scope)), *map(str, parts)])

    def move_on(self, scope: Scope = None) -> None:
        """Start a new generation now (see ``changed`` for a change inside a transaction)."""
        try:
            cache.incr(self._counter(scope))
        except ValueError:  # not there yet (or evicted): any new value differs from the old
            cache.set(self._counter(scope), time.time_ns(), None)

    def changed(self, scope: Scope = None) -> None:
        """Say that what this generation's entries show changed: a new generation starts when
        the transaction commits (so no reader caches the old state again in between), or at
        once outside one."""

        def move_on() -> None:
            self.move_on(scope)

        # Named after the generation, so that a list of on-commit callbacks says what each does.
        move_on.__name__ = move_on.__qualname__ = f"_next_{self.name}_generation"
        transaction.on_commit(move_on)


# Every cached feed page and profile: a journey added, edited, deleted or made private, a
# follow, block, mute or like, a name, an avatar, a traveller's settings, a private profile or a
# blocked sign-in changes what they show, so check-ins, accounts and the feed all call
# FEED.changed() (feed.selectors keeps its pages under it).
FEED = Generation("feed")

# One per traveller (scope: the user's id): their statistics are cached until one of their
# journeys changes, so every service that changes a journey calls STATS.changed(user_id)
# (stats.selectors keeps the figures under it).
STATS = Generation("stats")
