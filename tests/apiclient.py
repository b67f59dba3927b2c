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
