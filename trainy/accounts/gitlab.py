"""What Trainy knows of GitLab: the claims it reads (identity and group memberships), the rules
that turn them into rights, and the re-check of a signed-in GitLab user. The one module that
talks to GitLab; allauth's OpenID Connect provider runs the sign-in itself, and accounts.adapters
applies its answer with apply_gitlab_identity, as the re-check does.

The re-check (recheck_if_due, called by accounts.middleware.GitLabRecheckMiddleware) asks GitLab
again at least every TRAINY_GITLAB_RECHECK_SECONDS while someone is signed in: the refresh-token
grant gives a new ID token (its "groups_direct" decide admin rights) and an access token for the
userinfo (its "groups" decide whether TRAINY_GITLAB_ALLOWED_GROUPS still let them in)."""

from __future__ import annotations

import enum
import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp, SocialToken
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from trainy.accounts.models import User
from trainy.accounts.services import sessions_end_all

logger = logging.getLogger(__name__)

# GitLab's app in SOCIALACCOUNT_PROVIDERS (and the provider of its SocialAccounts).
PROVIDER_ID = "gitlab"
# Seconds to connect to GitLab and to wait for each of its answers during a re-check: a request
# of the user waits meanwhile, and a GitLab that does not answer in time cannot be asked.
TIMEOUT = (3, 5)
# GitLab's discovery document changes only with its configuration.
DISCOVERY_SECONDS = 3600
# Clock difference between GitLab and Trainy tolerated when checking an ID token's expiry.
CLOCK_LEEWAY_SECONDS = 30
# An access token's lifetime beyond this is no lifetime (GitLab's are two hours).
MAX_TOKEN_SECONDS = 366 * 24 * 3600


# --- Claims and rights --------------------------------------------------------------------------


def member_of_any(groups: Iterable[str], wanted: Iterable[str]) -> bool:
    """Whether one of ``groups`` is one of the ``wanted`` groups (full paths, compared as they
    are: a member of "kbs610/admins/ops" alone is not in "kbs610/admins")."""
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


@dataclass(frozen=True)
class GitLabIdentity:
    username: str
    name: str
    email: str
    avatar_url: str
    # The userinfo's "groups": the groups someone is a member of directly *or through an
    # ancestor group*, so a member of "kbs610" is listed in "kbs610/admins" as well.
    groups: tuple[str, ...]
    # The ID token's "groups_direct": the groups someone is a direct member of.
    groups_direct: tuple[str, ...]

    @property
    def admin(self) -> bool:
        """Staff and superuser: a direct member of one of TRAINY_GITLAB_ADMIN_GROUPS. Never
        from "groups", where every member of a parent group appears in its subgroups."""
        return member_of_any(self.groups_direct, settings.TRAINY_GITLAB_ADMIN_GROUPS)

    @property
    def allowed(self) -> bool:
        """Whether TRAINY_GITLAB_ALLOWED_GROUPS (if set) let them in: membership through an
        ancestor group counts here."""
        wanted = settings.TRAINY_GITLAB_ALLOWED_GROUPS
        return not wanted or member_within_any(self.groups, wanted)


def _paths(claim: Any) -> tuple[str, ...]:
    return tuple(str(path) for path in claim) if isinstance(claim, list | tuple) else ()


def identity(*, id_token: Mapping[str, Any], userinfo: Mapping[str, Any]) -> GitLabIdentity:
    """The user as GitLab describes them in the claims of its ID token and userinfo. GitLab puts
    "groups_direct" in the ID token only and "groups" in the userinfo only (docs.gitlab.com,
    integration/openid_connect_provider, "Shared information"), so each is read from there and
    from nowhere else."""

    def text(claim: str) -> str:
        return str(userinfo.get(claim) or id_token.get(claim) or "")

    return GitLabIdentity(
        username=text("nickname") or text("preferred_username"),
        name=text("name"),
        email=text("email"),
        avatar_url=text("picture"),
        groups=_paths(userinfo.get("groups")),
        groups_direct=_paths(id_token.get("groups_direct")),
    )


def apply_gitlab_identity(user: User, gitlab: GitLabIdentity, *, now: datetime) -> list[str]:
    """Name, avatar and admin rights as GitLab says ``now`` (rights are GitLab's to give and to
    take back), and the time GitLab vouched for them. Returns the fields set, for the caller to
    save (or the whole new user to be saved)."""
    name_length = User._meta.get_field("display_name").max_length or 0
    avatar_length = User._meta.get_field("avatar_url").max_length or 0
    user.display_name = gitlab.name[:name_length] or user.display_name
    if gitlab.avatar_url and len(gitlab.avatar_url) <= avatar_length:
        user.avatar_url = gitlab.avatar_url
    admin = gitlab.admin
    if admin != user.is_staff or admin != user.is_superuser:
        logger.info("gitlab: %s %s admin rights", gitlab.username, "gets" if admin else "loses")
    user.is_staff = user.is_superuser = admin
    user.gitlab_checked_at = user.gitlab_confirmed_at = now
    return [
        "display_name",
        "avatar_url",
        "is_staff",
        "is_superuser",
        "gitlab_checked_at",
        "gitlab_confirmed_at",
    ]


