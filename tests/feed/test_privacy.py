"""The privacy matrix: every visibility level, public and private profiles, and every kind of
viewer, on every read path that shows journeys. The expectations are written out here, apart
from the selector they check."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client
from django.urls import reverse

from checkins.models import Visibility
from feed.models import Block, Follow, Like
from tests.factories import CheckInFactory, UserFactory

pytestmark = pytest.mark.django_db

VIEWERS = ("owner", "follower", "outsider", "anonymous", "blocked")
LEVELS = [level.value for level in Visibility]


def may_see(viewer: str, visibility: str, private_profile: bool) -> bool:
    if viewer == "owner":
        return True
    if viewer == "blocked":
        return False
    if private_profile and viewer != "follower":
        return False
    if visibility in ("public", "unlisted"):
        return True
    if visibility == "authenticated":
        return viewer in ("follower", "outsider")
    if visibility == "followers":
        return viewer == "follower"
    return False


def in_global_feed(viewer: str, visibility: str, private_profile: bool) -> bool:
    return may_see(viewer, visibility, private_profile) and visibility in (
        "public",
        "authenticated",
    )


def in_following_feed(viewer: str, visibility: str, private_profile: bool) -> bool:
    return viewer == "follower" and visibility in ("public", "authenticated", "followers")


@pytest.fixture
def cast():
    """Olga owns the journeys; Fred follows her (accepted); Otto is signed in and nothing to
    her; Bea is blocked by her; the anonymous visitor is not signed in."""
    owner = UserFactory(username="olga", display_name="Olga")
    fred = UserFactory(username="fred", display_name="Fred")
    otto = UserFactory(username="otto", display_name="Otto")
    bea = UserFactory(username="bea", display_name="Bea")
    Follow.objects.create(follower=fred, followee=owner, accepted=True)
    # Bea followed Olga once; the block ended that, as block_create does.
    Block.objects.create(blocker=owner, blocked=bea)
    clients = {"anonymous": Client()}
    for role, person in (("owner", owner), ("follower", fred), ("outsider", otto),
                         ("blocked", bea)):  # fmt: skip
        clients[role] = Client()
        clients[role].force_login(person)
    return owner, clients


def shows(client: Client, path: str, marker: str) -> bool:
    response = client.get(path)
    assert response.status_code in (200, 404), (path, response.status_code)
    return response.status_code == 200 and marker in response.content.decode()


@pytest.mark.parametrize(
    ("visibility", "private_profile"), list(itertools.product(LEVELS, (False, True)))
)
def test_every_read_path_follows_the_visibility_rules(cast, visibility, private_profile):
    owner, clients = cast
    owner.private_profile = private_profile
    owner.save()
    marker = f"journey-{visibility}-{private_profile}"
    journey = CheckInFactory(user=owner, visibility=visibility, message=marker)
    Like.objects.create(user=UserFactory(username="liker"), checkin=journey)

    for viewer in VIEWERS:
        client = clients[viewer]
        seen = may_see(viewer, visibility, private_profile)
        case = (viewer, visibility, private_profile)
        detail = client.get(reverse("checkins:detail", args=[journey.id]))
        assert detail.status_code == (200 if seen else 404), case
        likes = client.get(reverse("feed:likers", args=[journey.id]))
        assert likes.status_code == (200 if seen else 404), case
        assert shows(client, reverse("feed:profile", args=["olga"]), marker) == seen, case
        assert shows(client, "/", marker) == in_global_feed(*case), case
        if viewer != "anonymous":
            assert shows(client, reverse("feed:following"), marker) == in_following_feed(*case)


def test_the_blocked_user_does_not_even_find_the_profile(cast):
    _, clients = cast
    assert clients["blocked"].get(reverse("feed:profile", args=["olga"])).status_code == 404
    assert clients["outsider"].get(reverse("feed:profile", args=["olga"])).status_code == 200


def test_the_blocker_does_not_see_the_blocked_users_journeys_either(cast):
    owner, clients = cast
    bea = owner.blocks.get().blocked
    theirs = CheckInFactory(user=bea, visibility=Visibility.PUBLIC, message="bea's trip")
    assert clients["owner"].get(reverse("checkins:detail", args=[theirs.id])).status_code == 404
    assert "bea&#x27;s trip" not in clients["owner"].get("/").content.decode()
    assert "bea&#x27;s trip" in clients["outsider"].get("/").content.decode()


def test_profile_totals_count_only_the_journeys_the_viewer_may_see(cast):
    owner, clients = cast
    CheckInFactory(user=owner, visibility=Visibility.PUBLIC, distance_m=100_000)
    CheckInFactory(user=owner, visibility=Visibility.FOLLOWERS, distance_m=50_000)
    CheckInFactory(user=owner, visibility=Visibility.PRIVATE, distance_m=7_000)

    def totals(role: str):
        response = clients[role].get(reverse("feed:profile", args=["olga"]))
        return response.context["profile"].totals

    for role, expected in (("anonymous", (1, 100.0)), ("follower", (2, 150.0)),
                           ("owner", (3, 157.0))):  # fmt: skip
        seen = totals(role)
        assert (seen.journeys, seen.distance_km) == expected, role
