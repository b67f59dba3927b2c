"""Which scope an API operation needs (README "API" lists them)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from trainy.accounts.models import AccessToken, Scope


def required_scope(view: Any, method: str) -> Scope | None:
    """The scope ``view`` asks of a request with ``method``: its ``required_scopes`` maps HTTP
    methods to scopes (HEAD and OPTIONS as GET). A method it does not name needs nothing more
    than being signed in; DRF answers 405 to the methods the view does not have anyway."""
    scopes: dict[str, Scope] = getattr(view, "required_scopes", {})
    if method in ("HEAD", "OPTIONS"):
        method = "GET"
    return scopes.get(method)


class HasRequiredScopes(BasePermission):
    """Signed in, and, with a personal access token, the token has the operation's scope. The
    site's own JavaScript (the session) acts as the traveller does on the pages: every scope."""

    message = "This token does not have the scope this operation needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        scope = required_scope(view, request.method or "GET")
        if scope is None or not isinstance(request.auth, AccessToken):
            return True
        if scope in request.auth.scopes:
            return True
        self.message = f"This token does not have the scope “{scope.value}” this operation needs."
        return False
