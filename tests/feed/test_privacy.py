"""The privacy matrix: every visibility level, public and private profiles, and every kind of
viewer, on every read path that shows a journey or a person. The expectations are written out
here, apart from the selector they check (checkins.selectors.checkins_visible_to).

The API's read paths are in the matrix too, read with each viewer's personal access token and
with their session. The last test walks every GET route of the URL conf (the API's included) for
every viewer, so a page added tomorrow is checked the day it is added."""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from checkins.models import CheckIn, JourneyImport, Visibility
from checkins.selectors import checkins_visible_to, parse_cursor, relations_of
from checkins.services.enrichment_lifecycle import journey_enrich
from feed.models import Block, Follow, Like, Mute, Notification
from feed.selectors import (
    FEED_VISIBILITIES,
    FOLLOWING_VISIBILITIES,
    cached_global_feed,
    following_feed,
    global_feed,
)
from stats.models import Export
from stats.services import calendar_token_renew
from tests.apiclient import bearer, token_for
from tests.factories import CheckInFactory, UserFactory
from tests.urlwalk import response_body, routes, url_for
from tests.world import SECRET_PARAMETERS, UNKNOWN_ID, UNKNOWN_TOKEN, build_world
from trainy.accounts.models import User
from trainy.accounts.services import sign_in_allow

pytestmark = pytest.mark.django_db

VIEWERS = ("owner", "follower", "outsider", "anonymous", "blocked")
SIGNED_IN = ("owner", "follower", "outsider", "blocked")
LEVELS = [level.value for level in Visibility]


# --- The expectations ---------------------------------------------------------------------------


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


def in_leaderboard(viewer: str, visibility: str, private_profile: bool) -> bool:
    """A leaderboard counts what the viewer's global feed lists, of public profiles only: a rank
    is shown to everyone."""
    return in_global_feed(viewer, visibility, private_profile) and not private_profile


def in_own_only_paths(viewer: str) -> bool:
    """Calendar feed, statistics map and exports: the owner's, and nobody else's."""
    return viewer == "owner"


def follow_lists_shown(viewer: str, private_profile: bool) -> bool | None:
    """Whether the viewer sees who follows the owner and whom they follow; None: the lists
    answer 404, as for an unknown user."""
    if viewer == "blocked":
        return None
    return not private_profile or viewer in ("owner", "follower")


# --- The cast -----------------------------------------------------------------------------------


@dataclass
class Cast:
    owner: User
    people: dict[str, User]  # by role, and "liker"
    clients: dict[str, Client]


@pytest.fixture
def cast():
    """Olga owns the journeys; Fred follows her (accepted); Otto is signed in and nothing to
    her; Bea is blocked by her; the anonymous visitor is not signed in; Lena likes things and
    is followed by Olga. Everyone signed in has a calendar feed."""
    owner = UserFactory(username="olga", display_name="Olga")
    fred = UserFactory(username="fred", display_name="Fred")
    otto = UserFactory(username="otto", display_name="Otto")
    bea = UserFactory(username="bea", display_name="Bea")
    lena = UserFactory(username="lena", display_name="Lena")
    Follow.objects.create(follower=fred, followee=owner, accepted=True)
    Follow.objects.create(follower=owner, followee=lena, accepted=True)
    # Bea followed Olga once; the block ended that, as block_create does.
    Block.objects.create(blocker=owner, blocked=bea)
    people = {"owner": owner, "follower": fred, "outsider": otto, "blocked": bea, "liker": lena}
    clients = {"anonymous": Client()}
    for role in SIGNED_IN:
        calendar_token_renew(user=people[role])
        clients[role] = Client()
        clients[role].force_login(people[role])
    return Cast(owner, people, clients)


def shows(client: Client, path: str, marker: str) -> bool:
    response = client.get(path)
    assert response.status_code in (200, 404), (path, response.status_code)
    return response.status_code == 200 and marker in response.content.decode()


def travelling_now(client: Client, path: str = "/") -> str:
    """The text of the "on the move now" block of a feed page ("" without one). Read from the
    page itself: a page kept rendered has no template context."""
    response = client.get(path)
    assert response.status_code == 200
    found = re.search(
        r'data-testid="travelling-now".*?</section>', response.content.decode(), re.DOTALL
    )
    return found.group(0) if found else ""


def leaderboard_names(client: Client) -> set[str]:
    response = client.get(reverse("stats:leaderboard"))
    assert response.status_code == 200
    return {s.user.username for _, board, _ in response.context["boards"] for s in board}


def on_the_map(client: Client) -> bool:
    """Whether the statistics map draws a route (only the owner has journeys in the cast)."""
    response = client.get(reverse("stats:map") + "?period=all")
    assert response.status_code == 200
    return bool(response.json()["paths"])


# The social API's reads of the matrix ({journey}: its journey).
API_SOCIAL_READS = (
    "/api/v1/feed/global/",
    "/api/v1/feed/following/",
    "/api/v1/feed/now/",
    "/api/v1/feed/now/?following=true",
    "/api/v1/users/olga/",
    "/api/v1/users/olga/journeys/",
    "/api/v1/journeys/{journey}/likes/",
    "/api/v1/notifications/",
)


