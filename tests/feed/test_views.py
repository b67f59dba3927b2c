from __future__ import annotations

import pytest
from django.core.management import call_command

from checkins.models import Visibility
from tests.factories import CheckInFactory

pytestmark = pytest.mark.django_db


def feed_lines(client) -> list[str]:
    response = client.get("/")
    assert response.status_code == 200
    return [journey.line_name for journey in response.context["page"].journeys]


def test_the_feed_shows_public_journeys_to_everyone(client, alice):
    CheckInFactory(user=alice, line_name="ICE 1", visibility=Visibility.PUBLIC)
    assert feed_lines(client) == ["ICE 1"]


def test_the_feed_never_lists_unlisted_followers_or_private_journeys(client, alice):
    for visibility in (Visibility.UNLISTED, Visibility.FOLLOWERS, Visibility.PRIVATE):
        CheckInFactory(user=alice, line_name=visibility, visibility=visibility)
    assert feed_lines(client) == []
    client.force_login(alice)  # not even to their owner: the feed is for others' eyes
    assert feed_lines(client) == []


def test_signed_in_only_journeys_are_in_the_feed_of_signed_in_viewers(client, alice, bob):
    CheckInFactory(user=alice, line_name="S1", visibility=Visibility.AUTHENTICATED)
    assert feed_lines(client) == []
    client.force_login(bob)
    assert feed_lines(client) == ["S1"]


def test_the_header_shows_the_sign_in_state(client, alice):
    anonymous = client.get("/").content.decode()
    assert "Sign in" in anonymous and "Signed in as" not in anonymous
    client.force_login(alice)
    signed_in = client.get("/").content.decode()
    assert 'Signed in as <a href="/u/alice/"><strong>Alice</strong></a>' in signed_in
    assert "Sign out" in signed_in


def test_the_footer_credits_the_data_sources(client):
    page = client.get("/").content.decode()
    assert "OpenStreetMap contributors" in page
    assert "GTFS" in page


def test_demo_data_is_labelled_as_such(client, alice, django_capture_on_commit_callbacks):
    client.force_login(alice)
    assert b'data-testid="demo-notice"' not in client.get("/").content
    # Read once per feed generation: loading the demo's journeys moves it on (after commit).
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo")
    assert b'data-testid="demo-notice"' in client.get("/").content
    client.logout()
    call_command("load_demo")  # a second run changes nothing
    response = client.get("/")
    assert b"demo data" in response.content
    assert len(response.context["page"].journeys) == 4
    assert all(
        journey.message.startswith("Demo data") for journey in response.context["page"].journeys
    )
