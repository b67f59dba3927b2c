"""Per-traveller cache generations: a traveller's statistics are cached until one of their
journeys changes; changing one moves their generation on, and the old entries are never read
again (they expire on their own)."""

from __future__ import annotations

from trainy.generations import Generation

# One generation per traveller (scope: the user's id).
STATS_GENERATION = Generation("stats")


def stats_changed(user_id: int) -> None:
    """Say that the traveller's journeys changed; takes effect when the transaction commits
    (so no reader caches the old figures again in between)."""
    STATS_GENERATION.changed(user_id)
