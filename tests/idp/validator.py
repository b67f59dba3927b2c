from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


def gitlab_claims(user: Any) -> dict[str, Any]:
    """The claims GitLab puts in its userinfo: groups are the full paths of the user's groups
    (this IdP's Django groups are named like GitLab's, e.g. "kbs610/admins")."""
    return {
        "name": user.get_full_name() or user.username,
        "nickname": user.username,
        "preferred_username": user.username,
        "email": user.email,
        "email_verified": True,
        "picture": f"https://gitlab.example.org/uploads/-/system/user/avatar/{user.pk}/avatar.png",
        "profile": f"https://gitlab.example.org/{user.username}",
        "groups": sorted(group.name for group in user.groups.all()),
    }


class GitLabValidator(OAuth2Validator):
    oidc_claim_scope = None  # every claim for every scope, as GitLab does

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        return gitlab_claims(request.user)