def api_social_paths_follow_the_rules(
    reader: Client, case: tuple[str, str, bool], journey: CheckIn, marker: str
) -> None:
    """The feeds, the profile's journeys, the likers and the notifications over the API list
    exactly what their pages list, for the viewer of ``case`` (read with ``reader``)."""
    viewer = case[0]
    seen = may_see(*case)

    def listed(path: str) -> bool:
        response = reader.get(path)
        assert response.status_code in (200, 404), (path, response.status_code, case)
        if response.status_code == 404:
            return False
        return marker in [item["message"] for item in response.json()["results"]]

    assert listed("/api/v1/feed/global/") == in_global_feed(*case), case
    assert listed("/api/v1/feed/following/") == in_following_feed(*case), case
    assert listed("/api/v1/feed/now/") == in_global_feed(*case), case
    assert listed("/api/v1/feed/now/?following=true") == in_following_feed(*case), case
    assert listed("/api/v1/users/olga/journeys/") == seen, case
    # The profile: 404 only for the one Olga blocked; its totals count what they may see.
    profile = reader.get("/api/v1/users/olga/")
    assert profile.status_code == (404 if viewer == "blocked" else 200), case
    if profile.status_code == 200:
        assert profile.json()["totals"]["journeys"] == int(seen), case
    likes = reader.get(f"/api/v1/journeys/{journey.id}/likes/")
    assert likes.status_code == (200 if seen else 404), case
    assert ("lena" in likes.content.decode()) == seen, case
    inbox = reader.get("/api/v1/notifications/").json()["results"]
    assert (journey.id in [item["journey_id"] for item in inbox]) == seen, case


# --- The matrix over every read path -------------------------------------------------------------


