"""The social API (/api/v1/feed/…, users/…, follow-requests/…, journeys/{id}/like(s)/,
notifications/…): the pages' answers over the API, with tokens, scopes and the pages' limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from checkins.models import Visibility
from feed.models import Block, Follow, Like, Mute, Notification
from feed.services.social import follow_create, like_create
from tests.apiclient import bearer, error_of, token_for
from tests.factories import CheckInFactory, UserFactory
from trainy.accounts.models import AccessToken
from trainy.accounts.services import token_revoke

pytestmark = pytest.mark.django_db

API = "/api/v1"


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def lines(response) -> list[str]:
    return [journey["line_name"] for journey in ok(response)["results"]]


def names(response) -> list[str]:
    return [person["username"] for person in ok(response)["results"]]


def now_travelling(**fields):
    now = timezone.now()
    return CheckInFactory(
        departure_planned=now - timedelta(minutes=30),
        arrival_planned=now + timedelta(hours=1),
        **fields,
    )


@pytest.fixture
def api_as():
    """A client with a token of the traveller's, with every scope unless told."""

    def make(user, scopes=("read", "social")) -> Client:
        return bearer(token_for(user, tuple(scopes)))

    return make


# --- Tokens and scopes, for every operation -----------------------------------------------------

# (method, path, the scope it needs); {journey} and {request} are filled per test.
OPERATIONS = [
    ("get", "/feed/global/", "read"),
    ("get", "/feed/following/", "read"),
    ("get", "/feed/now/", "read"),
    ("get", "/users/alice/", "read"),
    ("get", "/users/alice/journeys/", "read"),
    ("get", "/users/alice/followers/", "read"),
    ("get", "/users/alice/following/", "read"),
    ("put", "/users/alice/follow/", "social"),
    ("delete", "/users/alice/follow/", "social"),
    ("put", "/users/alice/block/", "social"),
    ("delete", "/users/alice/block/", "social"),
    ("put", "/users/alice/mute/", "social"),
    ("delete", "/users/alice/mute/", "social"),
    ("get", "/follow-requests/", "read"),
    ("post", "/follow-requests/{request}/accept/", "social"),
    ("post", "/follow-requests/{request}/decline/", "social"),
    ("put", "/journeys/{journey}/like/", "social"),
    ("delete", "/journeys/{journey}/like/", "social"),
    ("get", "/journeys/{journey}/likes/", "read"),
    ("get", "/notifications/", "read"),
    ("post", "/notifications/read/", "social"),
]


@pytest.fixture
def paths(alice, bob):
    """The operations' paths, about alice and a public journey of hers; bob asks."""
    journey = CheckInFactory(user=alice, visibility=Visibility.PUBLIC)
    request = Follow.objects.create(follower=alice, followee=bob, accepted=False)
    return lambda path: API + path.format(journey=journey.id, request=request.id)


@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS)
def test_every_operation_needs_a_live_token_with_its_scope(
    client, alice, bob, paths, method, path, scope
):
    url = paths(path)
    assert getattr(client, method)(url).status_code == 401
    other = "social" if scope == "read" else "read"
    refused = getattr(bearer(token_for(bob, (other, "checkins:write"))), method)(url)
    assert refused.status_code == 403
    assert f"“{scope}”" in error_of(refused)["message"]
    # A token that expired, and one that was revoked, are refused as unknown.
    expired = token_for(bob, (scope,), expires_at=timezone.now() + timedelta(hours=1))
    AccessToken.objects.filter(user=bob).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert getattr(bearer(expired), method)(url).status_code == 401
    revoked = token_for(bob, (scope,))
    token_revoke(user=bob, token_id=AccessToken.objects.filter(user=bob).latest("id").id)
    assert getattr(bearer(revoked), method)(url).status_code == 401
    # The same request with the scope gets through (the refusals above could have failed).
    assert getattr(bearer(token_for(bob, (scope,))), method)(url).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/feed/global/", "/feed/following/", "/users/alice/journeys/", "/users/alice/followers/",
     "/users/alice/following/", "/follow-requests/", "/notifications/"],
)  # fmt: skip
@pytest.mark.parametrize(
    "query",
    [{"cursor": "12-x"}, {"cursor": "1" * 101}, {"limit": "0"}, {"limit": "101"},
     {"limit": "many"}],
)  # fmt: skip
def test_a_bad_cursor_or_limit_of_any_list_is_a_400_naming_it(api_as, alice, bob, path, query):
    response = api_as(bob).get(API + path, query)
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == set(query)


