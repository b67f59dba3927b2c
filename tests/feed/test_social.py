"""Follows and follow requests, blocks, mutes, likes, notifications, the feeds' shape
and cost, and the front page's cache."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from checkins.models import CheckIn, Visibility
from checkins.selectors import journey_cursor, parse_cursor
from checkins.services.checkins import checkin_delete, checkin_update
from checkins.services.moderation import journeys_make_private_by_age
from checkins.tasks import make_old_journeys_private
from feed.models import Block, Follow, Like, Mute, Notification
from feed.selectors import (
    FEED_GENERATION,
    FOLLOW_LIST_SIZE,
    PAGE_SIZE,
    cached_following_feed,
    cached_global_feed,
    profile_get,
    relation,
)
from feed.services.social import (
    block_create,
    follow_create,
    follow_request_answer,
    like_create,
    mute_create,
)
from tests.factories import CheckInFactory, UserFactory
from trainy.accounts.models import User

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def feed_messages(client: Client, path: str = "/") -> list[str]:
    response = client.get(path)
    assert response.status_code == 200
    return [journey.message for journey in response.context["page"].journeys]


# --- Follows ----------------------------------------------------------------------------------


@pytest.mark.parametrize("ours", ("none", "requested", "accepted"))
@pytest.mark.parametrize("theirs", ("none", "requested", "accepted"))
@pytest.mark.parametrize("block", ("none", "mine", "theirs", "both"))
@pytest.mark.parametrize("mute", (False, True))
def test_a_profiles_relation_reads_each_row_between_the_two(alice, bob, ours, theirs, block, mute):
    """relation() (one query for the profile page) for every follow either way, block either
    way or both, and mute; rows between others must not count."""
    charlie = UserFactory()
    for follower, followee, state in ((alice, bob, ours), (bob, alice, theirs)):
        if state != "none":
            Follow.objects.create(
                follower=follower, followee=followee, accepted=state == "accepted"
            )
        Follow.objects.create(follower=follower, followee=charlie, accepted=True)
    if block in ("mine", "both"):
        Block.objects.create(blocker=alice, blocked=bob)
    if block in ("theirs", "both"):
        Block.objects.create(blocker=bob, blocked=alice)
    Block.objects.create(blocker=charlie, blocked=alice)
    Block.objects.create(blocker=bob, blocked=charlie)
    if mute:
        Mute.objects.create(muter=alice, muted=bob)
    Mute.objects.create(muter=bob, muted=alice)

    found = relation(viewer=alice, owner=bob)

    assert (found.follows, found.requested) == (ours == "accepted", ours == "requested")
    assert found.followed_by == (theirs == "accepted")
    assert found.blocked == (block in ("mine", "both"))
    assert found.blocked_by == (block in ("theirs", "both"))
    assert found.muted == mute
    assert not found.is_self
    assert relation(viewer=alice, owner=alice).is_self


def test_following_a_public_profile_is_immediate_and_notifies(alice, bob):
    follow = follow_create(follower=bob, followee=alice)
    assert follow.accepted
    assert follow_create(follower=bob, followee=alice) == follow  # twice: still one
    assert Notification.objects.get(recipient=alice).kind == Notification.Kind.FOLLOW


def test_a_private_profile_turns_follows_into_requests_to_answer(
    alice, bob, charlie, django_capture_on_commit_callbacks
):
    alice.private_profile = True
    alice.save()
    CheckInFactory(user=alice, visibility=Visibility.FOLLOWERS, message="for followers")
    follow_create(follower=bob, followee=alice)
    follow_create(follower=charlie, followee=alice)
    assert Notification.objects.filter(recipient=alice, kind="follow_request").count() == 2

    profile = signed_in(alice).get(reverse("feed:profile", args=["alice"]))
    assert [f.follower for f in profile.context["requests"]] == [charlie, bob]
    assert feed_messages(signed_in(bob), reverse("feed:following")) == []

    # Answered (and committed: the cached feeds are let go then).
    with django_capture_on_commit_callbacks(execute=True):
        follow_request_answer(owner=alice, follower_id=bob.id, accept=True)
        follow_request_answer(owner=alice, follower_id=charlie.id, accept=False)

    assert feed_messages(signed_in(bob), reverse("feed:following")) == ["for followers"]
    assert not Follow.objects.filter(follower=charlie).exists()
    assert Notification.objects.get(recipient=bob).kind == Notification.Kind.FOLLOW_ACCEPTED


def test_following_through_the_page_and_unfollowing(alice, bob):
    client = signed_in(bob)
    response = client.post(reverse("feed:follow", args=["alice"]))
    assert response.status_code == 302
    assert Follow.objects.filter(follower=bob, followee=alice, accepted=True).exists()
    client.post(reverse("feed:unfollow", args=["alice"]))
    assert not Follow.objects.exists()
    assert client.post(reverse("feed:follow", args=["nobody"])).status_code == 404


# --- Follow lists ----------------------------------------------------------------------------


def listed(client: Client, name: str, username: str, query: str = "") -> list[str]:
    response = client.get(reverse(name, args=[username]) + query)
    assert response.status_code == 200
    return [person.username for person in response.context["follows"].people]


def test_follow_lists_show_accepted_follows_newest_first_linked_from_the_profile(
    alice, bob, charlie
):
    dora, emil = UserFactory(username="dora"), UserFactory(username="emil")
    follow_create(follower=bob, followee=alice)
    follow_create(follower=charlie, followee=alice)
    follow_create(follower=alice, followee=dora)
    Follow.objects.create(follower=emil, followee=alice, accepted=False)  # a request only
    gone = UserFactory(username="gone")
    Follow.objects.create(follower=gone, followee=alice)
    gone.is_active = False  # sign-in blocked: left out, as their profile is
    gone.save()
    client = Client()

    assert listed(client, "feed:followers", "alice") == ["charlie", "bob"]
    assert listed(client, "feed:followed", "alice") == ["dora"]
    assert listed(client, "feed:followed", "bob") == ["alice"]
    assert listed(client, "feed:followed", "dora") == []
    profile = client.get(reverse("feed:profile", args=["alice"])).content.decode()
    assert '<a href="/u/alice/followers/">2 followers</a>' in profile
    assert '<a href="/u/alice/following/">following 1</a>' in profile
    page = client.get(reverse("feed:followers", args=["alice"])).content.decode()
    assert 'href="/u/bob/"' in page and "Followers of Alice" in page
    assert client.get(reverse("feed:followers", args=["nobody"])).status_code == 404
    assert client.get(reverse("feed:followers", args=["gone"])).status_code == 404


def test_follow_lists_page_by_keyset_with_a_bounded_page_size(alice):
    people = UserFactory.create_batch(FOLLOW_LIST_SIZE + 3)
    Follow.objects.bulk_create(Follow(follower=person, followee=alice) for person in people)
    newest_first = [person.username for person in reversed(people)]
    first_page = newest_first[:FOLLOW_LIST_SIZE]
    client = Client()

    first = client.get(reverse("feed:followers", args=["alice"]) + "?size=1000")
    assert [p.username for p in first.context["follows"].people] == first_page
    cursor = first.context["follows"].next_cursor
    assert f'href="?after={cursor}"' in first.content.decode()
    with CaptureQueriesContext(connection) as queries:
        second = listed(client, "feed:followers", "alice", f"?after={cursor}")
    assert second == newest_first[FOLLOW_LIST_SIZE:]
    assert not any("OFFSET" in query["sql"].upper() for query in queries)
    # A cursor that is not one is the first page, never an error.
    for junk in ("soon", "-5", "9" * 40, ""):
        assert listed(client, "feed:followers", "alice", f"?after={junk}") == first_page


# --- Blocks and mutes ---------------------------------------------------------------------------


def test_a_block_ends_follows_and_likes_both_ways_and_prevents_new_ones(alice, bob):
    follow_create(follower=bob, followee=alice)
    follow_create(follower=alice, followee=bob)
    like_create(user=bob, checkin_id=CheckInFactory(user=alice).id)

    block_create(blocker=alice, blocked=bob)

    assert not Follow.objects.exists() and not Like.objects.exists()
    # Bob is told nothing of the block: to him Alice is as absent as an unknown user.
    with pytest.raises(User.DoesNotExist):
        follow_create(follower=bob, followee=alice)
    assert signed_in(bob).post(reverse("feed:follow", args=["alice"])).status_code == 404
    # Alice knows whom she blocked.
    with pytest.raises(ValidationError, match="You blocked Bob: unblock them to follow them"):
        follow_create(follower=alice, followee=bob)
    response = signed_in(alice).post(reverse("feed:follow", args=["bob"]), follow=True)
    assert "You blocked Bob: unblock them to follow them." in response.content.decode()
    assert not Follow.objects.exists()


def test_muted_travellers_leave_my_feeds_but_not_their_profiles(alice, bob):
    follow_create(follower=alice, followee=bob)
    CheckInFactory(user=bob, visibility=Visibility.PUBLIC, message="loud")
    mute_create(muter=alice, muted=bob)
    client = signed_in(alice)
    assert feed_messages(client) == []
    assert feed_messages(client, reverse("feed:following")) == []
    assert "loud" in client.get(reverse("feed:profile", args=["bob"])).content.decode()


# --- Likes ------------------------------------------------------------------------------------


def test_liking_shows_on_the_journey_notifies_and_can_be_undone(alice, bob):
    journey = CheckInFactory(user=alice, visibility=Visibility.PUBLIC)
    client = signed_in(bob)
    response = client.post(reverse("feed:like", args=[journey.id]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'aria-pressed="true"' in response.content.decode()
    assert "1 like" in response.content.decode()
    assert Notification.objects.get(recipient=alice, kind="like").checkin == journey
    client.post(reverse("feed:unlike", args=[journey.id]))
    assert not Like.objects.exists()


def test_likes_are_refused_where_they_do_not_belong(alice, bob):
    hidden = CheckInFactory(user=alice, visibility=Visibility.PRIVATE)
    mine = CheckInFactory(user=bob, visibility=Visibility.PUBLIC)
    client = signed_in(bob)
    assert client.post(reverse("feed:like", args=[hidden.id])).status_code == 404
    response = client.post(reverse("feed:like", args=[mine.id]), HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    alice.likes_enabled = False
    alice.save()
    open_one = CheckInFactory(user=alice, visibility=Visibility.PUBLIC)
    response = client.post(reverse("feed:like", args=[open_one.id]), follow=True)
    assert "Alice does not take likes." in response.content.decode()
    assert not Like.objects.exists()


def test_likes_and_follows_need_the_csrf_token(alice, bob):
    journey = CheckInFactory(user=alice, visibility=Visibility.PUBLIC)
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)
    assert client.post(reverse("feed:like", args=[journey.id])).status_code == 403
    assert client.post(reverse("feed:follow", args=["alice"])).status_code == 403
    assert not Like.objects.exists() and not Follow.objects.exists()


def test_likes_and_follows_are_rate_limited(alice, bob):
    client = signed_in(bob)
    statuses = [
        client.post(
            reverse("feed:follow" if n % 2 else "feed:unfollow", args=["alice"])
        ).status_code
        for n in range(31)
    ]
    assert statuses[:30] == [302] * 30
    assert statuses[30] == 429
    response = client.post(reverse("feed:follow", args=["alice"]))
    assert "Please wait a minute" in response.content.decode()
    assert response["Retry-After"] == "60"


# --- Notifications ----------------------------------------------------------------------------


def unread_on(client: Client) -> list[int]:
    """The ids of the notifications the page shows as unread."""
    response = client.get(reverse("feed:notifications"))
    assert response.status_code == 200
    return [item.id for item in response.context["items"] if item.read_at is None]


def test_notifications_list_follows_and_likes_and_reading_them_changes_nothing(alice, bob, charlie):
    follow_create(follower=bob, followee=alice)
    like_create(user=charlie, checkin_id=CheckInFactory(user=alice, line_name="RE 7").id)
    client = signed_in(alice)
    assert 'aria-label="2 unread"' in client.get("/").content.decode()
    page = client.get(reverse("feed:notifications")).content.decode()
    assert "Bob</a>\n        started following you" in page
    assert "liked your journey" in page and "RE 7" in page
    assert page.count('class="unread"') == 2 and "Mark all as read" in page

    # Looked at twice: still unread, in the list and in the header.
    assert len(unread_on(client)) == 2
    assert Notification.objects.filter(read_at__isnull=True).count() == 2
    assert 'aria-label="2 unread"' in client.get("/").content.decode()


def test_mark_all_as_read_marks_what_the_page_showed(alice, bob, charlie):
    follow_create(follower=bob, followee=alice)
    client = signed_in(alice)
    shown = unread_on(client)
    # A notification that comes in after the page was drawn...
    later = follow_create(follower=charlie, followee=alice)

    response = client.post(reverse("feed:notifications"), {"seen": max(shown)})

    assert response.status_code == 302 and response["Location"] == reverse("feed:notifications")
    # ...stays unread; the one the traveller saw is read.
    assert unread_on(client) == [Notification.objects.get(actor=later.follower).id]
    assert 'aria-label="1 unread"' in client.get("/").content.decode()
    client.post(reverse("feed:notifications"), {"seen": max(unread_on(client))})
    assert unread_on(client) == []
    assert "Mark all as read" not in client.get(reverse("feed:notifications")).content.decode()


def test_marking_read_needs_the_csrf_token_and_a_valid_value(alice, bob):
    follow_create(follower=bob, followee=alice)
    newest = Notification.objects.get().id
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(alice)
    assert guarded.post(reverse("feed:notifications"), {"seen": newest}).status_code == 403
    client = signed_in(alice)
    for bad in ({}, {"seen": "soon"}, {"seen": "-1"}, {"seen": "9" * 30}):
        response = client.post(reverse("feed:notifications"), bad)
        assert response.status_code == 400, bad
        assert "Reload the notifications and try again." in response.content.decode(), bad
    assert Notification.objects.get().read_at is None


def test_the_header_count_on_a_kept_rendered_page_follows_marking_read(
    alice, bob, django_capture_on_commit_callbacks
):
    follow_create(follower=bob, followee=alice)
    client = signed_in(alice)
    client.get("/")  # sets the CSRF cookie: from now on the page is kept rendered
    assert 'aria-label="1 unread"' in client.get("/").content.decode()
    # Written behind the services' back, so the page kept rendered does not show it yet.
    Notification.objects.create(recipient=alice, actor=bob, kind=Notification.Kind.FOLLOW)
    assert 'aria-label="1 unread"' in client.get("/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("feed:notifications"), {"seen": Notification.objects.latest("id").id})

    assert 'unread"' not in client.get("/").content.decode()


def test_notifications_from_someone_blocked_disappear(alice, bob):
    follow_create(follower=bob, followee=alice)
    block_create(blocker=alice, blocked=bob)
    page = signed_in(alice).get(reverse("feed:notifications")).content.decode()
    assert "started following you" not in page


# --- Settings and the periodic privacy task ---------------------------------------------------


def test_journeys_older_than_the_setting_become_private(alice, bob):
    old = CheckInFactory(user=alice, visibility=Visibility.PUBLIC,
                         departure_planned=timezone.now() - timedelta(days=40))  # fmt: skip
    recent = CheckInFactory(user=alice, visibility=Visibility.PUBLIC)
    untouched = CheckInFactory(user=bob, visibility=Visibility.PUBLIC,
                               departure_planned=timezone.now() - timedelta(days=400))  # fmt: skip
    alice.private_after_days = 30
    alice.save()

    assert make_old_journeys_private() == 1

    visibility = dict(CheckIn.objects.values_list("id", "visibility"))
    assert visibility == {old.id: "private", recent.id: "public", untouched.id: "public"}
    assert journeys_make_private_by_age() == 0


# --- The feeds' shape and cost ------------------------------------------------------------------


def test_a_status_message_is_shown_as_text_never_as_markup(client, alice):
    CheckInFactory(user=alice, message="<script>alert('x')</script>")
    page = client.get("/").content.decode()
    assert "<script>alert" not in page
    # The cards are Jinja2's (trainy/jinja2.py), which writes a quote as &#39;.
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


def test_a_feed_page_costs_the_same_queries_whatever_its_size(alice, monkeypatch):
    people = [UserFactory() for _ in range(6)]
    for n in range(30):
        when = timezone.now() - timedelta(hours=n + 4)
        journey = CheckInFactory(
            user=people[n % 6], visibility=Visibility.PUBLIC, departure_planned=when
        )
        Like.objects.create(user=alice, checkin=journey)
        follow_create(follower=alice, followee=people[n % 6])
    client = signed_in(alice)

    def queries(path: str) -> int:
        client.get(path)  # warm: session and the like
        FEED_GENERATION.move_on()  # nothing cached: the page is built from the database
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    from feed import selectors

    profile = reverse("feed:profile", args=[people[0].username])
    for path in ("/", reverse("feed:following"), profile):
        monkeypatch.setattr(selectors, "PAGE_SIZE", 3)
        small = queries(path)
        monkeypatch.setattr(selectors, "PAGE_SIZE", 20)
        large = queries(path)
        assert small == large, path


def test_a_journey_in_progress_is_on_the_move_now(client, alice):
    CheckInFactory(
        user=alice, line_name="ICE 9", departure_planned=timezone.now() - timedelta(minutes=20)
    )
    CheckInFactory(
        user=alice, line_name="ICE 8", departure_planned=timezone.now() - timedelta(hours=5)
    )
    response = client.get("/")
    assert [j.line_name for j in response.context["travelling"]] == ["ICE 9"]
    assert 'data-testid="travelling-now"' in response.content.decode()


def front_page(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_cached_front_page_changes_the_moment_a_journey_does(
    client, alice, django_capture_on_commit_callbacks
):
    journey = CheckInFactory(user=alice, visibility=Visibility.PUBLIC, message="now you see me")
    assert "now you see me" in front_page(client)
    # The signed-out front page is cached: a row written behind the services' back (as this
    # factory does) does not show yet...
    CheckInFactory(user=alice, visibility=Visibility.PUBLIC, message="sneaked in",
                   departure_planned=timezone.now() - timedelta(hours=9))  # fmt: skip
    assert "sneaked in" not in front_page(client)
    # ...while a change made through them shows at once.
    with django_capture_on_commit_callbacks(execute=True):
        checkin_update(checkin=journey, message="now you see me", visibility="private",
                       purpose="private")  # fmt: skip
    page = front_page(client)
    assert "sneaked in" in page and "now you see me" not in page
    with django_capture_on_commit_callbacks(execute=True):
        checkin_delete(checkin=CheckIn.objects.get(message="sneaked in"))
    assert "sneaked in" not in front_page(client)
    assert 'data-testid="journey"' not in front_page(client)


def test_the_following_feed_is_not_cut_short_by_people_it_leaves_out(alice, bob):
    quiet, muted, gone = UserFactory(), UserFactory(), UserFactory()
    for person in (bob, quiet, muted, gone):
        follow_create(follower=alice, followee=person)
    mute_create(muter=alice, muted=muted)
    gone.is_active = False  # sign-in blocked
    gone.save()
    now = timezone.now()
    # A page's worth of newer journeys from each person the feed leaves out...
    for person in (muted, gone):
        for n in range(PAGE_SIZE + 1):
            CheckInFactory(user=person, visibility=Visibility.PUBLIC,
                           departure_planned=now - timedelta(hours=4, minutes=n))  # fmt: skip
    # ...and older ones of those it shows.
    CheckInFactory(user=bob, visibility=Visibility.PUBLIC, message="bob's",
                   departure_planned=now - timedelta(days=2))  # fmt: skip
    CheckInFactory(user=quiet, visibility=Visibility.PUBLIC, message="quiet's",
                   departure_planned=now - timedelta(days=3))  # fmt: skip

    assert feed_messages(signed_in(alice), reverse("feed:following")) == ["bob's", "quiet's"]


def test_every_feed_shows_each_journeys_likes_and_whether_the_viewer_liked_it(alice, bob):
    """Each way a feed reads its rows (the kept newest journeys, the global feed's older pages,
    the following feed, a profile, "on the move now") marks the like counts and the viewer's
    own likes as the likes table has them, for each viewer alike."""
    charlie = UserFactory()
    now = timezone.now()
    journeys = [
        CheckInFactory(user=alice, visibility=Visibility.PUBLIC,
                       departure_planned=now - timedelta(hours=k, minutes=10),
                       arrival_planned=now - timedelta(hours=k) + timedelta(minutes=50))
        for k in range(3)
    ]  # fmt: skip
    liked_by = {bob: {journeys[0].id}, charlie: {journeys[0].id, journeys[1].id}}
    for viewer, ids in liked_by.items():
        follow_create(follower=viewer, followee=alice)
        for checkin_id in ids:
            like_create(user=viewer, checkin_id=checkin_id)
    counts = {journeys[0].id: 2, journeys[1].id: 1, journeys[2].id: 0}
    FEED_GENERATION.move_on()
    older = parse_cursor(journey_cursor(journeys[0]))
    for viewer, mine in liked_by.items():
        first, moving = cached_global_feed(viewer=viewer)
        pages = {
            "global": first.journeys,
            "on the move": moving,
            "global, older": cached_global_feed(viewer=viewer, after=older)[0].journeys,
            "following": cached_following_feed(viewer=viewer)[0].journeys,
            "profile": profile_get(viewer=viewer, username=alice.username).page.journeys,
        }
        assert [j.id for j in pages["global"]] == [j.id for j in journeys]
        assert [j.id for j in pages["on the move"]] == [journeys[0].id]
        assert [j.id for j in pages["global, older"]] == [j.id for j in journeys[1:]]
        for name, shown in pages.items():
            marked = {j.id: (j.like_count, j.liked) for j in shown}
            expected = {j.id: (counts[j.id], j.id in mine) for j in shown}
            assert marked == expected, (viewer.username, name)