@pytest.mark.parametrize(
    ("visibility", "private_profile"), list(itertools.product(LEVELS, (False, True)))
)
def test_every_read_path_follows_the_visibility_rules(cast, visibility, private_profile):
    owner, clients = cast.owner, cast.clients
    owner.private_profile = private_profile
    owner.save()
    marker = f"journey-{visibility}-{private_profile}"
    line = f"LINE{visibility}{private_profile}".upper()
    # On the move now: departed half an hour ago, arrives in an hour.
    now = timezone.now()
    journey = CheckInFactory(
        user=owner, visibility=visibility, message=marker, line_name=line,
        departure_planned=now - timedelta(minutes=30), arrival_planned=now + timedelta(hours=1),
    )  # fmt: skip
    Like.objects.create(user=cast.people["liker"], checkin=journey)
    journey_enrich(checkin_id=journey.id)  # its route, for the statistics map
    export = Export.objects.create(
        user=owner, format="csv", status=Export.Status.DONE, rows_total=1, rows_done=1,
        filename="journeys.csv", content_type="text/csv", content=f"{line},{marker}\n".encode(),
    )  # fmt: skip
    # An import of the owner's: its file's name and its summary are the owner's alone.
    journey_import = JourneyImport.objects.create(
        user=owner, filename=f"{marker}.json", format="travelynx-json", visibility="private",
        status=JourneyImport.Status.DONE, summary={"new": 1, "created": 1, "warnings": [marker]},
    )  # fmt: skip
    import_pages = [reverse(name, args=[journey_import.id])
                    for name in ("checkins:import", "checkins:import_progress")]  # fmt: skip
    for role in SIGNED_IN:  # a like as its notification reads, to each signed-in viewer
        Notification.objects.create(
            recipient=cast.people[role], actor=cast.people["liker"],
            kind=Notification.Kind.LIKE, checkin=journey,
        )  # fmt: skip

    for viewer in VIEWERS:
        client = clients[viewer]
        seen = may_see(viewer, visibility, private_profile)
        case = (viewer, visibility, private_profile)
        detail = client.get(reverse("checkins:detail", args=[journey.id]))
        assert detail.status_code == (200 if seen else 404), case
        likes = client.get(reverse("feed:likers", args=[journey.id]))
        assert likes.status_code == (200 if seen else 404), case
        assert ("Lena" in likes.content.decode()) == seen, case
        assert shows(client, reverse("feed:profile", args=["olga"]), marker) == seen, case
        assert shows(client, "/", marker) == in_global_feed(*case), case
        assert (line in travelling_now(client)) == in_global_feed(*case), case
        assert ("olga" in leaderboard_names(client)) == in_leaderboard(*case), case
        # The API's read paths: the same rule, with the viewer's token and the site's session.
        api_detail = f"/api/v1/journeys/{journey.id}/"
        if viewer == "anonymous":
            assert client.get(api_detail).status_code == 401, case
            assert client.get("/api/v1/journeys/").status_code == 401, case
        else:
            api = bearer(token_for(cast.people[viewer], ("read",)))
            for reader in (api, client):
                assert reader.get(api_detail).status_code == (200 if seen else 404), case
                listing = reader.get("/api/v1/journeys/").content.decode()
                assert (marker in listing) == in_own_only_paths(viewer), case
                api_social_paths_follow_the_rules(reader, case, journey, marker)
            # Statistics and exports over the API: the owner's alone.
            exporter = bearer(token_for(cast.people[viewer], ("read", "exports")))
            for reader in (exporter, client):
                for path in (f"/api/v1/exports/{export.id}/",
                             f"/api/v1/exports/{export.id}/download/"):  # fmt: skip
                    status = reader.get(path).status_code
                    assert status == (200 if in_own_only_paths(viewer) else 404), (case, path)
                figures = reader.get("/api/v1/stats/?period=all").content.decode()
                assert (line in figures) == in_own_only_paths(viewer), case
            # Imports over the API: the owner's alone.
            for reader in (api, client):
                status = reader.get(f"/api/v1/imports/{journey_import.id}/").status_code
                assert status == (200 if in_own_only_paths(viewer) else 404), case
                listing = reader.get("/api/v1/imports/").content.decode()
                assert (marker in listing) == in_own_only_paths(viewer), case
            # The API's writes reach the owner's own journeys only: 404 to anyone else, even to
            # a viewer who sees the journey (the owner's change here changes nothing).
            writer = bearer(token_for(cast.people[viewer], ("checkins:write",)))
            same = writer.patch(api_detail, {"message": marker}, content_type="application/json")
            assert same.status_code == (200 if in_own_only_paths(viewer) else 404), case
            if not in_own_only_paths(viewer):
                assert writer.delete(api_detail).status_code == 404, case
        if viewer == "anonymous":
            for path in API_SOCIAL_READS:
                assert client.get(path.format(journey=journey.id)).status_code == 401, path
            for path in (
                reverse("feed:following"),
                reverse("feed:notifications"),
                reverse("stats:map"),
                reverse("exports:status", args=[export.id]),
                reverse("exports:download", args=[export.id]),
                reverse("checkins:import_new"),
                *import_pages,
            ):
                assert client.get(path).status_code == 302, path  # to the sign-in page
            continue
        assert shows(client, reverse("feed:following"), marker) == in_following_feed(*case)
        following = travelling_now(client, reverse("feed:following"))
        assert (line in following) == in_following_feed(*case), case
        assert shows(client, reverse("feed:notifications"), line) == seen, case
        token = cast.people[viewer].calendar_token
        calendar = client.get(reverse("exports:calendar_feed", args=[token]))
        assert calendar.status_code == 200, case
        unfolded = calendar.content.replace(b"\r\n ", b"").decode()
        assert (marker in unfolded) == in_own_only_paths(viewer), case
        assert on_the_map(client) == in_own_only_paths(viewer), case
        for name in ("exports:status", "exports:progress", "exports:download"):
            response = client.get(reverse(name, args=[export.id]))
            assert response.status_code == (200 if in_own_only_paths(viewer) else 404), case
        download = client.get(reverse("exports:download", args=[export.id]))
        assert (marker.encode() in response_body(download)) == in_own_only_paths(viewer), case
        for path in import_pages:
            response = client.get(path)
            assert response.status_code == (200 if in_own_only_paths(viewer) else 404), case
            assert (marker in response.content.decode()) == in_own_only_paths(viewer), case
        assert shows(client, reverse("checkins:import_new"), marker) == in_own_only_paths(viewer)


def test_the_relations_rule_for_loaded_journeys_is_the_selectors_rule():
    """Relations.sees (the first feed pages, cut from journeys already loaded) against
    checkins_visible_to (every other read path), for every visibility, public and private
    profiles, active or blocked sign-in, and every standing: self, accepted follower, pending
    request, stranger, blocked either way."""
    viewer = UserFactory()
    others = {}
    for standing, private, active in itertools.product(
        ("follower", "requested", "stranger", "blocks-viewer", "blocked-by-viewer"),
        (False, True),
        (True, False),
    ):
        other = UserFactory(private_profile=private, is_active=active)
        others[(standing, private, active)] = other
        if standing in ("follower", "requested"):
            Follow.objects.create(follower=viewer, followee=other, accepted=standing == "follower")
        elif standing == "blocks-viewer":
            Block.objects.create(blocker=other, blocked=viewer)
        elif standing == "blocked-by-viewer":
            Block.objects.create(blocker=viewer, blocked=other)
    for owner in (viewer, *others.values()):
        for level in LEVELS:
            CheckInFactory(user=owner, visibility=level)
    journeys = list(CheckIn.objects.select_related("user"))
    assert len(journeys) == len(LEVELS) * (len(others) + 1)

    relations = relations_of(viewer)
    by_rule = {journey.id for journey in journeys if relations.sees(journey)}
    by_selector = set(checkins_visible_to(viewer).values_list("id", flat=True))
    assert by_rule == by_selector
    # Neither is trivially all or nothing.
    assert 0 < len(by_rule) < len(journeys)


