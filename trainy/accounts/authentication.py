"""The API's authentication by bearer token: a personal access token (``trainy_pat_…``) or an
OAuth2 app's access token (django-oauth-toolkit). The prefix tells them apart: the first class
takes the tokens with it, the second every other bearer token."""

from __future__ import annotations

from typing import Any

from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from trainy.accounts.models import AccessToken, User
from trainy.accounts.selectors import access_token_for
from trainy.accounts.services import TOKEN_PREFIX, token_hash, token_used

# Longer than any secret token_create makes: anything longer is not worth hashing.
MAX_SECRET_LENGTH = 200
# One answer for unknown, expired and revoked tokens alike: which it is tells a guesser nothing.
UNKNOWN_TOKEN = "The token is unknown, expired or revoked."  # noqa: S105 -- a message


def _bearer_parts(request: Request) -> list[bytes] | None:
    """The words of an ``Authorization: Bearer …`` header; None without one."""
    parts = get_authorization_header(request).split()
    if not parts or parts[0].lower() != b"bearer":
        return None
    return parts


class AccessTokenAuthentication(BaseAuthentication):
    """A request with a personal access token is the token's traveller's, limited to its scopes
    (``request.auth`` is the AccessToken; trainy.api.permissions checks the scopes). Another
    bearer token is left to OAuth2AppAuthentication, a request without one to the session. A
    malformed Authorization header is refused here."""

    def authenticate(self, request: Request) -> tuple[User, AccessToken] | None:
        parts = _bearer_parts(request)
        if parts is None:
            return None
        if len(parts) == 2 and not parts[1].startswith(TOKEN_PREFIX.encode()):
            return None  # an OAuth2 app's token: OAuth2AppAuthentication's
        if len(parts) != 2 or len(parts[1]) > MAX_SECRET_LENGTH:
            raise AuthenticationFailed("Send the token as `Authorization: Bearer <token>`.")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(UNKNOWN_TOKEN) from None
        token = access_token_for(secret_hash=token_hash(secret))
        if token is None:
            raise AuthenticationFailed(UNKNOWN_TOKEN)
        token_used(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Its presence makes DRF answer 401 (not 403) to a request without credentials.
        return 'Bearer realm="api"'


class OAuth2AppAuthentication(OAuth2Authentication):
    """A bearer token that is no personal access token is an OAuth2 app's access token,
    checked by django-oauth-toolkit (``request.auth`` is its AccessToken, whose ``scope`` the
    traveller granted; trainy.api.permissions checks it as a personal token's scopes).

    Two things the toolkit leaves to its users: a bearer token it does not know is refused here
    (401, as an unknown personal token is) instead of being passed on to the session, and the
    token of a traveller whose sign-in is blocked is refused too, as their personal tokens are."""

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        if _bearer_parts(request) is None:
            return None  # no bearer token: the session's turn, without asking oauthlib
        found = super().authenticate(request)
        if found is None:
            raise AuthenticationFailed(UNKNOWN_TOKEN)
        user, token = found
        if user is None or not user.is_active:
            raise AuthenticationFailed(UNKNOWN_TOKEN)
        return user, token
