"""/api/v1/me/: the traveller's profile and settings, through the settings page's service."""

from __future__ import annotations

import pytest

from feed.models import Follow
from tests.apiclient import bearer, error_of, token_for

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def test_it_shows_the_profile_and_settings_of_the_tokens_traveller(alice, bob):
    alice.private_after_days = 30
    alice.save()
    response = bearer(token_for(alice, ("read",))).get(ME)
    assert response.status_code == 200
    assert response.json() == {
        "id": alice.id,
        "username": "alice",
        "display_name": "Alice",
        "avatar_url": "",
        "settings": {
            "default_visibility": "public",
            "private_profile": False,
            "likes_enabled": True,
            "private_after_days": 30,
            "leaderboard_opt_out": False,
        },
    }


def test_a_patch_changes_only_the_settings_it_names(alice):
    alice.likes_enabled = False
    alice.save()
    client = bearer(token_for(alice, ("settings",)))
    response = client.patch(
        ME, {"default_visibility": "followers"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["settings"]["default_visibility"] == "followers"
    alice.refresh_from_db()
    assert alice.default_visibility == "followers"
    assert alice.likes_enabled is False  # not named: left as it was


def test_making_the_profile_public_accepts_waiting_follow_requests_as_the_page_does(alice, bob):
    alice.private_profile = True
    alice.save()
    Follow.objects.create(follower=bob, followee=alice, accepted=False)
    response = bearer(token_for(alice)).patch(
        ME, {"private_profile": False}, content_type="application/json"
    )
    assert response.status_code == 200
    assert Follow.objects.get(follower=bob, followee=alice).accepted


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"default_visibility": "everyone"}, "default_visibility"),
        ({"private_after_days": 0}, "private_after_days"),
        ({"private_after_days": 3651}, "private_after_days"),
        ({"private_profile": "maybe"}, "private_profile"),
    ],
)
def test_invalid_settings_are_refused_per_field_and_nothing_changes(alice, body, field):
    response = bearer(token_for(alice)).patch(ME, body, content_type="application/json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid" and list(error["fields"]) == [field]
    alice.refresh_from_db()
    assert (alice.default_visibility, alice.private_after_days) == ("public", None)


def test_reading_needs_the_read_scope_and_changing_the_settings_scope(alice):
    reader = bearer(token_for(alice, ("read",)))
    settings_only = bearer(token_for(alice, ("settings",)))
    assert reader.get(ME).status_code == 200
    assert settings_only.get(ME).status_code == 403
    refused = reader.patch(ME, {"likes_enabled": False}, content_type="application/json")
    assert refused.status_code == 403
    assert "settings" in error_of(refused)["message"]
    alice.refresh_from_db()
    assert alice.likes_enabled is True


def test_settings_are_not_social_a_social_token_cannot_change_them(alice):
    social = bearer(token_for(alice, ("read", "social")))
    refused = social.patch(ME, {"likes_enabled": False}, content_type="application/json")
    assert refused.status_code == 403
    assert "“settings”" in error_of(refused)["message"]
    allowed = bearer(token_for(alice, ("settings",)))
    changed = allowed.patch(ME, {"likes_enabled": False}, content_type="application/json")
    assert changed.status_code == 200
    alice.refresh_from_db()
    assert alice.likes_enabled is False


def test_without_a_token_it_is_401(client, alice):
    for method in ("get", "patch"):
        response = getattr(client, method)(ME)
        assert response.status_code == 401
        assert error_of(response)["code"] == "not_authenticated"
        assert response["WWW-Authenticate"].startswith("Bearer")
