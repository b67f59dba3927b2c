"""Helpers of the API tests: a personal access token made through the service, and a client
that sends it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.test import Client

from trainy.accounts.models import Scope, User
from trainy.accounts.services import token_create

ALL_SCOPES = tuple(Scope.values)


def token_for(
    user: User, scopes: tuple[str, ...] = ALL_SCOPES, expires_at: datetime | None = None
) -> str:
    """The secret of a new token of ``user``'s."""
    return token_create(user=user, name="test", scopes=list(scopes), expires_at=expires_at).secret


def bearer(secret: str) -> Client:
    """A client that sends ``secret`` as its bearer token with every request (no cookies)."""
    return Client(headers={"Authorization": f"Bearer {secret}"})


def error_of(response: Any) -> dict:
    """The ``error`` object of an API error answer, checking its shape on the way."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert body["error"]["message"], body
    return body["error"]


def assert_refused_without_the_scope(
    user: User, method: str, path: str, scope: str, data: Any = None
) -> None:
    """``method path`` answers 401 without a token and with an expired or a revoked one, and 403
    (naming ``scope``) with a token that has every scope but that one."""
    from django.utils import timezone

    from trainy.accounts.models import AccessToken
    from trainy.accounts.services import token_revoke

    def send(client: Client) -> Any:
        if data is None:
            return getattr(client, method)(path)
        return getattr(client, method)(path, data, content_type="application/json")

    assert send(Client()).status_code == 401, (method, path)
    short = send(bearer(token_for(user, tuple(s for s in ALL_SCOPES if s != scope))))
    assert short.status_code == 403, (method, path)
    assert f"“{scope}”" in error_of(short)["message"]
    expired = token_create(user=user, name="expired", scopes=[scope])
    AccessToken.objects.filter(pk=expired.token.pk).update(expires_at=timezone.now())
    assert send(bearer(expired.secret)).status_code == 401, (method, path)
    revoked = token_create(user=user, name="revoked", scopes=[scope])
    token_revoke(user=user, token_id=revoked.token.pk)
    assert send(bearer(revoked.secret)).status_code == 401, (method, path)