# --- Feeds --------------------------------------------------------------------------------------


def test_the_global_feed_lists_what_the_front_page_does_newest_first(api_as, alice, bob, charlie):
    now = timezone.now()
    for hours, line, visibility in ((3, "PUBLIC", Visibility.PUBLIC),
                                    (2, "SIGNED-IN", Visibility.AUTHENTICATED),
                                    (1, "UNLISTED", Visibility.UNLISTED),
                                    (0, "PRIVATE", Visibility.PRIVATE)):  # fmt: skip
        CheckInFactory(user=alice, line_name=line, visibility=visibility,
                       departure_planned=now - timedelta(hours=hours))  # fmt: skip
    CheckInFactory(user=charlie, line_name="MUTED", visibility=Visibility.PUBLIC)
    Mute.objects.create(muter=bob, muted=charlie)
    body = ok(api_as(bob).get(f"{API}/feed/global/"))
    assert [j["line_name"] for j in body["results"]] == ["SIGNED-IN", "PUBLIC"]
    assert body["results"][0]["traveller"] == {"username": "alice", "display_name": "Alice"}
    assert body["next_cursor"] is None and body["next"] is None


def test_feeds_page_by_the_feeds_cursor(api_as, alice, bob):
    start = timezone.now() - timedelta(days=30)
    for day in range(25):
        CheckInFactory(user=alice, line_name=f"L{day}", visibility=Visibility.PUBLIC,
                       departure_planned=start + timedelta(days=day))  # fmt: skip
    Follow.objects.create(follower=bob, followee=alice, accepted=True)
    api = api_as(bob)
    for feed in ("global", "following"):
        first = ok(api.get(f"{API}/feed/{feed}/", {"limit": "10"}))
        assert [j["line_name"] for j in first["results"]] == [f"L{d}" for d in range(24, 14, -1)]
        assert f"cursor={first['next_cursor']}" in first["next"] and "limit=10" in first["next"]
        second = ok(api.get(first["next"]))
        assert [j["line_name"] for j in second["results"]] == [f"L{d}" for d in range(14, 4, -1)]
        last = ok(api.get(second["next"]))
        assert [j["line_name"] for j in last["results"]] == [f"L{d}" for d in range(4, -1, -1)]
        assert last["next"] is None


def test_the_following_feed_has_followers_only_journeys_of_those_followed(
    api_as, alice, bob, charlie
):
    CheckInFactory(user=alice, line_name="FOR FOLLOWERS", visibility=Visibility.FOLLOWERS)
    CheckInFactory(user=charlie, line_name="NOT FOLLOWED", visibility=Visibility.PUBLIC)
    Follow.objects.create(follower=bob, followee=alice, accepted=True)
    assert lines(api_as(bob).get(f"{API}/feed/following/")) == ["FOR FOLLOWERS"]
    assert lines(api_as(charlie).get(f"{API}/feed/following/")) == []


def test_travelling_now_lists_journeys_under_way_everyone_or_those_followed(
    api_as, alice, bob, charlie, django_capture_on_commit_callbacks
):
    now_travelling(user=alice, line_name="ALICE NOW", visibility=Visibility.PUBLIC)
    now_travelling(user=charlie, line_name="CHARLIE NOW", visibility=Visibility.PUBLIC)
    CheckInFactory(user=alice, line_name="ALICE DONE", visibility=Visibility.PUBLIC,
                   departure_planned=timezone.now() - timedelta(hours=3))  # fmt: skip
    Follow.objects.create(follower=bob, followee=alice, accepted=True)
    api = api_as(bob)
    assert sorted(lines(api.get(f"{API}/feed/now/"))) == ["ALICE NOW", "CHARLIE NOW"]
    assert lines(api.get(f"{API}/feed/now/", {"following": "true"})) == ["ALICE NOW"]
    with django_capture_on_commit_callbacks(execute=True):  # the cached feed lets go
        assert ok(api.put(f"{API}/users/charlie/mute/"))["muted"] is True
    assert lines(api.get(f"{API}/feed/now/", {"following": "false"})) == ["ALICE NOW"]
    response = api.get(f"{API}/feed/now/", {"following": "perhaps"})
    assert response.status_code == 400 and "following" in error_of(response)["fields"]


