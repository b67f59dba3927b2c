"""/api/v1/stations/ and /api/v1/stations/nearby/: the search page's selectors and bounds."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.apiclient import bearer, error_of, token_for
from tests.checkins.feeds import write_feed

pytestmark = pytest.mark.django_db

STATIONS = "/api/v1/stations/"
NEARBY = "/api/v1/stations/nearby/"


@pytest.fixture
def feed(tmp_path):
    call_command("import_gtfs", str(write_feed(tmp_path)), name="test", verbosity=0)


@pytest.fixture
def api(alice):
    return bearer(token_for(alice, ("read",)))


def test_search_finds_stations_as_the_page_does(api, feed):
    response = api.get(STATIONS, {"q": "muenchen"})
    assert response.status_code == 200
    [station] = response.json()
    assert (station["feed"], station["name"]) == ("test", "München Hbf")
    assert isinstance(station["stop_id"], str) and isinstance(station["lat"], float)
    names = sorted(s["name"] for s in api.get(STATIONS, {"q": "hbf"}).json())
    assert names == ["Berlin Hbf", "Hamburg Hbf, Fernbahn", "München Hbf"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "at least 2 characters"),
        ({"q": "B"}, "at least 2 characters"),
        ({"q": "x" * 101}, "at most 100 characters"),
        ({"q": " ".join(["Berlin"] * 9)}, "at most 8 words"),
    ],
)
def test_a_search_outside_the_pages_bounds_is_a_400_on_q(api, feed, query, message):
    response = api.get(STATIONS, query)
    assert response.status_code == 400
    assert message in error_of(response)["fields"]["q"][0]


def test_stations_near_a_position_nearest_first_with_distances(api, feed):
    response = api.get(NEARBY, {"lat": "52.52", "lon": "13.37"})
    assert response.status_code == 200
    assert [(s["name"], round(s["distance_m"], -2)) for s in response.json()] == [
        ("Berlin Hbf", 600)
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"lat": "52.52"}, "non-field"), ({}, "lat"), ({"lat": "91", "lon": "0"}, "lat"),
     ({"lat": "0", "lon": "1e999"}, "lon"), ({"lat": "NaN", "lon": "0"}, "lat")],
)  # fmt: skip
def test_a_position_out_of_range_or_half_given_is_a_400(api, feed, query, field):
    response = api.get(NEARBY, query)
    assert response.status_code == 400
    error = error_of(response)
    assert (field in error["fields"]) if field != "non-field" else not error["fields"]


def test_stations_need_a_token_with_the_read_scope(client, alice, feed):
    assert client.get(STATIONS, {"q": "berlin"}).status_code == 401
    assert (
        bearer(token_for(alice, ("social",))).get(NEARBY, {"lat": 52.5, "lon": 13.3}).status_code
        == 403
    )


# --- Departures and trips ------------------------------------------------------------------------


def departures_url(stop_id: str = "BER", feed: str = "test") -> str:
    return f"/api/v1/stations/{feed}/{stop_id}/departures/"


def test_departures_are_the_boards_in_the_feeds_time(api, feed):
    response = api.get(departures_url(), {"at": "2019-06-03T07:00"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["station"]["name"] == "Berlin Hbf" and body["outside_service"] is False
    assert body["at"] == "2019-06-03T07:00:00+02:00"
    assert [(d["trip_id"], d["departure"]) for d in body["departures"]] == [
        ("T1", "2019-06-03T08:02:00+02:00"),
        ("NIGHT", "2019-06-04T00:30:00+02:00"),
    ]
    first = body["departures"][0]
    assert (first["line"], first["stop_id"], first["service_date"]) == ("ICE 1601", "BER:1",
                                                                        "2019-06-03")  # fmt: skip
    assert body["later"].endswith(f"{departures_url()}?at=2019-06-04T00%3A31")


def test_departures_filter_by_mode_and_page_earlier(api, feed):
    assert (
        api.get(departures_url(), {"at": "2019-06-03T07:00", "mode": "suburban"}).json()[
            "departures"
        ]
        == []
    )
    earlier = api.get(departures_url(), {"at": "2019-06-03T09:00", "earlier": "on"}).json()
    assert earlier["departures"][-1]["trip_id"] == "T1"
    assert "earlier=on" in earlier["earlier"] and "at=2019-06-03T08%3A02" in earlier["earlier"]


def test_departures_outside_the_timetable_say_so(api, feed):
    body = api.get(departures_url(), {"at": "2024-01-01T08:00"}).json()
    assert body["outside_service"] is True and body["departures"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [({"at": "tomorrow-ish"}, "at"), ({"at": "9999-12-31T23:59"}, "at"),
     ({"mode": "zeppelin"}, "mode")],
)  # fmt: skip
def test_bad_board_parameters_are_a_400_naming_them(api, feed, query, field):
    response = api.get(departures_url(), query)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_a_trip_has_its_stops_and_times(api, feed):
    response = api.get("/api/v1/trips/test/T1/2019-06-03/")
    assert response.status_code == 200
    trip = response.json()
    assert (trip["line"], trip["service_date"]) == ("ICE 1601", "2019-06-03")
    assert [(s["stop_id"], s["station_id"], s["departure"]) for s in trip["stops"]] == [
        ("BER:1", "BER", "2019-06-03T08:02:00+02:00"),
        ("HAM", "HAM", "2019-06-03T09:51:00+02:00"),
    ]


@pytest.mark.parametrize(
    "url",
    [
        departures_url("NOWHERE"),
        departures_url(feed="other-feed"),
        "/api/v1/trips/test/T1/2019-06-08/",  # a Saturday
        "/api/v1/trips/test/T1/someday/",
        "/api/v1/trips/test/NO-SUCH-TRIP/2019-06-03/",
    ],
)
def test_unknown_stations_trips_and_days_are_404(api, feed, url):
    response = api.get(url)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_departures_and_trips_need_a_token_with_the_read_scope(client, alice, feed):
    for url in (departures_url(), "/api/v1/trips/test/T1/2019-06-03/"):
        assert client.get(url).status_code == 401
        assert bearer(token_for(alice, ("social",))).get(url).status_code == 403


def test_times_keep_the_feeds_own_offset_not_the_sites(api, tmp_path):
    agency = (
        "agency_id,agency_name,agency_url,agency_timezone\n"
        "DB,Far Away Rail,https://example.org,America/New_York\n"
    )
    call_command("import_gtfs", str(write_feed(tmp_path, {"agency.txt": agency})), name="test",
                 verbosity=0)  # fmt: skip
    body = api.get(departures_url(), {"at": "2019-06-03T07:00"}).json()
    assert body["at"] == "2019-06-03T07:00:00-04:00"
    assert body["departures"][0]["departure"] == "2019-06-03T08:02:00-04:00"
    trip = api.get("/api/v1/trips/test/T1/2019-06-03/").json()
    assert trip["stops"][0]["departure"] == "2019-06-03T08:02:00-04:00"


def test_a_board_costs_one_lookup_of_the_active_timetable(api, feed, django_assert_num_queries):
    # The token, the active version (once: it was read three times a board), the station with
    # its platforms (one query), and the departures in the first window and (fewer than a
    # board's) the next.
    api.get("/api/v1/stations/test/BER/departures/?at=2019-06-03T07:55")  # the token's first use
    with django_assert_num_queries(5):
        response = api.get("/api/v1/stations/test/BER/departures/?at=2019-06-03T07:55")
    assert response.status_code == 200
    assert [departure["trip_id"] for departure in response.json()["departures"]][:1] == ["T1"]
