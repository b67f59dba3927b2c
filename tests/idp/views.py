from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from oauth2_provider.decorators import protected_resource

from tests.idp.validator import userinfo_claims


@protected_resource(scopes=["read_user"])
def api_user(request: HttpRequest) -> JsonResponse:
    """GitLab's GET /api/v4/user, with the fields its clients read."""
    user = request.resource_owner  # type: ignore[attr-defined]
    claims = userinfo_claims(user)
    return JsonResponse(
        {
            "id": user.pk,
            "username": user.username,
            "name": claims["name"],
            "email": user.email,
            "avatar_url": claims["picture"],
            "web_url": claims["profile"],
            "state": "active",
        }
    )
