"""Which scope an API operation needs (README "API" lists them)."""

from __future__ import annotations

from typing import Any

from oauth2_provider.models import AbstractAccessToken
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from trainy.accounts.models import AccessToken, Scope


def required_scope(view: Any, method: str) -> Scope | None:
    """The scope ``view`` asks of a request with ``method``: its ``required_scopes`` maps HTTP
    methods to scopes (HEAD and OPTIONS as GET); None if it names none."""
    scopes: dict[str, Scope] = getattr(view, "required_scopes", {})
    if method in ("HEAD", "OPTIONS"):
        method = "GET"
    return scopes.get(method)


def token_scopes(auth: Any) -> set[str] | None:
    """The scopes of the token a request came with: a personal access token's, or those the
    traveller granted an OAuth2 app (its access token's space-separated ``scope``). None for
    the site's session, which has every scope."""
    if isinstance(auth, AccessToken):
        return set(auth.scopes)
    if isinstance(auth, AbstractAccessToken):
        return set(auth.scope.split())
    return None


class HasRequiredScopes(BasePermission):
    """Signed in, and, with a token (a personal access token or an OAuth2 app's), the token has
    the operation's scope: one rule for both. The site's own JavaScript (the session) acts as
    the traveller does on the pages: every scope.

    A token is refused an operation whose view names no scope for it: a view added without
    ``required_scopes`` is closed to tokens, not open to all of them. A method the view does not
    have at all passes here, so that DRF answers it with 405."""

    message = "This token does not have the scope this operation needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        scopes = token_scopes(request.auth)
        if scopes is None:
            return True
        method = request.method or "GET"
        if not hasattr(view, method.lower()):
            return True
        scope = required_scope(view, method)
        if scope is None:
            self.message = "This operation is not open to personal access tokens or OAuth2 apps."
            return False
        if scope in scopes:
            return True
        self.message = f"This token does not have the scope “{scope.value}” this operation needs."
        return False
