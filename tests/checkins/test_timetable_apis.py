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
