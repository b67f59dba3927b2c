"""Every API error answers in one format, {"error": {"code", "message", "fields"}}, with the
right status: validation (per field), 401, 403, 404, 405, 415, 429, a service's ValidationError,
input refused before any view, and an unknown URL under /api/. Times carry their offset."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tests.apiclient import bearer, error_of, token_for
from tests.factories import CheckInFactory
from trainy.api.errors import exception_handler

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(alice) -> Client:
    return bearer(token_for(alice))


def test_invalid_query_parameters_are_a_400_with_messages_per_field(api):
    response = api.get("/api/v1/journeys/", {"limit": "0", "mode": "zeppelin"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"limit"}  # the page's parameters are checked next
    response = api.get("/api/v1/journeys/", {"mode": "zeppelin", "start": "2026-02-30"})
    assert set(error_of(response)["fields"]) == {"mode", "start"}


def test_a_form_error_about_no_field_is_the_message(api):
    response = api.get("/api/v1/journeys/", {"start": "2026-05-02", "end": "2026-05-01"})
    error = error_of(response)
    assert response.status_code == 400 and error["fields"] == {}
    assert error["message"].startswith("The range ends (1 May 2026) before it starts")


def test_no_credentials_is_a_401_with_a_bearer_challenge(client):
    response = client.get("/api/v1/me/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert error_of(response)["code"] == "not_authenticated"


def test_a_missing_scope_is_a_403_naming_it(alice):
    response = bearer(token_for(alice, ("social",))).get("/api/v1/journeys/")
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "permission_denied" and "“read”" in error["message"]


def test_an_unknown_object_is_a_404(api):
    response = api.get("/api/v1/journeys/987654321/")
    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": "No such journey.", "fields": {}}


def test_an_unknown_url_under_api_is_a_404_in_the_apis_format(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "not_found"


def test_a_method_an_operation_does_not_have_is_a_405(api):
    response = api.delete("/api/v1/me/")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_a_body_that_is_not_json_is_refused_with_a_message(api):
    broken = api.patch("/api/v1/me/", "{not json", content_type="application/json")
    assert broken.status_code == 400 and error_of(broken)["code"] == "parse_error"
    form = api.patch("/api/v1/me/", "a=b", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415 and error_of(form)["code"] == "unsupported_media_type"


def test_a_nul_byte_in_the_query_is_a_400_in_the_apis_format(api):
    response = api.get("/api/v1/stations/", {"q": "Ber\x00lin"})
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_a_services_validation_error_becomes_messages_per_field():
    error = ValidationError({"name": "Give the token a name.", "__all__": "Too many tokens."})
    response = exception_handler(error, {})
    assert response is not None and response.status_code == 400
    assert response.data == {"error": {"code": "invalid", "message": "Too many tokens.",
                                       "fields": {"name": ["Give the token a name."]}}}  # fmt: skip
    plain = exception_handler(ValidationError("Not now."), {})
    assert plain is not None and plain.data["error"]["message"] == "Not now."


def test_anything_else_is_left_to_become_a_server_error():
    assert exception_handler(RuntimeError("bug"), {}) is None


def test_times_are_iso_8601_with_their_offset(api, alice):
    CheckInFactory(user=alice)
    journey = api.get("/api/v1/journeys/").json()["results"][0]
    for name in ("departure_planned", "arrival_planned", "created_at"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)",
                            journey[name]), journey[name]  # fmt: skip


def test_json_nested_too_deeply_is_a_400_not_a_crash(api):
    response = api.patch("/api/v1/me/", "[" * 5_000 + "]" * 5_000, content_type="application/json")
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["message"]) == ("parse_error", "The JSON is nested too deeply.")