def test_the_feed_shows_likes_as_the_viewer_stands_to_them(api_as, alice, bob):
    journey = CheckInFactory(user=alice, visibility=Visibility.PUBLIC)
    like_create(user=bob, checkin_id=journey.id)
    (shown,) = ok(api_as(bob).get(f"{API}/feed/global/"))["results"]
    assert (shown["like_count"], shown["liked"]) == (1, True)


# --- Travellers ---------------------------------------------------------------------------------


def test_a_profile_shows_totals_counts_and_the_relation(api_as, alice, bob, charlie):
    CheckInFactory(user=alice, visibility=Visibility.PUBLIC, distance_m=100_000)
    CheckInFactory(user=alice, visibility=Visibility.PRIVATE, distance_m=7_000)
    Follow.objects.create(follower=bob, followee=alice, accepted=True)
    Follow.objects.create(follower=alice, followee=bob, accepted=True)
    Follow.objects.create(follower=charlie, followee=alice, accepted=True)
    body = ok(api_as(bob).get(f"{API}/users/alice/"))
    assert body["username"] == "alice" and body["display_name"] == "Alice"
    assert (body["followers"], body["following"]) == (2, 1)
    assert body["totals"]["journeys"] == 1 and body["totals"]["distance_km"] == 100.0
    assert body["relation"] == {"follow": "following", "follows_you": True,
                                "blocked": False, "muted": False}  # fmt: skip
    assert ok(api_as(alice).get(f"{API}/users/alice/"))["relation"]["follow"] == "self"


def test_a_private_profile_shows_only_what_its_page_shows(api_as, alice, bob):
    alice.private_profile = True
    alice.save()
    CheckInFactory(user=alice, line_name="HIDDEN", visibility=Visibility.PUBLIC)
    body = ok(api_as(bob).get(f"{API}/users/alice/"))
    assert body["private_profile"] is True and body["totals"]["journeys"] == 0
    assert lines(api_as(bob).get(f"{API}/users/alice/journeys/")) == []
    followers = ok(api_as(bob).get(f"{API}/users/alice/followers/"))
    assert (followers["shown"], followers["results"]) == (False, [])
    assert lines(api_as(alice).get(f"{API}/users/alice/journeys/")) == ["HIDDEN"]


@pytest.mark.parametrize(
    "path", ["", "journeys/", "followers/", "following/", "follow/", "block/", "mute/"]
)
def test_someone_who_blocked_you_is_a_404_as_an_unknown_username(api_as, alice, bob, path):
    Block.objects.create(blocker=alice, blocked=bob)
    method = "put" if path in ("follow/", "block/", "mute/") else "get"
    blocked = getattr(api_as(bob), method)(f"{API}/users/alice/{path}")
    unknown = getattr(api_as(bob), method)(f"{API}/users/nobody/{path}")
    assert blocked.status_code == unknown.status_code == 404
    assert blocked.json() == unknown.json()
    assert error_of(blocked)["message"] == "No such traveller."
    assert not Follow.objects.exists() and not Mute.objects.filter(muter=bob).exists()


def test_a_profiles_journeys_include_unlisted_ones_and_page_by_cursor(api_as, alice, bob):
    start = timezone.now() - timedelta(days=10)
    for day in range(3):
        CheckInFactory(user=alice, line_name=f"L{day}", visibility=Visibility.UNLISTED,
                       departure_planned=start + timedelta(days=day))  # fmt: skip
    api = api_as(bob)
    first = ok(api.get(f"{API}/users/alice/journeys/", {"limit": "2"}))
    assert [j["line_name"] for j in first["results"]] == ["L2", "L1"]
    assert lines(api.get(first["next"])) == ["L0"]


