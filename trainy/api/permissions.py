"""Which scope an API operation needs (README "API" lists them)."""

from __future__ import annotations

from typing import Any

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


class HasRequiredScopes(BasePermission):
    """Signed in, and, with a personal access token, the token has the operation's scope. The
    site's own JavaScript (the session) acts as the traveller does on the pages: every scope.

    A token is refused an operation whose view names no scope for it: a view added without
    ``required_scopes`` is closed to tokens, not open to all of them. A method the view does not
    have at all passes here, so that DRF answers it with 405."""

    message = "This token does not have the scope this operation needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if not isinstance(request.auth, AccessToken):
            return True
        method = request.method or "GET"
        if not hasattr(view, method.lower()):
            return True
        scope = required_scope(view, method)
        if scope is None:
            self.message = "This operation is not open to personal access tokens."
            return False
        if scope in request.auth.scopes:
            return True
        self.message = f"This token does not have the scope “{scope.value}” this operation needs."
        return False