def test_someone_elses_calendar_token_shows_only_their_journeys_and_an_unknown_one_404s(cast):
    owner, clients = cast.owner, cast.clients
    CheckInFactory(user=owner, visibility=Visibility.PUBLIC, message="olgas trip")
    fred = cast.people["follower"]
    # Anyone holding Fred's token (signed in as Olga, or not at all) gets Fred's journeys only.
    for client in (clients["owner"], clients["anonymous"]):
        response = client.get(reverse("exports:calendar_feed", args=[fred.calendar_token]))
        assert response.status_code == 200
        assert b"olgas trip" not in response.content and b"Journeys of Fred" in response.content
    unknown = clients["owner"].get(reverse("exports:calendar_feed", args=[UNKNOWN_TOKEN]))
    assert unknown.status_code == 404


@pytest.mark.parametrize("private_profile", [False, True])
def test_follow_lists_follow_the_profile_rules(cast, private_profile):
    owner, clients = cast.owner, cast.clients
    owner.private_profile = private_profile
    owner.save()
    for viewer in VIEWERS:
        shown = follow_lists_shown(viewer, private_profile)
        for name, listed in (("feed:followers", "fred"), ("feed:followed", "lena")):
            response = clients[viewer].get(reverse(name, args=["olga"]))
            case = (viewer, name, private_profile)
            if shown is None:
                assert response.status_code == 404, case
                continue
            assert response.status_code == 200, case
            people = [person.username for person in response.context["follows"].people]
            assert (listed in people) == shown, case
            assert response.context["follows"].shown == shown, case
        # The API's lists: the same people, the same 404s (its token's or its session's).
        for api_path, listed in (("followers", "fred"), ("following", "lena")):
            response = clients[viewer].get(f"/api/v1/users/olga/{api_path}/")
            case = (viewer, api_path, private_profile)
            if viewer == "anonymous":
                assert response.status_code == 401, case
                continue
            if shown is None:
                assert response.status_code == 404, case
                continue
            assert response.status_code == 200, case
            body = response.json()
            people = [person["username"] for person in body["results"]]
            assert ((listed in people), body["shown"]) == (shown, shown), case


def test_the_blocked_user_does_not_even_find_the_profile(cast):
    clients = cast.clients
    assert clients["blocked"].get(reverse("feed:profile", args=["olga"])).status_code == 404
    assert clients["outsider"].get(reverse("feed:profile", args=["olga"])).status_code == 200


def test_the_blocker_does_not_see_the_blocked_users_journeys_nor_their_lists(cast):
    clients = cast.clients
    bea = cast.people["blocked"]
    theirs = CheckInFactory(user=bea, visibility=Visibility.PUBLIC, message="bea on a trip")
    assert clients["owner"].get(reverse("checkins:detail", args=[theirs.id])).status_code == 404
    assert "bea on a trip" not in clients["owner"].get("/").content.decode()
    assert "bea on a trip" in clients["outsider"].get("/").content.decode()
    for name in ("feed:followers", "feed:followed"):
        assert clients["owner"].get(reverse(name, args=["bea"])).status_code == 404
        assert clients["outsider"].get(reverse(name, args=["bea"])).status_code == 200


def test_profile_totals_count_only_the_journeys_the_viewer_may_see(cast):
    owner, clients = cast.owner, cast.clients
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


def test_notifications_leave_out_blocked_actors_and_journeys_the_recipient_may_not_see(cast):
    owner, clients = cast.owner, cast.clients
    fred, bea = cast.people["follower"], cast.people["blocked"]
    mine = CheckInFactory(user=owner, line_name="RE 1", visibility=Visibility.PRIVATE)
    Notification.objects.create(recipient=owner, actor=bea, kind=Notification.Kind.FOLLOW)
    Notification.objects.create(recipient=owner, actor=fred, kind=Notification.Kind.LIKE,
                                checkin=mine)  # fmt: skip
    # Not Fred's to see: a private journey of someone else's.
    Notification.objects.create(recipient=fred, actor=owner, kind=Notification.Kind.LIKE,
                                checkin=mine)  # fmt: skip

    olgas = clients["owner"].get(reverse("feed:notifications"))
    assert [(n.actor.username, n.kind) for n in olgas.context["items"]] == [("fred", "like")]
    assert 'aria-label="1 unread"' in olgas.content.decode()  # the header counts the same
    freds = clients["follower"].get(reverse("feed:notifications"))
    assert freds.context["items"] == [] and "RE 1" not in freds.content.decode()
    assert "unread" not in freds.content.decode()


# --- A traveller whose sign-in is blocked ------------------------------------------------------


