from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "site_name": settings.TRAINY_SITE_NAME,
        "local_accounts": settings.TRAINY_LOCAL_ACCOUNTS,
        "gitlab_enabled": bool(settings.GITLAB_CLIENT_ID),
    }
