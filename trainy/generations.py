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
from contextvars import ContextVar
from typing import Any

from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import transaction

Scope = int | str | None

# The counters read during the current request. A feed page asks for the feed generation three
# times (its kept copy, the kept newest journeys, the demo check), each a round trip to the
# cache; read once, the page is built from one generation throughout. Only inside a request:
# a task or a command reads the cache every time, as nothing would ever forget for it.
_read: ContextVar[dict[str, int] | None] = ContextVar("generations_read", default=None)


def _start_reading(**kwargs: Any) -> None:
    _read.set({})


def _stop_reading(**kwargs: Any) -> None:
    _read.set(None)


request_started.connect(_start_reading, dispatch_uid="trainy.generations.start")
request_finished.connect(_stop_reading, dispatch_uid="trainy.generations.stop")


class Generation:
    def __init__(self, name: str) -> None:
        self.name = name

    def _counter(self, scope: Scope) -> str:
        return f"{self.name}:generation" if scope is None else f"{self.name}:generation:{scope}"

    def current(self, scope: Scope = None) -> int:
        counter = self._counter(scope)
        read = _read.get()
        if read is None:
            return int(cache.get(counter, 0))
        if counter not in read:
            read[counter] = int(cache.get(counter, 0))
        return read[counter]

    def key(self, *parts: object, scope: Scope = None) -> str:
        """A cache key of the current generation: ``name[:scope]:generation:parts…``."""
        prefix = self.name if scope is None else f"{self.name}:{scope}"
        return ":".join([prefix, str(self.current(scope)), *map(str, parts)])

    def move_on(self, scope: Scope = None) -> None:
        """Start a new generation now (see ``changed`` for a change inside a transaction)."""
        read = _read.get()
        if read is not None:  # this request's own change: read what comes after it
            read.pop(self._counter(scope), None)
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

# The leaderboards (stats.selectors.leaderboard): moved with FEED by every change that may take
# a journey, points or a traveller off a board or change how a traveller is shown on it, but
# not by a new journey, which a kept board takes in within a minute. Check-ins are by far the
# most frequent change; a board made afresh for each would add up a month of everyone's
# journeys once per check-in.
RANKS = Generation("ranks")
