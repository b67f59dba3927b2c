from __future__ import annotations

from django.db.models import QuerySet

from checkins.models import CheckIn, Visibility
from checkins.selectors import Viewer, checkins_visible_to

FEED_VISIBILITIES = (Visibility.PUBLIC, Visibility.AUTHENTICATED)


def global_feed(*, viewer: Viewer, limit: int = 30) -> QuerySet[CheckIn]:
    """Everyone's journeys that belong in a feed, newest first.

    Built on checkins_visible_to, then narrowed: unlisted journeys are reachable by link only,
    and the owner's private ones stay on their own pages.
    """
    return checkins_visible_to(viewer).filter(visibility__in=FEED_VISIBILITIES)[:limit]
