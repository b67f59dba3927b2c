"""How sign-in through GitLab creates and updates Trainy accounts (allauth's adapter)."""

from __future__ import annotations

import logging
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render
from django.utils import timezone

from trainy.accounts.gitlab import GitLabIdentity, apply_gitlab_identity, identity
from trainy.accounts.models import User

logger = logging.getLogger(__name__)


def _identity(sociallogin: Any) -> GitLabIdentity:
    # allauth keeps both: the ID token's claims (groups_direct) and the userinfo (groups).
    data = sociallogin.account.extra_data or {}
    return identity(id_token=data.get("id_token") or {}, userinfo=data.get("userinfo") or {})


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        gitlab = _identity(sociallogin)
        if not gitlab.allowed:
            allowed = settings.TRAINY_GITLAB_ALLOWED_GROUPS
            logger.info("gitlab sign-in refused for %s: not in %s", gitlab.username, allowed)
            raise ImmediateHttpResponse(
                render(request, "socialaccount/refused.html", {"groups": allowed}, status=403)
            )
        if sociallogin.is_existing:
            user = sociallogin.user
            if not user.is_active:
                return  # allauth shows its "account inactive" page
        elif sociallogin.state.get("process") == "connect" and request.user.is_authenticated:
            # A local account linked to GitLab: from now on GitLab gives (and takes back) its
            # admin rights, and it is re-checked like any GitLab account.
            user = request.user
        else:
            return  # a new account: populate_user applies the identity
        user.save(update_fields=apply_gitlab_identity(user, gitlab, now=timezone.now()))

    def populate_user(self, request: HttpRequest, sociallogin: Any, data: dict[str, Any]) -> Any:
        user = super().populate_user(request, sociallogin, data)
        gitlab = _identity(sociallogin)
        if gitlab.username and not User.objects.filter(username=gitlab.username).exists():
            user.username = gitlab.username
        apply_gitlab_identity(user, gitlab, now=timezone.now())
        return user

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        # GitLab decides who exists (and TRAINY_GITLAB_ALLOWED_GROUPS who may come in).
        return True
