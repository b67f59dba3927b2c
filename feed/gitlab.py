"""What Trainy reads from GitLab at sign-in: identity and group memberships (OpenID Connect
userinfo). The one module that knows GitLab's claims."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GitLabIdentity:
    username: str
    name: str
    email: str
    avatar_url: str
    groups: tuple[str, ...]


def identity(claims: Mapping[str, Any]) -> GitLabIdentity:
    """The user as GitLab describes them in its userinfo (or ID token) claims."""
    return GitLabIdentity(
        username=str(claims.get("nickname") or claims.get("preferred_username") or ""),
        name=str(claims.get("name") or ""),
        email=str(claims.get("email") or ""),
        avatar_url=str(claims.get("picture") or ""),
        groups=tuple(str(group) for group in claims.get("groups") or ()),
    )


def member_of_any(groups: Iterable[str], wanted: Iterable[str]) -> bool:
    """Whether one of ``groups`` is one of the ``wanted`` groups (full paths). GitLab's claim
    already lists the groups someone belongs to through an ancestor group, so the paths are
    compared as they are: a member of "kbs610/admins/ops" alone is not in "kbs610/admins"."""
    return bool({g.strip("/") for g in groups} & {w.strip("/") for w in wanted})


def member_within_any(groups: Iterable[str], wanted: Iterable[str]) -> bool:
    """Whether someone belongs to one of the ``wanted`` groups or to a subgroup of one (the
    gate for signing in: the whole of "kbs610", subgroups included)."""
    mine = [g.strip("/") for g in groups]
    return any(
        group == target or group.startswith(target + "/")
        for target in (w.strip("/") for w in wanted)
        for group in mine
    )
