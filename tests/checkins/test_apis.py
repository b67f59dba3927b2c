"""/api/v1/journeys/: the traveller's own journeys with the filter of "My journeys", paged by
keyset cursor; /api/v1/journeys/{id}/: one journey, as its page would show it to the viewer."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checkins.models import Mode, Purpose, Visibility
from feed.models import Block, Follow, Like
from tests.apiclient import bearer, error_of, token_for
from tests.checkins.test_history import on
from tests.factories import CheckInFactory

pytestmark = pytest.mark.django_db

JOURNEYS = "/api/v1/journeys/"


def lines(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [journey["line_name"] for journey in response.json()["results"]]


def test_it_lists_the_owners_journeys_alone_private_ones_included(alice, bob):
    on(1, user=alice, line_name="ALICE PRIVATE", visibility=Visibility.PRIVATE)
    on(2, user=bob, line_name="BOB PUBLIC", visibility=Visibility.PUBLIC)
    response = bearer(token_for(alice, ("read",))).get(JOURNEYS)
    assert lines(response) == ["ALICE PRIVATE"]
    assert response.json()["totals"]["journeys"] == 1


def test_it_filters_as_my_journeys_does(alice):
    on(1, user=alice, line_name="U1", mode=Mode.SUBWAY, purpose=Purpose.BUSINESS)
    on(2, user=alice, line_name="BUS2", mode=Mode.BUS, purpose=Purpose.BUSINESS)
    on(3, user=alice, line_name="U3", mode=Mode.SUBWAY, purpose=Purpose.PRIVATE)
    on(1, month=4, user=alice, line_name="U-APRIL", mode=Mode.SUBWAY, purpose=Purpose.BUSINESS)
    api = bearer(token_for(alice))
    march = {"start": "2024-03-01", "end": "2024-03-31"}
    business = api.get(JOURNEYS, {"mode": "subway", "purpose": "business", **march})
    assert lines(business) == ["U1"]
    later = {"period": "custom", "start": "2024-03-02", "end": "2024-03-31"}
    assert lines(api.get(JOURNEYS, {"mode": ["subway", "bus"], **later})) == ["U3", "BUS2"]


def test_pages_follow_by_cursor_without_offset_and_keep_the_filter(alice):
    for day in range(1, 26):
        on(day, user=alice, line_name=f"U{day}", mode=Mode.SUBWAY)
        on(day, user=alice, line_name=f"BUS{day}", mode=Mode.BUS)
    api = bearer(token_for(alice))
    first = api.get(JOURNEYS, {"mode": "subway", "limit": "20"})
    assert lines(first) == [f"U{day}" for day in range(25, 5, -1)]
    body = first.json()
    assert body["totals"]["journeys"] == 25
    assert body["next"].startswith("http://testserver/api/v1/journeys/?")
    assert "mode=subway" in body["next"] and f"cursor={body['next_cursor']}" in body["next"]
    with CaptureQueriesContext(connection) as queries:
        second = api.get(body["next"])
    assert lines(second) == [f"U{day}" for day in range(5, 0, -1)]
    assert second.json()["next_cursor"] is None and second.json()["next"] is None
    page_query = next(
        q["sql"] for q in queries
        if 'FROM "checkins_checkin"' in q["sql"] and "ORDER BY" in q["sql"] and "LIMIT" in q["sql"]
    )  # fmt: skip
    assert "OFFSET" not in page_query and '"departure_planned" <' in page_query


def test_a_page_past_the_end_is_empty_and_keeps_the_totals(alice):
    for day in (1, 2, 3):
        on(day, user=alice, line_name=f"U{day}", mode=Mode.SUBWAY)
    on(4, user=alice, line_name="BUS", mode=Mode.BUS)
    # A cursor before every journey (1970): nothing after it, the filter's totals all the same.
    body = bearer(token_for(alice)).get(JOURNEYS, {"mode": "subway", "cursor": "1-1"}).json()
    assert (body["results"], body["next_cursor"]) == ([], None)
    assert body["totals"]["journeys"] == 3


def test_each_listed_journey_carries_its_like_count(client, alice, bob, charlie):
    liked_by_two = on(3, user=alice, line_name="LIKED", visibility=Visibility.PUBLIC)
    on(2, user=alice, line_name="PLAIN", visibility=Visibility.PUBLIC)
    liked_by_one = on(1, user=alice, line_name="ONCE", visibility=Visibility.PUBLIC)
    bobs = on(1, user=bob, line_name="BOBS", visibility=Visibility.PUBLIC)
    for liker, journey in [(bob, liked_by_two), (charlie, liked_by_two), (charlie, liked_by_one),
                           (alice, bobs)]:  # fmt: skip
        Like.objects.create(user=liker, checkin=journey)
    response = bearer(token_for(alice)).get(JOURNEYS)
    figures = [(j["line_name"], j["like_count"], j["liked"]) for j in response.json()["results"]]
    # Her own journeys: nobody likes their own (feed.services refuses it).
    assert figures == [("LIKED", 2, False), ("PLAIN", 0, False), ("ONCE", 1, False)]
    # "My journeys" shows the same.
    client.force_login(alice)
    page = client.get("/journeys/").content.decode()
    assert "2 likes" in page and "1 like<" in page and "0 like" not in page


@pytest.mark.parametrize(
    ("query", "field"),
    [({"cursor": "12-x"}, "cursor"), ({"cursor": f"{10**22}-1"}, "cursor"),
     ({"cursor": "1" * 101}, "cursor"), ({"limit": "101"}, "limit"), ({"limit": "-1"}, "limit"),
     ({"mode": "rocket"}, "mode"), ({"purpose": "holiday"}, "purpose"),
     ({"period": "next-decade"}, "period"), ({"start": "9999-12-31"}, "start")],
)  # fmt: skip
def test_a_bad_parameter_is_a_400_naming_it(alice, query, field):
    response = bearer(token_for(alice)).get(JOURNEYS, query)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_a_range_of_more_than_20_years_gets_the_pages_message(alice):
    response = bearer(token_for(alice)).get(JOURNEYS, {"start": "1970-01-01", "end": "2026-01-01"})
    assert response.status_code == 400
    assert "20 years" in error_of(response)["message"]


def test_listing_needs_the_read_scope_and_a_token(client, alice):
    assert bearer(token_for(alice, ("checkins:write",))).get(JOURNEYS).status_code == 403
    assert client.get(JOURNEYS).status_code == 401


# --- One journey --------------------------------------------------------------------------------


def test_a_journey_shows_with_its_traveller_likes_and_feed_ids(alice, bob):
    journey = CheckInFactory(user=bob, visibility=Visibility.PUBLIC, message="hello",
                             feed_name="db-fv", trip_id="T-1")  # fmt: skip
    response = bearer(token_for(alice)).get(f"{JOURNEYS}{journey.id}/")
    assert response.status_code == 200
    body = response.json()
    assert body["traveller"] == {"username": "bob", "display_name": "Bob"}
    assert (body["message"], body["feed"], body["trip_id"]) == ("hello", "db-fv", "T-1")
    assert (body["like_count"], body["liked"]) == (0, False)


@pytest.mark.parametrize(
    ("visibility", "relation", "seen"),
    [
        (Visibility.PUBLIC, None, True),
        (Visibility.UNLISTED, None, True),
        (Visibility.AUTHENTICATED, None, True),
        (Visibility.FOLLOWERS, None, False),
        (Visibility.FOLLOWERS, "follows", True),
        (Visibility.PRIVATE, "follows", False),
        (Visibility.PUBLIC, "blocked", False),
    ],
)
def test_someone_elses_journey_is_404_unless_its_page_would_show_it(
    alice, bob, visibility, relation, seen
):
    journey = CheckInFactory(user=bob, visibility=visibility)
    if relation == "follows":
        Follow.objects.create(follower=alice, followee=bob, accepted=True)
    elif relation == "blocked":
        Block.objects.create(blocker=bob, blocked=alice)
    response = bearer(token_for(alice)).get(f"{JOURNEYS}{journey.id}/")
    assert response.status_code == (200 if seen else 404)
    if not seen:
        assert error_of(response) == {"code": "not_found", "message": "No such journey.",
                                      "fields": {}}  # fmt: skip


def test_ones_own_private_journey_shows(alice):
    journey = CheckInFactory(user=alice, visibility=Visibility.PRIVATE)
    assert bearer(token_for(alice)).get(f"{JOURNEYS}{journey.id}/").status_code == 200


def test_a_journey_needs_the_read_scope_and_a_token(client, alice):
    journey = CheckInFactory(user=alice, visibility=Visibility.PUBLIC)
    assert bearer(token_for(alice, ("social",))).get(f"{JOURNEYS}{journey.id}/").status_code == 403
    assert client.get(f"{JOURNEYS}{journey.id}/").status_code == 401
