"""How sign-in through GitLab creates and updates Trainy accounts (allauth's adapter)."""

from __future__ import annotations

import logging
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render

from feed.gitlab import GitLabIdentity, identity, member_of_any, member_within_any
from feed.models import User

logger = logging.getLogger(__name__)


def _claims(sociallogin: Any) -> dict[str, Any]:
    data = sociallogin.account.extra_data or {}
    # allauth keeps the userinfo and the ID token; GitLab's userinfo has the groups.
    return {**(data.get("id_token") or {}), **(data.get("userinfo") or {})}


def apply_gitlab_identity(user: User, gitlab: GitLabIdentity) -> None:
    """Name, avatar and admin rights as GitLab says now (rights are GitLab's to give and to
    take back: a member who left the admin group loses them at this sign-in)."""
    user.display_name = gitlab.name or user.display_name
    user.avatar_url = gitlab.avatar_url or user.avatar_url
    admin = member_of_any(gitlab.groups, settings.TRAINY_GITLAB_ADMIN_GROUPS)
    if admin != user.is_staff or admin != user.is_superuser:
        logger.info("gitlab sign-in: %s %s admin rights", gitlab.username,
                    "gets" if admin else "loses")  # fmt: skip
    user.is_staff = user.is_superuser = admin


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        gitlab = identity(_claims(sociallogin))
        allowed = settings.TRAINY_GITLAB_ALLOWED_GROUPS
        if allowed and not member_within_any(gitlab.groups, allowed):
            logger.info("gitlab sign-in refused for %s: not in %s", gitlab.username, allowed)
            raise ImmediateHttpResponse(
                render(request, "socialaccount/refused.html", {"groups": allowed}, status=403)
            )
        if sociallogin.is_existing:
            user = sociallogin.user
            if not user.is_active:
                return  # allauth shows its "account inactive" page
            apply_gitlab_identity(user, gitlab)
            user.save(update_fields=["display_name", "avatar_url", "is_staff", "is_superuser"])

    def populate_user(self, request: HttpRequest, sociallogin: Any, data: dict[str, Any]) -> Any:
        user = super().populate_user(request, sociallogin, data)
        gitlab = identity(_claims(sociallogin))
        if gitlab.username and not User.objects.filter(username=gitlab.username).exists():
            user.username = gitlab.username
        apply_gitlab_identity(user, gitlab)
        return user

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        # GitLab decides who exists (and TRAINY_GITLAB_ALLOWED_GROUPS who may come in).
        return True