def test_a_traveller_whose_sign_in_is_blocked_leaves_every_other_viewers_pages(cast):
    owner, clients = cast.owner, cast.clients
    lena = cast.people["liker"]
    now = timezone.now()
    journey = CheckInFactory(
        user=owner, visibility=Visibility.PUBLIC, message="gone soon", line_name="ICE 1601",
        departure_planned=now - timedelta(minutes=30), arrival_planned=now + timedelta(hours=1),
    )  # fmt: skip
    lenas = CheckInFactory(user=lena, visibility=Visibility.PUBLIC, message="lena's trip")
    Like.objects.create(user=owner, checkin=lenas)
    Notification.objects.create(recipient=lena, actor=owner, kind=Notification.Kind.LIKE,
                                checkin=lenas)  # fmt: skip
    Notification.objects.create(recipient=cast.people["follower"], actor=owner,
                                kind=Notification.Kind.FOLLOW_ACCEPTED)  # fmt: skip
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)

    assert sign_in_allow(users=User.objects.filter(pk=owner.pk), allowed=False, by=admin) == 1

    lena_client = Client()
    lena_client.force_login(lena)
    clients = {**clients, "liker": lena_client}
    for viewer in ("follower", "outsider", "anonymous", "liker"):
        client = clients[viewer]
        for path in (
            reverse("checkins:detail", args=[journey.id]),
            reverse("feed:likers", args=[journey.id]),
            reverse("feed:profile", args=["olga"]),
            reverse("feed:followers", args=["olga"]),
            reverse("feed:followed", args=["olga"]),
        ):
            assert client.get(path).status_code == 404, (viewer, path)
        assert not shows(client, "/", "gone soon"), viewer
        assert "ICE 1601" not in travelling_now(client), viewer
        assert "olga" not in leaderboard_names(client), viewer
        likers = client.get(reverse("feed:likers", args=[lenas.id]))
        assert "Olga" not in likers.content.decode(), viewer
        lenas_followers = client.get(reverse("feed:followers", args=["lena"]))
        assert lenas_followers.context["follows"].people == [], viewer
        if viewer != "anonymous":
            assert not shows(client, reverse("feed:following"), "gone soon"), viewer
            inbox = client.get(reverse("feed:notifications")).content.decode()
            assert "Olga" not in inbox, viewer
            # The API's reads (with the session) answer as for an unknown traveller too.
            for suffix in ("", "journeys/", "followers/", "following/"):
                path = f"/api/v1/users/olga/{suffix}"
                assert client.get(path).status_code == 404, (viewer, path)
            for path in ("/api/v1/feed/global/", "/api/v1/feed/following/",
                         "/api/v1/feed/now/", "/api/v1/notifications/"):  # fmt: skip
                assert b"olga" not in client.get(path).content, (viewer, path)


# --- A block does not show ---------------------------------------------------------------------


CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def test_a_block_answers_as_an_unknown_user_or_journey_would(cast):
    """Everything Bea (blocked by Olga) can do about Olga or her journeys answers exactly as it
    does for a username or a journey that does not exist: redirects, status, page and
    messages."""
    clients = cast.clients
    journey = CheckInFactory(user=cast.owner, visibility=Visibility.PUBLIC)
    htmx = {"HTTP_HX_REQUEST": "true"}
    asked = [
        ("get", "/u/{user}/", {}),
        ("get", "/u/{user}/followers/", {}),
        ("get", "/u/{user}/following/", {}),
        *(
            ("post", f"/u/{{user}}/{action}/", {})
            for action in ("follow", "unfollow", "block", "unblock", "mute", "unmute")
        ),
        ("get", "/journeys/{journey}/", {}),
        ("get", "/journeys/{journey}/likes/", {}),
        ("post", "/journeys/{journey}/like/", {}),
        ("post", "/journeys/{journey}/unlike/", {}),
        ("post", "/journeys/{journey}/like/", htmx),
        ("post", "/journeys/{journey}/unlike/", htmx),
    ]

    def answer(client: Client, method: str, path: str, headers: dict[str, str]):
        response = getattr(client, method)(path, follow=True, **headers)
        # Any message the request left is shown on the next page.
        after = client.get(reverse("accounts:settings"))
        said = [str(message) for message in after.context["messages"]]
        # Each page's CSRF token is masked afresh (the sign-out form): not part of the answer.
        page = CSRF_TOKEN.sub("", response.content.decode())
        return response.redirect_chain, response.status_code, page, said

    for method, pattern, headers in asked:
        theirs = pattern.format(user="olga", journey=journey.id)
        unknown = pattern.format(user="nobody", journey=UNKNOWN_ID)
        blocked = answer(clients["blocked"], method, theirs, headers)
        assert blocked == answer(clients["blocked"], method, unknown, headers), theirs
        assert blocked[:2] == ([], 404), theirs
        # Someone not blocked gets a real answer: the comparison above could fail.
        assert answer(clients["outsider"], method, theirs, headers)[:2] != ([], 404), theirs


# --- Every GET route, every viewer ------------------------------------------------------------


MARKER = re.compile(rb"MK\d\d[A-Z]+Q")