def test_follow_lists_page_newest_follow_first(api_as, alice, bob):
    for n in range(5):
        Follow.objects.create(follower=UserFactory(username=f"f{n}"), followee=alice,
                              accepted=True)  # fmt: skip
    Follow.objects.create(follower=alice, followee=bob, accepted=True)
    api = api_as(bob)
    first = ok(api.get(f"{API}/users/alice/followers/", {"limit": "3"}))
    assert [p["username"] for p in first["results"]] == ["f4", "f3", "f2"]
    assert names(api.get(first["next"])) == ["f1", "f0"]
    assert names(api.get(f"{API}/users/alice/following/")) == ["bob"]


# --- Follows, requests, blocks, mutes ------------------------------------------------------------


def test_following_says_following_or_requested_and_unfollowing_undoes_either(
    api_as, alice, bob, charlie
):
    api = api_as(bob)
    assert ok(api.put(f"{API}/users/alice/follow/"))["follow"] == "following"
    assert ok(api.put(f"{API}/users/alice/follow/"))["follow"] == "following"  # again: the same
    assert Notification.objects.filter(recipient=alice, kind="follow").count() == 1
    charlie.private_profile = True
    charlie.save()
    assert ok(api.put(f"{API}/users/charlie/follow/"))["follow"] == "requested"
    assert Follow.objects.get(follower=bob, followee=charlie).accepted is False
    assert ok(api.delete(f"{API}/users/charlie/follow/"))["follow"] == "none"
    assert ok(api.delete(f"{API}/users/alice/follow/"))["follow"] == "none"
    assert not Follow.objects.exists()


def test_following_oneself_or_someone_one_blocked_is_a_400_with_the_reason(api_as, alice, bob):
    api = api_as(bob)
    response = api.put(f"{API}/users/bob/follow/")
    assert response.status_code == 400
    assert error_of(response)["message"] == "You cannot follow yourself."
    Block.objects.create(blocker=bob, blocked=alice)
    response = api.put(f"{API}/users/alice/follow/")
    assert response.status_code == 400 and "unblock them" in error_of(response)["message"]


def test_follow_requests_are_listed_and_accepted_or_declined(api_as, alice, bob, charlie):
    alice.private_profile = True
    alice.save()
    follow_create(follower=bob, followee=alice)
    follow_create(follower=charlie, followee=alice)
    api = api_as(alice)
    body = ok(api.get(f"{API}/follow-requests/"))
    assert [r["traveller"]["username"] for r in body["results"]] == ["charlie", "bob"]
    charlies, bobs = (r["id"] for r in body["results"])
    accepted = ok(api.post(f"{API}/follow-requests/{bobs}/accept/"))
    assert accepted == {"traveller": {"username": "bob", "display_name": "Bob", "avatar_url": ""},
                        "follows_you": True}  # fmt: skip
    assert Follow.objects.get(follower=bob, followee=alice).accepted
    assert Notification.objects.filter(recipient=bob, kind="follow_accepted").exists()
    assert ok(api.post(f"{API}/follow-requests/{charlies}/decline/"))["follows_you"] is False
    assert not Follow.objects.filter(follower=charlie).exists()
    # Answered already: no longer a request.
    again = api.post(f"{API}/follow-requests/{bobs}/decline/")
    assert again.status_code == 404 and Follow.objects.filter(follower=bob).exists()


def test_someone_elses_follow_request_is_a_404(api_as, alice, bob, charlie):
    request = Follow.objects.create(follower=charlie, followee=alice, accepted=False)
    for answer in ("accept", "decline"):
        response = api_as(bob).post(f"{API}/follow-requests/{request.id}/{answer}/")
        assert response.status_code == 404
        assert error_of(response)["message"] == "No such follow request."
    assert Follow.objects.get(pk=request.pk).accepted is False


