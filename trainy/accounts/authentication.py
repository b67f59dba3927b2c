"""The API's authentication by personal access token: ``Authorization: Bearer trainy_pat_…``."""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from trainy.accounts.models import AccessToken, User
from trainy.accounts.selectors import access_token_for
from trainy.accounts.services import token_hash, token_used

# Longer than any secret token_create makes: anything longer is not worth hashing.
MAX_SECRET_LENGTH = 200


class AccessTokenAuthentication(BaseAuthentication):
    """A request with a bearer token is the token's traveller's, limited to its scopes
    (``request.auth`` is the AccessToken; trainy.api.permissions checks the scopes). A request
    without one is left to the next authentication (the session)."""

    def authenticate(self, request: Request) -> tuple[User, AccessToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2 or len(parts[1]) > MAX_SECRET_LENGTH:
            raise AuthenticationFailed("Send the token as `Authorization: Bearer <token>`.")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("The token is unknown, expired or revoked.") from None
        token = access_token_for(secret_hash=token_hash(secret))
        if token is None:
            # One answer for all three: which it is tells a guesser nothing useful.
            raise AuthenticationFailed("The token is unknown, expired or revoked.")
        token_used(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Its presence makes DRF answer 401 (not 403) to a request without credentials.
        return 'Bearer realm="api"'