def test_no_page_shows_a_journey_its_viewer_may_not_see():
    """Every GET route of the URL conf (path values from tests/world.py), for every viewer of
    the matrix, over journeys of every visibility on a public profile (Olga's), a private one
    (Pia's) and one whose sign-in is blocked (Ines's): no response, whatever its status and
    type, carries the marker of a journey its viewer may not see. Journeys are on the move now
    (so in "on the move now" too), liked (likers pages), notified to every viewer, in their
    owners' exports and calendar feeds.

    Admin routes are skipped: the admin is for staff, who see every journey by design. A
    calendar token is a traveller's secret (a URL with it is theirs whoever sends it), so each
    viewer is sent their own (World.secret_values)."""
    world = build_world()
    now = timezone.now()
    olga = UserFactory(username="olga", display_name="Olga")
    pia = UserFactory(username="pia", display_name="Pia", private_profile=True)
    ines = UserFactory(username="ines", display_name="Ines")
    fred = UserFactory(username="fred", display_name="Fred")
    otto = UserFactory(username="otto", display_name="Otto")
    bea = UserFactory(username="bea", display_name="Bea")
    lena = UserFactory(username="lena", display_name="Lena")
    owners = (olga, pia, ines)
    for owner in owners:
        Follow.objects.create(follower=fred, followee=owner, accepted=True)
        Block.objects.create(blocker=owner, blocked=bea)
    Follow.objects.create(follower=olga, followee=lena, accepted=True)
    viewers = {"olga": olga, "pia": pia, "fred": fred, "otto": otto, "bea": bea}

    journeys: dict[bytes, CheckIn] = {}
    for owner, level in itertools.product(owners, LEVELS):
        marker = f"MK{len(journeys):02d}{level.upper()}{owner.username.upper()}Q"
        journeys[marker.encode()] = journey = CheckInFactory(
            user=owner, visibility=level, message=marker, line_name=marker,
            departure_planned=now - timedelta(minutes=30), arrival_planned=now + timedelta(hours=1),
        )  # fmt: skip
        Like.objects.create(user=lena, checkin=journey)
        for viewer in viewers.values():
            Notification.objects.create(
                recipient=viewer, actor=lena, kind=Notification.Kind.LIKE, checkin=journey
            )
    exports = [
        Export.objects.create(
            user=owner,
            format="csv",
            status=Export.Status.DONE,
            rows_total=5,
            rows_done=5,
            filename="journeys.csv",
            content_type="text/csv",
            content=b"\n".join(m for m, j in journeys.items() if j.user_id == owner.pk),
        )
        for owner in owners
    ]
    for person in (*viewers.values(), ines):
        calendar_token_renew(user=person)
    ines.is_active = False
    ines.save()
    world.extra = {
        "checkin_id": [journey.id for journey in journeys.values()],
        "username": [*viewers, "ines", "lena"],
        "export_id": [export.id for export in exports],
        "follower_id": [fred.id, bea.id],
    }

    def role(viewer: str, owner: User) -> str:
        if viewer == "anonymous":
            return "anonymous"
        if viewer == owner.username:
            return "owner"
        return {"fred": "follower", "bea": "blocked"}.get(viewer, "outsider")

    def allowed(viewer: str, journey: CheckIn) -> bool:
        owner = journey.user
        return owner.is_active and may_see(role(viewer, owner), journey.visibility,
                                           owner.private_profile)  # fmt: skip

    for journey in journeys.values():
        journey.user.refresh_from_db()
    pairs = requests = skipped = 0
    found: dict[str, set[bytes]] = {}
    for viewer in (*viewers, "anonymous"):
        user = viewers.get(viewer)
        client = Client()
        if user is not None:
            client.force_login(user)
        forbidden = {marker for marker, journey in journeys.items() if not allowed(viewer, journey)}
        found[viewer] = set()
        for route in routes():
            if route.is_admin:
                skipped += 1
                continue
            pairs += 1
            choices = [
                world.secret_values(name, user) if name in SECRET_PARAMETERS
                else world.good_values(route, name)
                for name, _ in route.params
            ]  # fmt: skip
            for values in itertools.product(*choices):
                path = url_for(route, dict(zip((n for n, _ in route.params), values, strict=True)))
                if path is None:
                    continue
                response = client.get(path)
                requests += 1
                where = (viewer, route.label, path, response.status_code)
                assert response.status_code < 500, where
                if user is not None and hasattr(response.wsgi_request, "user"):
                    assert response.wsgi_request.user.pk == user.pk, where  # still signed in
                # Calendar lines are folded at 75 octets (RFC 5545, 3.1): unfold first.
                body = response_body(response).replace(b"\r\n ", b"")
                markers = set(MARKER.findall(body))
                assert not markers & forbidden, (*where, sorted(markers & forbidden))
                found[viewer] |= markers

    # The walk does find markers: each viewer met every journey they may see somewhere.
    for viewer in found:
        may = {marker for marker, journey in journeys.items() if allowed(viewer, journey)}
        assert found[viewer] == may, viewer
    print(
        f"\nprivacy walk: {pairs} (route, viewer) pairs checked, {requests} requests, "
        f"{skipped} admin (route, viewer) pairs skipped"
    )


