"""The settings page and what its settings do (trainy.accounts: views.settings_page,
services.settings_update)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from checkins.models import Visibility
from feed.models import Follow
from feed.services.social import follow_create
from tests.factories import CheckInFactory
from trainy.accounts.forms import SettingsForm
from trainy.accounts.models import User
from trainy.accounts.services import settings_update

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_making_a_profile_public_accepts_the_waiting_requests(alice, bob):
    settings_update(user=alice, default_visibility="public", private_profile=True,
                    likes_enabled=True, private_after_days=None)  # fmt: skip
    follow_create(follower=bob, followee=alice)
    settings_update(user=alice, default_visibility="public", private_profile=False,
                    likes_enabled=True, private_after_days=None)  # fmt: skip
    assert Follow.objects.get(follower=bob, followee=alice).accepted


def test_the_settings_page_saves_and_says_what_is_wrong(alice):
    client = signed_in(alice)
    response = client.post(reverse("accounts:settings"), {"default_visibility": "public",
                                                      "private_after_days": "0"})  # fmt: skip
    assert response.status_code == 200
    assert "greater than or equal to 1" in response.content.decode()
    chosen = {"default_visibility": "followers", "private_profile": "on",
              "private_after_days": "90", "leaderboard_opt_out": "on"}  # fmt: skip
    client.post(reverse("accounts:settings"), chosen)
    # Every field of the form, read back from the database.
    stored = User.objects.get(pk=alice.pk)
    form_fields = set(SettingsForm.base_fields)
    saved = {name: getattr(stored, name) for name in form_fields}
    assert saved == {"default_visibility": "followers", "private_profile": True,
                     "likes_enabled": False, "private_after_days": 90,
                     "leaderboard_opt_out": True}  # fmt: skip


def test_the_leaderboard_opt_out_is_saved_and_takes_the_traveller_off_the_boards(
    alice, bob, django_capture_on_commit_callbacks
):
    for traveller in (alice, bob):
        CheckInFactory(user=traveller, visibility=Visibility.PUBLIC, distance_m=50_000)

    def on_the_board() -> set[str]:
        page = Client().get(reverse("stats:leaderboard"))
        return {standing.user.username for _, board, _ in page.context["boards"]
                for standing in board}  # fmt: skip

    assert on_the_board() == {"alice", "bob"}
    # The boards are kept per feed generation, which the saved settings move on after commit.
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(alice).post(
            reverse("accounts:settings"),
            {"default_visibility": "public", "likes_enabled": "on", "leaderboard_opt_out": "on"},
        )
    assert response.status_code == 302
    assert User.objects.get(pk=alice.pk).leaderboard_opt_out is True
    assert on_the_board() == {"bob"}