def admin_suspended(user: User, *, now: datetime) -> bool:
    """Whether ``user``'s admin rights are on hold: they come from GitLab, and GitLab has not
    confirmed them for longer than TRAINY_GITLAB_ADMIN_GRACE_SECONDS (it could not be asked).
    The stored flags stay as they are; the caller withholds them until GitLab answers again."""
    if not (user.is_staff or user.is_superuser) or user.gitlab_checked_at is None:
        return False
    confirmed = user.gitlab_confirmed_at
    grace = timedelta(seconds=settings.TRAINY_GITLAB_ADMIN_GRACE_SECONDS)
    return confirmed is None or now - confirmed > grace


# --- The re-check --------------------------------------------------------------------------------


class Recheck(enum.Enum):
    NOT_DUE = "not due"  # GitLab was asked recently (or is being asked by another request)
    CONFIRMED = "confirmed"  # GitLab answered; name, avatar and admin rights applied
    UNREACHABLE = "unreachable"  # GitLab could not be asked: nothing changed, the session goes on
    REVOKED = "revoked"  # the grant is no longer valid (blocked user, application revoked)
    REFUSED = "refused"  # the user is no longer in TRAINY_GITLAB_ALLOWED_GROUPS
    SIGN_IN_AGAIN = "sign in again"  # no refresh token kept (signed in before Trainy kept them)

    @property
    def signed_out(self) -> bool:
        """Whether this outcome ended the user's GitLab standing and all their sessions."""
        return self in (Recheck.REVOKED, Recheck.REFUSED, Recheck.SIGN_IN_AGAIN)


class _Revoked(Exception):
    """GitLab says the grant is no longer valid."""


class _Unreachable(Exception):
    """GitLab could not be asked, or its answer was no answer."""


def recheck_due(user: User, *, now: datetime) -> bool:
    checked = user.gitlab_checked_at
    interval = timedelta(seconds=settings.TRAINY_GITLAB_RECHECK_SECONDS)
    return checked is not None and now - checked >= interval


def recheck_if_due(request: HttpRequest, user: User) -> Recheck:
    """Ask GitLab about the signed-in ``user`` if TRAINY_GITLAB_RECHECK_SECONDS have passed
    since it was last asked, and act on its answer (see Recheck; gitlab_standing_end for the
    outcomes that sign out). Local accounts (gitlab_checked_at None) are never asked about.

    One request per user and interval asks: it claims the check by moving gitlab_checked_at on
    in one conditional UPDATE, so concurrent requests (other browsers, other pods) neither all
    call GitLab nor spend the same refresh token twice. The claim lives in the database, not
    the cache, so that a cache outage neither stops the re-checks nor sets every request
    asking. Side effects: HTTP calls to GitLab (TIMEOUT each), the user's row and tokens."""
    now = timezone.now()
    if not recheck_due(user, now=now):
        return Recheck.NOT_DUE
    claimed = User.objects.filter(pk=user.pk, gitlab_checked_at=user.gitlab_checked_at).update(
        gitlab_checked_at=now
    )
    if not claimed:
        return Recheck.NOT_DUE
    user.gitlab_checked_at = now
    token = (
        SocialToken.objects.select_related("account")
        .filter(account__user=user, account__provider=PROVIDER_ID)
        .exclude(token_secret="")
        .first()
    )
    if token is None:
        gitlab_standing_end(user=user, reason="no refresh token kept")
        return Recheck.SIGN_IN_AGAIN
    try:
        gitlab = _ask(request, token)
    except _Revoked as revoked:
        gitlab_standing_end(user=user, reason=f"GitLab revoked the grant ({revoked})")
        return Recheck.REVOKED
    except _Unreachable as problem:
        # Once per interval at most, as the claim above is.
        logger.warning(
            "gitlab re-check of %s: GitLab could not be asked (%s); admin rights last confirmed %s",
            user.username,
            problem,
            user.gitlab_confirmed_at.isoformat() if user.gitlab_confirmed_at else "never",
        )
        return Recheck.UNREACHABLE
    if not gitlab.allowed:
        gitlab_standing_end(user=user, reason="no longer in TRAINY_GITLAB_ALLOWED_GROUPS")
        return Recheck.REFUSED
    user.save(update_fields=apply_gitlab_identity(user, gitlab, now=now))
    return Recheck.CONFIRMED


def gitlab_standing_end(*, user: User, reason: str) -> int:
    """GitLab no longer vouches for ``user``: staff and superuser go, every browser they are
    signed in on is signed out at once (the current one included), and their GitLab tokens
    are dropped. They are not re-checked any more (gitlab_checked_at None) until they sign in
    through GitLab again, where TRAINY_GITLAB_ALLOWED_GROUPS decides anew. Returns how many
    sessions ended."""
    with transaction.atomic():
        user.is_staff = user.is_superuser = False
        user.gitlab_checked_at = None
        user.save(update_fields=["is_staff", "is_superuser", "gitlab_checked_at"])
        SocialToken.objects.filter(account__user=user, account__provider=PROVIDER_ID).delete()
    ended = sessions_end_all(user=user)
    logger.warning(
        "gitlab: %s signed out on %d browser(s), admin rights removed: %s",
        user.username,
        ended,
        reason,
    )
    return ended


