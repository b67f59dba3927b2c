"""The claims of the test GitLab, split between the ID token and the userinfo as GitLab splits
them (docs.gitlab.com, integration/openid_connect_provider, "Shared information"): "The claims
sub, sub_legacy, email, email_verified and groups_direct are included in the ID token. All other
claims are available from the /oauth/userinfo endpoint."

Groups are this IdP's Django groups, named by their full paths as on GitLab ("kbs610/admins");
a group exists once it is made (idp_setup --create-groups) or someone is put in it. A user's
Django groups are their direct memberships."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.models import Group
from django.db.models import Q
from oauth2_provider.oauth2_validators import OAuth2Validator


def groups_direct(user: Any) -> list[str]:
    """GitLab's "groups_direct": "Paths for the groups the user is a direct member of"."""
    return sorted(group.name for group in user.groups.all())


def groups(user: Any) -> list[str]:
    """GitLab's "groups": "Paths for the groups the user is a member of, either directly or
    through an ancestor group": the direct groups and every existing descendant of them (a
    member of kbs610 is listed in kbs610/admins too)."""
    direct = groups_direct(user)
    if not direct:
        return []
    within = Q(name__in=direct)
    for path in direct:
        within |= Q(name__startswith=path + "/")
    return sorted(Group.objects.filter(within).values_list("name", flat=True))


def id_token_claims(user: Any) -> dict[str, Any]:
    """What GitLab adds to its ID token (django-oauth-toolkit adds sub, iss, aud, exp, iat,
    auth_time and nonce itself)."""
    return {
        "sub_legacy": hashlib.sha256(f"legacy-{user.pk}".encode()).hexdigest(),
        "email": user.email,
        "email_verified": True,
        "groups_direct": groups_direct(user),
    }


def userinfo_claims(user: Any) -> dict[str, Any]:
    """GitLab's /oauth/userinfo: every claim but groups_direct."""
    return {
        "sub": str(user.pk),
        "sub_legacy": hashlib.sha256(f"legacy-{user.pk}".encode()).hexdigest(),
        "name": user.get_full_name() or user.username,
        "nickname": user.username,
        "preferred_username": user.username,
        "email": user.email,
        "email_verified": True,
        "website": "",
        "profile": f"https://gitlab.example.org/{user.username}",
        "picture": f"https://gitlab.example.org/uploads/-/system/user/avatar/{user.pk}/avatar.png",
        "groups": groups(user),
    }


class GitLabValidator(OAuth2Validator):
    """django-oauth-toolkit's validator, answering as GitLab does.

    On the refresh-token grant GitLab (doorkeeper-openid_connect) sends a new ID token when the
    openid scope was granted, and a new refresh token (the old one is spent). The grant
    django-oauth-toolkit runs does both already: oauthlib's OpenID Connect RefreshTokenGrant
    adds an ID token when "openid" is among the scopes (RequestValidator.refresh_id_token is
    True unless overridden), and ROTATE_REFRESH_TOKEN is on by default. So neither is
    overridden here."""

    oidc_claim_scope = None  # every claim for every scope, as GitLab does

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        # Used for the ID token only, since get_userinfo_claims below answers the userinfo.
        return id_token_claims(request.user)

    def get_userinfo_claims(self, request: Any) -> dict[str, Any]:
        return userinfo_claims(request.user)

    # A blocked GitLab user "cannot access the API" (GitLab's docs on blocking users), so the
    # userinfo answers their access token with 401. The refresh-token grant checks the token,
    # not its owner (doorkeeper's, as django-oauth-toolkit's): it is left as it is, so a block
    # shows at the userinfo while a revoked access shows at the token endpoint (invalid_grant).
    # A blocked user is an inactive Django user here (idp_setup --block).

    def validate_bearer_token(self, token: str, scopes: Any, request: Any) -> bool:
        valid = super().validate_bearer_token(token, scopes, request)
        return bool(valid and request.user.is_active)