@pytest.mark.parametrize("limit", [1, 4, 20])
def test_every_page_of_the_feeds_cut_by_relations_is_the_privacy_querys_page(limit):
    """The global feed's pages (cut from everyone's newest journeys with the viewer's Relations,
    the first page from the journeys each process keeps) and the following feed's, paged to
    the end, against the privacy query's answer: the same journeys in the same order, for a
    viewer who follows public and private profiles, has a pending request, mutes one traveller,
    blocks one and is blocked by another."""
    rng = random.Random(limit)
    viewer = UserFactory()
    people = [UserFactory(private_profile=n % 3 == 0) for n in range(9)]
    Follow.objects.create(follower=viewer, followee=people[0])  # private, accepted
    Follow.objects.create(follower=viewer, followee=people[1])
    Follow.objects.create(follower=viewer, followee=people[3], accepted=False)  # pending
    Mute.objects.create(muter=viewer, muted=people[4])
    Block.objects.create(blocker=viewer, blocked=people[5])
    Block.objects.create(blocker=people[6], blocked=viewer)
    Follow.objects.create(follower=viewer, followee=people[7])
    # Followed, then their sign-in blocked.
    sign_in_allow(users=User.objects.filter(pk=people[7].pk), allowed=False, by=viewer)
    now = timezone.now()
    for _ in range(120):
        CheckInFactory(
            user=rng.choice([viewer, *people]),
            visibility=rng.choice(LEVELS),
            departure_planned=now - timedelta(minutes=rng.randrange(0, 60 * 24 * 30)),
        )

    def paged(read) -> list[int]:
        ids, after = [], None
        while True:
            page = read(after)
            ids += [journey.id for journey in page.journeys]
            assert len(page.journeys) <= limit
            if page.next_cursor is None:
                return ids
            after = parse_cursor(page.next_cursor)

    newest_first = ("-departure_planned", "-id")
    visible = checkins_visible_to(viewer).exclude(user=people[4])
    expected_global = list(
        visible.filter(visibility__in=FEED_VISIBILITIES)
        .order_by(*newest_first)
        .values_list("id", flat=True)
    )
    followed = Follow.objects.filter(follower=viewer, accepted=True).values("followee")
    expected_following = list(
        visible.filter(user__in=followed, visibility__in=FOLLOWING_VISIBILITIES)
        .order_by(*newest_first)
        .values_list("id", flat=True)
    )
    assert expected_global and expected_following

    def global_page(after):
        if after is None:
            return cached_global_feed(viewer=viewer, limit=limit)[0]
        return global_feed(viewer=viewer, after=after, limit=limit)

    assert paged(global_page) == expected_global
    assert paged(lambda after: following_feed(viewer=viewer, after=after, limit=limit)) == (
        expected_following
    )


def newest_first(owner: User, count: int, visibility: str, **fields: object) -> list[CheckIn]:
    """``count`` journeys of ``owner``, an hour apart before now, the newest first."""
    now = timezone.now()
    return [
        CheckInFactory(user=owner, visibility=visibility,
                       departure_planned=now - timedelta(hours=n + 1), **fields)
        for n in range(count)
    ]  # fmt: skip


def test_deeper_pages_are_cut_from_rows_kept_for_everyone_until_the_feed_changes(
    django_capture_on_commit_callbacks,
):
    """Past the first page, every signed-in viewer's page is cut from everyone's rows after the
    cursor, read once per process and feed generation: the second viewer's page reads no
    journey, and a journey made private is gone from the next viewer's page at once."""
    from checkins.services.checkins import checkin_update

    first, second, third, owner = UserFactory(), UserFactory(), UserFactory(), UserFactory()
    journeys = newest_first(owner, 12, Visibility.PUBLIC)
    after = parse_cursor(global_feed(viewer=first, limit=4).next_cursor)
    page_two = [journey.id for journey in journeys[4:8]]
    assert [j.id for j in global_feed(viewer=first, after=after, limit=4).journeys] == page_two

    with CaptureQueriesContext(connection) as read:
        shown = global_feed(viewer=second, after=after, limit=4).journeys
    assert [journey.id for journey in shown] == page_two
    assert not [q for q in read.captured_queries if '"checkins_checkin"."id"' in q["sql"]]

    with django_capture_on_commit_callbacks(execute=True):
        checkin_update(checkin=journeys[5], message="", visibility=Visibility.PRIVATE,
                       purpose=journeys[5].purpose)  # fmt: skip
    shown = global_feed(viewer=third, after=after, limit=4).journeys
    assert [journey.id for journey in shown] == [journeys[n].id for n in (4, 6, 7, 8)]