def _ask(request: HttpRequest, token: SocialToken) -> GitLabIdentity:
    """GitLab's answer for the holder of ``token``: the refresh-token grant (a new ID token,
    since the openid scope was granted), then the userinfo. Stores the new tokens and claims.
    Raises _Revoked or _Unreachable."""
    try:
        provider = get_adapter().get_provider(request, PROVIDER_ID)
    except SocialApp.DoesNotExist as missing:
        raise _Unreachable("GitLab sign-in is not configured") from missing
    app = provider.app
    try:
        with requests.Session() as http:
            config = _discovery(http, provider.server_url)
            answer = http.post(
                config["token_endpoint"],
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": token.token_secret,
                    "client_id": app.client_id,
                    "client_secret": app.secret,
                },
                timeout=TIMEOUT,
            )
            tokens = _json(answer, "token endpoint")
            if answer.status_code in (400, 401) and tokens.get("error") == "invalid_grant":
                raise _Revoked("invalid_grant")
            if answer.status_code != 200 or not isinstance(tokens.get("access_token"), str):
                raise _Unreachable(
                    f"token endpoint answered {answer.status_code} {tokens.get('error', '')}"
                )
            # Stored at once: GitLab has rotated the refresh token, the old one is spent.
            _store_tokens(token, tokens)
            id_token = _id_token_claims(tokens.get("id_token"), config, client_id=app.client_id)
            if str(id_token.get("sub")) != token.account.uid:
                raise _Unreachable("the new ID token is another user's")
            answer = http.get(
                config["userinfo_endpoint"],
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
                timeout=TIMEOUT,
            )
            if answer.status_code == 401:
                raise _Revoked("userinfo answered 401")
            userinfo = _json(answer, "userinfo")
            if answer.status_code != 200:
                raise _Unreachable(f"userinfo answered {answer.status_code}")
    except requests.RequestException as error:
        raise _Unreachable(f"{type(error).__name__}: {error}") from error
    account = token.account
    account.extra_data = {**(account.extra_data or {}), "id_token": id_token, "userinfo": userinfo}
    account.save(update_fields=["extra_data"])
    return identity(id_token=id_token, userinfo=userinfo)


def _json(response: requests.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 500:
        raise _Unreachable(f"{what} answered {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _Unreachable(f"{what} answered {response.status_code} without a JSON object")
    return body


def _discovery(http: requests.Session, url: str) -> dict[str, Any]:
    """GitLab's OpenID Connect discovery document (endpoints, issuer) at ``url``, kept a while."""
    key = "gitlab:discovery:" + hashlib.sha256(url.encode()).hexdigest()[:16]
    config = cache.get(key)
    if config is None:
        config = _json(http.get(url, timeout=TIMEOUT), "discovery")
        if not all(
            isinstance(config.get(name), str)
            for name in ("issuer", "token_endpoint", "userinfo_endpoint")
        ):
            raise _Unreachable("the discovery document names no token or userinfo endpoint")
        cache.set(key, config, DISCOVERY_SECONDS)
    return dict(config)


def _store_tokens(token: SocialToken, tokens: Mapping[str, Any]) -> None:
    token.token = tokens["access_token"]
    # GitLab sends a new refresh token with each refresh; keep the old one if it ever did not.
    refresh = tokens.get("refresh_token")
    if isinstance(refresh, str) and refresh:
        token.token_secret = refresh
    expires_in = tokens.get("expires_in")
    token.expires_at = (
        timezone.now() + timedelta(seconds=expires_in)
        if isinstance(expires_in, int) and 0 < expires_in <= MAX_TOKEN_SECONDS
        else None
    )
    token.save(update_fields=["token", "token_secret", "expires_at"])


def _id_token_claims(id_token: Any, config: Mapping[str, Any], *, client_id: str) -> dict[str, Any]:
    """The claims of the ID token from the token endpoint, its issuer, audience and expiry
    checked. Its signature is not: the token came straight from GitLab's token endpoint over
    the connection Trainy opened, which OpenID Connect Core 1.0 (3.1.3.7, item 6) accepts in
    place of the signature, as allauth does at sign-in."""
    if not isinstance(id_token, str):
        raise _Unreachable("the token endpoint sent no ID token (is the openid scope granted?)")
    try:
        claims = jwt.decode(
            id_token,
            options={
                "verify_signature": False,
                "verify_exp": True,
                "verify_iss": True,
                "verify_aud": True,
                "require": ["iss", "aud", "exp", "sub"],
            },
            issuer=config["issuer"],
            audience=client_id,
            leeway=CLOCK_LEEWAY_SECONDS,
        )
    except jwt.PyJWTError as error:
        raise _Unreachable(f"the new ID token is not valid: {error}") from error
    return dict(claims)