def test_blocking_ends_follows_both_ways_and_unblocking_lifts_it(api_as, alice, bob):
    Follow.objects.create(follower=bob, followee=alice, accepted=True)
    Follow.objects.create(follower=alice, followee=bob, accepted=True)
    api = api_as(bob)
    assert ok(api.put(f"{API}/users/alice/block/")) == {
        "follow": "none", "follows_you": False, "blocked": True, "muted": False}  # fmt: skip
    assert not Follow.objects.exists()
    assert ok(api.put(f"{API}/users/alice/block/"))["blocked"] is True
    assert ok(api.delete(f"{API}/users/alice/block/"))["blocked"] is False
    assert not Block.objects.exists()
    response = api.put(f"{API}/users/bob/block/")
    assert response.status_code == 400 and "yourself" in error_of(response)["message"]


def test_muting_and_unmuting(api_as, alice, bob):
    api = api_as(bob)
    assert ok(api.put(f"{API}/users/alice/mute/"))["muted"] is True
    assert Mute.objects.filter(muter=bob, muted=alice).exists()
    assert ok(api.delete(f"{API}/users/alice/mute/"))["muted"] is False
    assert api.put(f"{API}/users/bob/mute/").status_code == 400


def test_follows_over_the_api_and_the_pages_share_one_rate_limit(api_as, alice, bob):
    page = Client()
    page.force_login(bob)
    for _ in range(15):
        assert page.post("/u/alice/follow/").status_code == 302
    api = api_as(bob)
    statuses = [api.put(f"{API}/users/alice/follow/").status_code for _ in range(16)]
    assert statuses == [200] * 15 + [429]
    refused = api.delete(f"{API}/users/alice/follow/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert error_of(refused)["code"] == "throttled"


def test_a_refusal_in_the_rate_windows_last_second_still_says_when_to_come_back(
    api_as, alice, bob, monkeypatch
):
    from feed import apis

    def last_second(*args, **kwargs):  # django-ratelimit's answer as its window ends
        return {"count": 31, "limit": 30, "should_limit": True, "time_left": 0}

    monkeypatch.setattr(apis, "get_usage", last_second)
    refused = api_as(bob).put(f"{API}/users/alice/follow/")
    assert refused.status_code == 429 and refused["Retry-After"] == "1"


# --- Likes --------------------------------------------------------------------------------------


def test_liking_and_unliking_a_journey(api_as, alice, bob):
    journey = CheckInFactory(user=alice, visibility=Visibility.PUBLIC)
    api = api_as(bob)
    assert ok(api.put(f"{API}/journeys/{journey.id}/like/")) == {"like_count": 1, "liked": True}
    assert ok(api.put(f"{API}/journeys/{journey.id}/like/")) == {"like_count": 1, "liked": True}
    assert Notification.objects.filter(recipient=alice, kind="like").count() == 1
    assert names(api.get(f"{API}/journeys/{journey.id}/likes/")) == ["bob"]
    assert ok(api.delete(f"{API}/journeys/{journey.id}/like/")) == {"like_count": 0,
                                                                     "liked": False}  # fmt: skip
    assert not Like.objects.exists()


def test_likes_of_a_journey_one_may_not_see_are_404(api_as, alice, bob):
    hidden = CheckInFactory(user=alice, visibility=Visibility.FOLLOWERS)
    Like.objects.create(user=bob, checkin=hidden)  # from when bob still followed
    api = api_as(bob)
    for method, path in (("put", "like/"), ("delete", "like/"), ("get", "likes/")):
        response = getattr(api, method)(f"{API}/journeys/{hidden.id}/{path}")
        assert response.status_code == 404, (method, path)
        assert error_of(response)["message"] == "No such journey."
    assert Like.objects.count() == 1  # the unlike of a hidden journey changed nothing
    assert api.put(f"{API}/journeys/987654321/like/").status_code == 404


def test_ones_own_journey_and_one_whose_traveller_takes_no_likes_are_a_403(api_as, alice, bob):
    mine = CheckInFactory(user=bob, visibility=Visibility.PUBLIC)
    response = api_as(bob).put(f"{API}/journeys/{mine.id}/like/")
    assert response.status_code == 403
    assert error_of(response)["message"] == "You cannot like your own journey."
    alice.likes_enabled = False
    alice.save()
    theirs = CheckInFactory(user=alice, visibility=Visibility.PUBLIC)
    response = api_as(bob).put(f"{API}/journeys/{theirs.id}/like/")
    assert response.status_code == 403 and error_of(response)["message"] == (
        "Alice does not take likes."
    )
    assert not Like.objects.exists()


def test_likers_leave_out_those_in_a_block_with_the_viewer(api_as, alice, bob, charlie):
    journey = CheckInFactory(user=alice, visibility=Visibility.PUBLIC)
    like_create(user=charlie, checkin_id=journey.id)
    Block.objects.create(blocker=bob, blocked=charlie)
    assert names(api_as(bob).get(f"{API}/journeys/{journey.id}/likes/")) == []
    assert names(api_as(alice).get(f"{API}/journeys/{journey.id}/likes/")) == ["charlie"]


# --- Notifications ------------------------------------------------------------------------------


def test_notifications_list_newest_first_with_the_unread_count_and_change_nothing(
    api_as, alice, bob, charlie
):
    follow_create(follower=bob, followee=alice)
    journey = CheckInFactory(user=alice, line_name="RE 7", visibility=Visibility.PUBLIC)
    like_create(user=charlie, checkin_id=journey.id)
    api = api_as(alice)
    body = ok(api.get(f"{API}/notifications/"))
    assert [(n["actor"]["username"], n["kind"], n["journey_id"]) for n in body["results"]] == [
        ("charlie", "like", journey.id), ("bob", "follow", None)]  # fmt: skip
    assert body["results"][0]["text"] == "liked your journey"
    assert body["unread"] == 2 and body["results"][0]["read_at"] is None
    assert ok(api.get(f"{API}/notifications/"))["unread"] == 2


def test_notifications_page_by_cursor(api_as, alice):
    for n in range(5):
        Notification.objects.create(recipient=alice, actor=UserFactory(username=f"a{n}"),
                                    kind=Notification.Kind.FOLLOW)  # fmt: skip
    api = api_as(alice)
    first = ok(api.get(f"{API}/notifications/", {"limit": "3"}))
    assert [n["actor"]["username"] for n in first["results"]] == ["a4", "a3", "a2"]
    second = ok(api.get(first["next"]))
    assert [n["actor"]["username"] for n in second["results"]] == ["a1", "a0"]
    assert second["next_cursor"] is None


def test_marking_read_up_to_an_id_leaves_later_ones_unread(api_as, alice, bob, charlie):
    older = Notification.objects.create(recipient=alice, actor=bob, kind="follow")
    Notification.objects.create(recipient=alice, actor=charlie, kind="follow")
    api = api_as(alice)
    assert ok(api.post(f"{API}/notifications/read/", {"up_to": older.id},
                       content_type="application/json")) == {"marked": 1, "unread": 1}  # fmt: skip
    assert ok(api.post(f"{API}/notifications/read/")) == {"marked": 1, "unread": 0}


@pytest.mark.parametrize("up_to", [0, -1, 2**63, "x", 1.5])
def test_marking_read_with_a_bad_id_is_a_400_on_up_to(api_as, alice, bob, up_to):
    Notification.objects.create(recipient=alice, actor=bob, kind="follow")
    response = api_as(alice).post(
        f"{API}/notifications/read/", {"up_to": up_to}, content_type="application/json"
    )
    assert response.status_code == 400 and "up_to" in error_of(response)["fields"]
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_notifications_of_someone_else_are_not_in_ones_own(api_as, alice, bob, charlie):
    Notification.objects.create(recipient=bob, actor=charlie, kind="follow")
    assert ok(api_as(alice).get(f"{API}/notifications/"))["results"] == []
    assert ok(api_as(alice).post(f"{API}/notifications/read/"))["marked"] == 0
    assert Notification.objects.get().read_at is None
