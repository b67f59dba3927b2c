from typing import Any

from django.apps import AppConfig


class FeedConfig(AppConfig):
    name = "feed"

    def ready(self) -> None:
        # The accounts app tells of what it changes; it does not import the feed (STYLE.md 6a).
        from feed.services.social import follow_requests_accept_all
        from trainy.accounts.signals import profile_made_public

        def accept_waiting_follows(sender: Any, user: Any, **kwargs: Any) -> None:
            follow_requests_accept_all(owner=user)

        profile_made_public.connect(
            accept_waiting_follows, weak=False, dispatch_uid="feed.accept_waiting_follows"
        )
