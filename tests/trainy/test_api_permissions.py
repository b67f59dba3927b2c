"""The scope permission: a token needs the scope its operation names; a view that names none
for a method is closed to tokens (and still open to the site's session)."""

from __future__ import annotations

import pytest
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from tests.apiclient import bearer, error_of, token_for
from trainy.accounts.models import Scope

pytestmark = pytest.mark.django_db


class Unscoped(APIView):
    """A view whose author forgot to say which scope its write needs."""

    required_scopes = {"GET": Scope.READ}

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"written": True})


urlpatterns = [path("api/v1/unscoped/", Unscoped.as_view())]


@pytest.fixture(autouse=True)
def _urls(settings):
    settings.ROOT_URLCONF = __name__


def test_a_method_without_a_scope_is_closed_to_tokens(alice):
    api = bearer(token_for(alice))  # every scope
    assert api.get("/api/v1/unscoped/").status_code == 200
    assert api.head("/api/v1/unscoped/").status_code == 200  # as GET
    refused = api.post("/api/v1/unscoped/", {}, content_type="application/json")
    assert refused.status_code == 403
    assert "not open to personal access tokens" in error_of(refused)["message"]


def test_the_session_is_not_limited_by_scopes(client, alice):
    client.force_login(alice)
    response = client.post("/api/v1/unscoped/", {}, content_type="application/json")
    assert response.status_code == 200


def test_a_method_the_view_lacks_is_a_405_for_a_token_too(alice):
    response = bearer(token_for(alice, ("read",))).delete("/api/v1/unscoped/")
    assert response.status_code == 405