def test_a_profile_is_read_once_for_its_viewers_until_something_on_it_changes(
    django_capture_on_commit_callbacks,
):
    """The owner and the figures of a profile are kept in the process for the feed generation:
    the second viewer's page reads neither, and a journey made private or the owner's sign-in
    blocked shows to the next viewer at once."""
    from checkins.services.checkins import checkin_update
    from feed.selectors import profile_get

    owner, first, second, third, admin = (UserFactory() for _ in range(5))
    journeys = newest_first(owner, 3, Visibility.PUBLIC)
    ids = [journey.id for journey in journeys]
    assert [j.id for j in profile_get(viewer=first, username=owner.username).page.journeys] == ids

    with CaptureQueriesContext(connection) as read:
        profile = profile_get(viewer=second, username=owner.username)
    assert profile is not None and [journey.id for journey in profile.page.journeys] == ids
    asked = " ".join(query["sql"] for query in read.captured_queries)
    assert '"feed_user"."username"' not in asked and '"checkins_checkin"' not in asked

    with django_capture_on_commit_callbacks(execute=True):
        checkin_update(checkin=journeys[1], message="", visibility=Visibility.PRIVATE,
                       purpose=journeys[1].purpose)  # fmt: skip
    profile = profile_get(viewer=third, username=owner.username)
    assert profile is not None and [j.id for j in profile.page.journeys] == [ids[0], ids[2]]

    with django_capture_on_commit_callbacks(execute=True):
        sign_in_allow(users=User.objects.filter(pk=owner.pk), allowed=False, by=admin)
    assert profile_get(viewer=third, username=owner.username) is None

    # A username nobody has is not kept: who signs up with it has a profile at once.
    assert profile_get(viewer=third, username="newcomer") is None
    UserFactory(username="newcomer")
    assert profile_get(viewer=third, username="newcomer") is not None


def test_the_following_feeds_journeys_are_read_once_until_the_feed_changes(
    django_capture_on_commit_callbacks,
):
    """The journeys of a following feed, read by id, are kept in the process for the feed
    generation: another follower's feed reads only which ids, and an edit shows at once."""
    from checkins.services.checkins import checkin_update

    owner, first, second, third = (UserFactory() for _ in range(4))
    for follower in (first, second, third):
        Follow.objects.create(follower=follower, followee=owner)
    journeys = newest_first(owner, 3, Visibility.FOLLOWERS, message="before")
    ids = [journey.id for journey in journeys]
    assert [j.id for j in following_feed(viewer=first).journeys] == ids

    with CaptureQueriesContext(connection) as read:
        shown = following_feed(viewer=second).journeys
    assert [journey.id for journey in shown] == ids
    assert not [q for q in read.captured_queries if '"checkins_checkin"."id"' in q["sql"]]

    with django_capture_on_commit_callbacks(execute=True):
        checkin_update(checkin=journeys[1], message="after", visibility=Visibility.FOLLOWERS,
                       purpose=journeys[1].purpose)  # fmt: skip
    shown = following_feed(viewer=third).journeys
    assert [journey.message for journey in shown] == ["before", "after", "before"]


def test_a_viewer_who_mutes_the_newest_travellers_still_gets_a_full_page(monkeypatch):
    """Too few of everyone's newest journeys for the viewer after a few rounds: the privacy
    query answers."""
    from feed import selectors

    viewer, busy, quiet = UserFactory(), UserFactory(), UserFactory()
    Mute.objects.create(muter=viewer, muted=busy)
    now = timezone.now()
    for n in range(40):
        CheckInFactory(user=busy, departure_planned=now - timedelta(minutes=n + 1))
    older = [
        CheckInFactory(user=quiet, departure_planned=now - timedelta(days=1, minutes=n))
        for n in range(3)
    ]
    asked, query = [], selectors._global_query
    monkeypatch.setattr(
        selectors, "_global_query", lambda *a, **k: asked.append(1) or query(*a, **k)
    )

    page = global_feed(viewer=viewer, limit=3)

    assert [journey.id for journey in page.journeys] == [journey.id for journey in older]
    assert asked == [1]  # the rounds gave up, and the query answered


@pytest.mark.parametrize("loaded", [100, 3])
def test_the_unread_count_is_the_notification_pages_count(loaded, monkeypatch):
    """The header's unread count (read from the unread rows with the recipient's Relations; by
    the query past UNREAD_LOADED) against the unread notifications the notifications page's
    query shows: from active and blocked actors, either way, about journeys of every
    visibility of public and private profiles, followed or not, and about none."""
    from feed import selectors

    monkeypatch.setattr(selectors, "UNREAD_LOADED", loaded)
    rng = random.Random(loaded)
    recipient = UserFactory()
    others = [UserFactory(private_profile=n % 2 == 0) for n in range(6)]
    Follow.objects.create(follower=recipient, followee=others[0])
    Block.objects.create(blocker=recipient, blocked=others[1])
    Block.objects.create(blocker=others[2], blocked=recipient)
    sign_in_allow(users=User.objects.filter(pk=others[3].pk), allowed=False, by=recipient)
    for _ in range(40):
        actor = rng.choice(others)
        about = rng.choice([None, recipient, *others])
        checkin = (
            None if about is None else CheckInFactory(user=about, visibility=rng.choice(LEVELS))
        )
        Notification.objects.create(
            recipient=recipient, actor=actor, kind=Notification.Kind.LIKE, checkin=checkin,
            read_at=timezone.now() if rng.random() < 0.2 else None,
        )  # fmt: skip

    shown = selectors._inbox(recipient).filter(read_at__isnull=True).count()
    assert 0 < shown < Notification.objects.filter(read_at__isnull=True).count()
    assert selectors.unread_count(recipient=recipient) == shown
