from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from feed.selectors import unread_count


def notifications(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's unread notification count, read only if a template shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(recipient=user))}
