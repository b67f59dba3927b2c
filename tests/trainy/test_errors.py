"""Error pages say what is wrong in the site's layout; input no view can use is refused once,
for every view."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django_ratelimit.exceptions import Ratelimited

from trainy.errors import permission_denied, server_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/u/al%00ice/", "/stations/?q=Ber%00lin", "/journeys/?start=2020%0001-01"]
)
def test_a_nul_character_anywhere_is_a_400_that_says_so(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "contains a NUL character" in response.content.decode()


def test_a_nul_character_in_a_form_field_is_a_400(client, alice):
    client.force_login(alice)
    response = client.post("/settings/sessions/", {"session": "abc\x00def"})
    assert response.status_code == 400


def test_an_empty_admin_to_field_is_a_400_not_a_crash(client, alice):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    client.force_login(alice)
    response = client.get(f"/admin/accounts/user/{alice.id}/change/?_to_field=")
    assert response.status_code == 400


def test_a_404_says_what_was_not_found_in_the_sites_layout(client):
    response = client.get("/journeys/987654321/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "No such journey." in page and "Back to the feed" in page
    unknown = client.get("/no/such/page/").content.decode()
    assert "There is nothing at this address" in unknown
    assert "tried" not in unknown  # Django's list of URL patterns stays private


def test_the_server_error_page_needs_no_database(django_assert_num_queries):
    request = RequestFactory().get("/")
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_a_spent_rate_limit_is_a_429_asking_to_wait_not_a_403():
    """Any view's ``@ratelimit(block=True)``: django-ratelimit raises Ratelimited, a
    PermissionDenied, which would otherwise read "Not yours to see"."""
    request = RequestFactory().post("/anywhere/")
    request.user = AnonymousUser()
    response = permission_denied(request, Ratelimited())
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    page = response.content.decode()
    assert "That was a lot of requests in a short time. Please wait a minute" in page
    assert "Not yours to see" not in page


def test_a_form_too_large_to_read_says_how_large_it_may_be(client, alice, settings):
    client.force_login(alice)
    response = client.post("/settings/", {"default_visibility": "x" * 3_000_000})
    assert response.status_code == 400
    assert "The form sent more than 2560 kB" in response.content.decode()
    fields = {f"field{n}": "1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = client.post("/settings/", fields)
    assert response.status_code == 400
    assert "The form sent more than 1000 fields." in response.content.decode()
