"""Station search, departure board and trip pages over a small imported feed."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from checkins.models import CheckIn
from tests.checkins.feeds import FILES, write_feed

pytestmark = pytest.mark.django_db


@pytest.fixture
def feed(tmp_path):
    call_command("import_gtfs", str(write_feed(tmp_path)), name="test", verbosity=0)


def board_url(stop_id="BER", **params):
    url = reverse("timetable:board", args=["test", stop_id])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("berlin", ["Berlin Hbf"]),
        ("BERLIN hbf", ["Berlin Hbf"]),
        ("munchen", ["München Hbf"]),
        ("muenchen", ["München Hbf"]),
        ("hamburg fernbahn", ["Hamburg Hbf, Fernbahn"]),
        ("hbf", ["Berlin Hbf", "Hamburg Hbf, Fernbahn", "München Hbf"]),
        ("gleis", []),  # platforms are found through their station, not on their own
    ],
)
def test_search_ignores_case_accents_and_punctuation(client, feed, query, expected):
    response = client.get(reverse("timetable:search"), {"q": query})
    assert sorted(s.name for s in response.context["stations"]) == sorted(expected)


def test_search_answers_htmx_with_the_results_only(client, feed):
    response = client.get(reverse("timetable:search"), {"q": "berl"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert reverse("timetable:board", args=["test", "BER"]) in html


def test_stations_near_a_position(client, feed):
    response = client.get(reverse("timetable:search"), {"lat": "52.52", "lon": "13.37"})
    assert [(s.name, round(d, -2)) for s, d in response.context["nearby"]] == [("Berlin Hbf", 600)]


def test_a_position_without_longitude_is_a_form_error(client, feed):
    response = client.get(reverse("timetable:search"), {"lat": "52.52"})
    assert response.status_code == 200
    assert "needs both a latitude and a longitude" in response.content.decode()


def test_the_board_lists_departures_in_the_feeds_time(client, feed):
    response = client.get(board_url(at="2019-06-03T07:00"))
    assert response.status_code == 200
    board = response.context["board"]
    assert [(d.trip_id, d.departure.strftime("%H:%M")) for d in board] == [
        ("T1", "08:02"),
        ("NIGHT", "00:30"),
    ]
    html = response.content.decode()
    assert "08:02" in html and "ICE 1601" in html
    trip_url = reverse("timetable:trip", args=["test", "T1", "2019-06-03"])
    assert f"{trip_url}?from=BER%3A1" in html


@pytest.mark.parametrize(
    ("route_color", "text_color", "selected", "shown"),
    [
        ("0B5CAD", "FFFFFF", ("0b5cad", "ffffff"), ("0b5cad", "ffffff")),
        # A feed's text reaches no style: an invalid colour is no colour.
        ("fff;background:url(//evil)", "000000", (None, "000000"), None),
        ('0b5cad" onmouseover="alert(1)', "000000", (None, "000000"), None),
        ("0b5cad", "red;position:fixed", ("0b5cad", None), ("0b5cad", "ffffff")),
        ("", "", (None, None), None),
    ],
)
def test_route_colours_reach_the_board_only_as_six_hex_digits(
    client, tmp_path, route_color, text_color, selected, shown
):
    routes = (
        "route_id,agency_id,route_short_name,route_long_name,route_type,route_color,"
        "route_text_color\n"
        f"R1,DB,,ICE 1601,2,{route_color},{text_color}\n"
        "R2,DB,S7,,109,,\n"
    )
    call_command("import_gtfs", str(write_feed(tmp_path, {"routes.txt": routes})), name="test",
                 verbosity=0)  # fmt: skip
    response = client.get(board_url(at="2019-06-03T07:00"))
    first = response.context["board"][0]
    assert (first.route_color, first.route_text_color) == selected
    html = response.content.decode()
    # Styles come from static/js/route-colours.js: none in the page.
    assert "style=" not in html and "evil" not in html and "alert" not in html
    if shown:
        assert f'data-route-color="{shown[0]}" data-route-text-color="{shown[1]}"' in html
    else:
        assert "data-route-color" not in html


def test_the_board_filters_by_mode(client, feed):
    response = client.get(board_url(at="2019-06-03T07:00", mode="suburban"))
    assert response.context["board"] == []


def test_earlier_departures_come_before_the_time(client, feed):
    response = client.get(board_url(at="2019-06-03T09:00", earlier="on"))
    assert [d.trip_id for d in response.context["board"]][-1] == "T1"


def test_a_date_outside_the_timetable_says_which_dates_it_covers(client, feed):
    html = client.get(board_url(at="2024-01-01T08:00")).content.decode()
    assert "covers" in html and "1 January 2019" in html and "31 December 2019" in html


@pytest.mark.parametrize(
    "url",
    [
        board_url("NOWHERE"),
        reverse("timetable:board", args=["other-feed", "BER"]),
        reverse("timetable:trip", args=["test", "T1", "2019-06-08"]),  # a Saturday
        reverse("timetable:trip", args=["test", "T1", "someday"]),
        reverse("timetable:trip", args=["test", "NO-SUCH-TRIP", "2019-06-03"]),
    ],
)
def test_unknown_stations_trips_and_days_are_404(client, feed, url):
    assert client.get(url).status_code == 404


def test_a_malformed_time_is_a_form_error_not_a_crash(client, feed):
    response = client.get(board_url(at="tomorrow-ish"))
    assert response.status_code == 200
    assert "Enter a valid date/time" in response.content.decode()


def test_the_trip_page_offers_every_later_stop_as_an_exit(client, feed):
    url = reverse("timetable:trip", args=["test", "NIGHT", "2019-06-07"]) + "?from=BER"
    response = client.get(url)
    assert response.context["boarding"].stop_id == "BER:2"
    assert [stop.stop_id for stop in response.context["later_stops"]] == ["MUC"]
    assert "Sign in to check in" in response.content.decode()


def test_checking_in_from_a_trip_keeps_the_feeds_time_zone_and_coordinates(client, tmp_path, alice):
    new_york = {"agency.txt": FILES["agency.txt"].replace("Europe/Berlin", "America/New_York")}
    call_command("import_gtfs", str(write_feed(tmp_path, new_york)), name="ny", verbosity=0)
    url = reverse("timetable:trip", args=["ny", "T1", "2019-06-03"]) + "?from=BER"
    client.force_login(alice)
    form = client.get(url).context["form"]
    data = {
        "origin_seq": form.initial["origin_seq"],
        "destination_seq": 2,
        "visibility": "public",
        "purpose": "business",
        "message": "To the meeting",
        "idempotency_key": form.initial["idempotency_key"],
    }
    response = client.post(url, data)
    checkin = CheckIn.objects.get(user=alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("checkins:detail", args=[checkin.id])
    assert checkin.departure_planned.isoformat() == "2019-06-03T12:02:00+00:00"  # 08:02 EDT
    assert (checkin.origin_lat, checkin.destination_lat) == (52.5252, 53.553)
    assert (checkin.feed_name, checkin.trip_id, checkin.origin_seq, checkin.destination_seq) == (
        "ny", "T1", 1, 2,
    )  # fmt: skip
    assert checkin.time_zone == "America/New_York"
    assert checkin.line_name == "ICE 1601"


def test_the_manual_form_suggests_stations_with_their_coordinates(client, feed, alice):
    url = reverse("timetable:suggest")
    html = client.get(url, {"field": "origin", "origin_name": "munchen"}).content.decode()
    assert 'data-name="München Hbf"' in html
    assert 'data-lat="48.1402"' in html and 'data-field="origin"' in html
    assert client.get(url, {"field": "elsewhere"}).status_code == 404
    client.force_login(alice)
    form = client.get(reverse("checkins:new")).content.decode()
    assert f'hx-get="{url}?field=destination"' in form


@pytest.mark.parametrize("moment", ["9999-12-31T23:59", "0001-01-01T00:00"])
def test_a_moment_at_the_ends_of_the_calendar_is_a_form_error(client, feed, moment):
    response = client.get(board_url(at=moment))
    assert response.status_code == 200
    assert "Pick a date between 1 Jan 1900 and 31 Dec 2199." in response.content.decode()


def test_a_search_of_thousands_of_words_is_refused_with_a_message(client, feed):
    words = " ".join(["Berlin"] * 3000)
    suggest = client.get(
        reverse("timetable:suggest"), {"field": "origin", "origin_name": words[:99]}
    )
    assert "Type at most 8 words of the station&#x27;s name." in suggest.content.decode()
    suggest = client.get(reverse("timetable:suggest"), {"field": "origin", "origin_name": words})
    assert "Type at most 100 characters" in suggest.content.decode()
    search = client.get(reverse("timetable:search"), {"q": "Berlin " * 9})
    assert "Type at most 8 words" in search.content.decode()
    assert 'data-testid="station-results"' not in search.content.decode()


def test_the_search_itself_reads_only_the_first_words(feed):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from checkins.timetable.selectors import station_search

    # However the text arrives (a caller without the form), the query stays a short one.
    with CaptureQueriesContext(connection) as queries:
        station_search("hamburg " + "hbf " * 5000, limit=3)
    search = next(q["sql"] for q in queries.captured_queries if "search_name" in q["sql"])
    assert search.count("search_name LIKE") == 8 + 2  # eight words, and the ordering's two
    assert [s.name for s in station_search("hamburg hbf " + "fernbahn " * 7)] == [
        "Hamburg Hbf, Fernbahn"
    ]
