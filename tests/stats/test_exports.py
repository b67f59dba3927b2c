"""Exports (stats.exports.views, stats.exports.*): every format made through the export page,
read back with its own reader, its totals against a direct SQL sum; times in each journey's own
zone across midnight and in New York; privacy; bad input."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from decimal import Decimal

import icalendar
import openpyxl
import pytest
from django.urls import reverse
from pypdf import PdfReader

from checkins.geo import encode_path
from checkins.models import Purpose
from stats.exports.columns import COLUMNS, DEFAULT_COLUMNS
from stats.models import Export
from stats.services import calendar_token_renew, calendar_token_revoke
from tests.stats.exports_data import (
    BERLIN,
    FORMULA,
    NEW_YORK,
    body,
    form,
    seed,
    signed_in,
    sql_totals,
)
from trainy.documents import journey_store

pytestmark = pytest.mark.django_db

EXPORT = reverse("exports:new")
GPX = "{http://www.topografix.com/GPX/1/1}"


@pytest.fixture
def journeys(alice, bob):
    data = seed(alice, bob)
    store = journey_store()
    # Documents are keyed by check-in id, and ids start again in every test database.
    for journey in [*data.in_range(), data.outside, data.bobs]:
        store.delete(journey.id)
    yield data
    for journey in [*data.in_range(), data.outside, data.bobs]:
        store.delete(journey.id)


def export(user, format: str, **extra):
    response = signed_in(user).post(EXPORT, form(format, **extra))
    assert response.status_code == 200, response.content[:2000]
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return response


# --- CSV ---------------------------------------------------------------------------------------


def read_csv(response, delimiter=",") -> list[dict[str, str]]:
    data = body(response)
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


def test_the_csv_totals_equal_a_direct_sql_sum(alice, journeys):
    response = export(alice, "csv")
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "trainy-alice-2025-03-01-to-2025-04-30.csv" in response["Content-Disposition"]
    rows = read_csv(response)
    sql = sql_totals(alice)
    assert len(rows) == sql.journeys == 6
    km = sum(Decimal(row["Distance (km)"] or "0") for row in rows)
    minutes = sum(Decimal(row["Duration (min)"] or "0") for row in rows)
    tickets = sum(Decimal(row["Ticket price"] or "0") for row in rows)
    assert km * 1000 == sql.meters
    assert round(float(km), 1) == sql.km == 545.7
    assert round(float(minutes) / 60, 1) == sql.hours == 7.0
    assert tickets == sql.tickets == Decimal("101.79")
    assert {int(row["Journey id"]) for row in rows} == {j.id for j in journeys.in_range()}


def test_the_csv_gives_times_in_each_journeys_own_zone(alice, journeys):
    rows = {int(row["Journey id"]): row for row in read_csv(export(alice, "csv"))}
    night = rows[journeys.night.id]
    assert night["Departure (planned)"] == "2025-03-14T23:30:00+01:00"
    assert night["Arrival (planned)"] == "2025-03-15T01:10:00+01:00"
    assert night["Departure (real)"] == "2025-03-14T23:32:00+01:00"
    assert night["Arrival (real)"] == "2025-03-15T01:17:00+01:00"
    assert night["Delay (min)"] == "7"
    subway = rows[journeys.subway.id]
    assert subway["Departure (planned)"] == "2025-03-20T23:30:00-04:00"
    assert subway["Arrival (planned)"] == "2025-03-21T00:40:00-04:00"
    assert subway["Time zone"] == "America/New_York"
    assert subway["Departure (real)"] == subway["Delay (min)"] == ""
    ice = rows[journeys.ice.id]
    assert ice["Purpose"] == "Business"
    assert ice["Mode"] == "Long-distance rail"
    assert (ice["Line"], ice["Trip"], ice["Operator"]) == ("ICE 1601", "1601", "DB Fernverkehr AG")
    assert (ice["Distance (km)"], ice["Duration (min)"]) == ("255.123", "111")
    assert (ice["Ticket price"], ice["Cost centre"]) == ("49.90", "KST-4711")


def test_the_csv_for_german_excel_has_semicolons_and_decimal_commas(alice, journeys):
    rows = read_csv(export(alice, "csv", separator=";"), delimiter=";")
    ice = next(row for row in rows if row["Journey id"] == str(journeys.ice.id))
    assert ice["Distance (km)"] == "255,123"
    assert ice["Ticket price"] == "49,90"
    assert ice["Departure (planned)"] == "2025-03-10T08:00:00+01:00"


def test_the_csv_writes_only_the_chosen_columns_in_their_order(alice, journeys):
    rows = read_csv(
        export(alice, "csv", columns=["distance", "origin_coordinates", "id", "message"])
    )
    assert list(rows[0]) == [
        "Journey id",
        "From latitude",
        "From longitude",
        "Distance (km)",
        "Message",
    ]
    subway = next(row for row in rows if row["Journey id"] == str(journeys.subway.id))
    assert (subway["From latitude"], subway["From longitude"]) == ("40.868100", "-73.919900")


def test_the_csv_keeps_text_that_looks_like_a_formula_from_running(alice, journeys):
    rows = read_csv(export(alice, "csv", columns=["id", "message"]))
    april = next(row for row in rows if row["Journey id"] == str(journeys.april.id))
    assert april["Message"] == "'" + FORMULA


# --- XLSX --------------------------------------------------------------------------------------


def test_the_xlsx_has_typed_cells_a_frozen_header_and_totals_equal_to_sql(alice, journeys):
    response = export(alice, "xlsx", columns=[column.key for column in COLUMNS])
    assert not response.streaming
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Journeys", "Summary"]
    sheet = workbook["Journeys"]
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    header, data, totals = rows[0], rows[1:-1], rows[-1]
    column = {name: index for index, name in enumerate(header)}
    sql = sql_totals(alice)
    assert len(data) == sql.journeys
    by_id = {row[column["Journey id"]]: row for row in data}
    subway = by_id[journeys.subway.id]
    # Wall-clock time where the journey was; the zone in its own column.
    assert subway[column["Departure (planned)"]] == datetime(2025, 3, 20, 23, 30)
    assert subway[column["Time zone"]] == "America/New_York"
    ice = by_id[journeys.ice.id]
    assert ice[column["Distance (km)"]] == pytest.approx(255.123)
    assert isinstance(ice[column["Ticket price"]], float | int | Decimal)
    assert ice[column["Ticket price"]] == pytest.approx(49.90)
    assert ice[column["Delay (min)"]] == 3
    assert by_id[journeys.april.id][column["Message"]] == FORMULA
    assert totals[0] == "Total: 6 journeys"
    assert totals[column["Distance (km)"]] == sql.km
    assert round(totals[column["Duration (min)"]] / 60, 1) == sql.hours
    assert Decimal(str(totals[column["Ticket price"]])) == sql.tickets
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True) if row}
    assert summary["Journeys"] == sql.journeys
    assert summary["Distance (km)"] == sql.km
    assert summary["Time in transit (h)"] == sql.hours
    assert Decimal(str(summary["Ticket costs"])) == sql.tickets


def test_the_xlsx_stores_text_that_looks_like_a_formula_as_text(alice, journeys):
    workbook = openpyxl.load_workbook(
        io.BytesIO(export(alice, "xlsx", columns=["message"]).content)
    )
    cells = [row[0] for row in workbook["Journeys"].iter_rows(min_row=2)]
    formula = next(cell for cell in cells if cell.value == FORMULA)
    assert formula.data_type == "s"


# --- PDF ---------------------------------------------------------------------------------------


def pdf_text(response) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(body(response)))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_is_a4_landscape_with_header_totals_and_page_numbers(alice, journeys):
    response = export(alice, "pdf", purpose=[Purpose.BUSINESS, Purpose.PRIVATE])
    assert response["Content-Type"] == "application/pdf"
    reader, text = pdf_text(response)
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    assert "Alice (alice)" in text
    assert "1 Mar 2025 – 30 Apr 2025 · Business, Private" in text
    sql = sql_totals(alice, purposes=(Purpose.BUSINESS, Purpose.PRIVATE))
    assert sql.journeys == 5
    assert (
        f"Total: {sql.journeys} journeys · {sql.km:,.1f} km · {sql.hours:,.1f} h in transit · "
        f"{sql.tickets:,.2f} EUR in tickets"
    ) in text.replace("\n", " ")
    assert f"page 1 of {len(reader.pages)}" in text
    assert "Köln Hbf" in text
    assert "2025-03-20 23:30" in text  # the subway, in New York time


def test_a_long_pdf_repeats_its_header_row_and_numbers_every_page(alice, bob):
    from tests.factories import CheckInFactory

    start = datetime(2025, 3, 1, 6, 0, tzinfo=BERLIN)
    for day in range(80):
        departure = start.replace(day=1 + day % 28, hour=6 + day // 28 * 4)
        CheckInFactory(
            user=alice,
            departure_planned=departure,
            arrival_planned=departure.replace(minute=50),
            distance_m=10_000 + day,
            duration_s=3000,
        )
    reader, text = pdf_text(export(alice, "pdf"))
    pages = len(reader.pages)
    assert pages >= 2
    for number, page in enumerate(reader.pages, start=1):
        page_text = page.extract_text()
        assert f"page {number} of {pages}" in page_text
        assert re.search(r"Journey\s+id", page_text), "the header row on every page"
    sql = sql_totals(alice)
    assert f"Total: {sql.journeys} journeys · {sql.km:,.1f} km" in text.replace("\n", " ")


# --- JSON --------------------------------------------------------------------------------------


def test_the_json_has_a_schema_version_the_filter_and_totals_equal_to_sql(alice, journeys):
    response = export(alice, "json", mode=["long_distance", "subway"])
    document = json.loads(body(response))
    assert document["schema_version"] == 1
    assert document["filter"] == {
        "period": "custom",
        "start": "2025-03-01",
        "end": "2025-04-30",
        "purposes": [],
        "modes": ["long_distance", "subway"],
        "time_zone": "Europe/Berlin",
    }
    ids = {
        j.id for j in (journeys.ice, journeys.night, journeys.subway, journeys.new_york_business)
    }
    assert {journey["id"] for journey in document["journeys"]} == ids
    meters = sum(journey["distance_m"] for journey in document["journeys"])
    seconds = sum(journey["duration_s"] for journey in document["journeys"])
    assert document["totals"]["journeys"] == 4
    assert document["totals"]["distance_km"] == round(meters / 1000, 1)
    assert document["totals"]["hours"] == round(seconds / 3600, 1)
    subway = next(j for j in document["journeys"] if j["id"] == journeys.subway.id)
    assert subway["departure"] == {
        "planned": "2025-03-20T23:30:00-04:00",
        "real": None,
        "delay_s": None,
    }
    assert subway["origin"] == {
        "name": "Inwood-207 St",
        "lat": 40.8681,
        "lon": -73.9199,
        "stop_id": None,
    }
    assert subway["message"] == "Late ride home"
    ice = next(j for j in document["journeys"] if j["id"] == journeys.ice.id)
    assert (ice["ticket_price"], ice["cost_centre"]) == ("49.90", "KST-4711")
    assert ice["arrival"]["delay_s"] == 180


# --- GPX and GeoJSON ---------------------------------------------------------------------------

ROUTE = [(52.5251, 13.3694), (52.7, 12.9), (53.2, 11.5), (53.5530, 10.0069)]


def test_the_gpx_draws_the_documents_route_and_a_straight_line_without_one(alice, journeys):
    journey_store().put(
        journeys.ice.id, {"geometry": {"encoding": "polyline6", "path": encode_path(ROUTE)}}
    )
    response = export(alice, "gpx")
    assert response["Content-Type"] == "application/gpx+xml"
    root = ET.fromstring(body(response))  # noqa: S314 (our own output)
    assert root.tag == f"{GPX}gpx"
    tracks = {int(track.find(f"{GPX}number").text): track for track in root.iter(f"{GPX}trk")}
    sql = sql_totals(alice)
    assert set(tracks) == {j.id for j in journeys.in_range()}  # all have coordinates
    ice_points = [
        (float(point.get("lat")), float(point.get("lon")))
        for point in tracks[journeys.ice.id].iter(f"{GPX}trkpt")
    ]
    assert ice_points == ROUTE
    first = tracks[journeys.ice.id].find(f"{GPX}trkseg/{GPX}trkpt/{GPX}time").text
    assert first == "2025-03-10T07:01:00Z"  # the real departure, in UTC
    subway_points = list(tracks[journeys.subway.id].iter(f"{GPX}trkpt"))
    assert [(p.get("lat"), p.get("lon")) for p in subway_points] == [
        ("40.868100", "-73.919900"),
        ("40.603800", "-73.755400"),
    ]
    assert "straight line" in tracks[journeys.subway.id].find(f"{GPX}desc").text
    desc = root.find(f"{GPX}metadata/{GPX}desc").text
    assert f"{sql.journeys} journeys · {sql.km:.1f} km · {sql.hours:.1f} h" in desc


def test_the_geojson_has_one_feature_per_journey_with_properties(alice, journeys):
    journey_store().put(
        journeys.ice.id, {"geometry": {"encoding": "polyline6", "path": encode_path(ROUTE)}}
    )
    response = export(alice, "geojson", purpose=[Purpose.BUSINESS])
    assert response["Content-Type"] == "application/geo+json"
    collection = json.loads(body(response))
    assert collection["type"] == "FeatureCollection"
    sql = sql_totals(alice, purposes=(Purpose.BUSINESS,))
    assert len(collection["features"]) == sql.journeys == 4
    assert collection["totals"] == {"journeys": 4, "distance_km": sql.km, "hours": sql.hours}
    features = {feature["id"]: feature for feature in collection["features"]}
    ice = features[journeys.ice.id]
    assert ice["geometry"]["type"] == "LineString"
    assert ice["geometry"]["coordinates"] == [[lon, lat] for lat, lon in ROUTE]
    assert ice["properties"]["route"] == "route"
    assert ice["properties"]["departure_planned"] == "2025-03-10T08:00:00+01:00"
    other = features[journeys.new_york_business.id]
    assert other["properties"]["route"] == "straight"
    assert other["properties"]["time_zone"] == "America/New_York"
    assert other["geometry"]["coordinates"] == [[-73.9773, 40.7641], [-73.9811, 40.5772]]
    assert sum(f["properties"]["distance_m"] for f in collection["features"]) == sql.meters


# --- ICS ---------------------------------------------------------------------------------------


def test_the_calendar_feed_has_an_event_per_journey_at_real_local_times(client, alice, journeys):
    token = calendar_token_renew(user=alice)
    response = client.get(f"/calendar/{token}.ics")  # no sign-in
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    events = {str(event["uid"]): event for event in calendar.walk("VEVENT")}
    # All time, every journey of hers (private ones too: it is her own feed).
    assert len(events) == alice.checkins.count() == 7
    night = events[f"journey-{journeys.night.id}@testserver"].decoded
    assert night("dtstart") == datetime(2025, 3, 14, 23, 32, tzinfo=BERLIN)
    assert night("dtend") == datetime(2025, 3, 15, 1, 17, tzinfo=BERLIN)
    subway = events[f"journey-{journeys.subway.id}@testserver"]
    start = subway.decoded("dtstart")
    assert start.replace(tzinfo=None) == datetime(2025, 3, 20, 23, 30)
    assert start.utcoffset() == datetime(2025, 3, 20, 23, 30, tzinfo=NEW_YORK).utcoffset()
    assert subway["dtstart"].params["TZID"] == "America/New_York"
    assert str(subway["summary"]) == "A: Inwood-207 St → Far Rockaway-Mott Av"
    assert {tz["tzid"] for tz in calendar.walk("VTIMEZONE")} == {
        "Europe/Berlin",
        "America/New_York",
    }


def test_the_calendar_feed_takes_the_export_filters(client, alice, journeys):
    token = calendar_token_renew(user=alice)
    response = client.get(f"/calendar/{token}.ics?purpose=business&start=2025-03-01&end=2025-04-30")
    events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert len(events) == sql_totals(alice, purposes=(Purpose.BUSINESS,)).journeys == 4


def test_the_calendar_feed_answers_not_modified_when_nothing_changed(client, alice, journeys):
    token = calendar_token_renew(user=alice)
    first = client.get(f"/calendar/{token}.ics")
    again = client.get(f"/calendar/{token}.ics", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    journeys.ice.message = "Edited"
    journeys.ice.save()
    changed = client.get(f"/calendar/{token}.ics", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200


def test_the_calendar_page_creates_renews_and_revokes_the_feed(client, alice, journeys):
    traveller = signed_in(alice)
    page = reverse("exports:calendar")
    assert b"You have no calendar feed" in traveller.get(page).content
    traveller.post(page, {"action": "renew"})
    alice.refresh_from_db()
    first = alice.calendar_token
    assert len(first) >= 40
    assert f"/calendar/{first}.ics".encode() in traveller.get(page).content
    assert client.get(f"/calendar/{first}.ics").status_code == 200
    traveller.post(page, {"action": "renew"})
    alice.refresh_from_db()
    assert alice.calendar_token != first
    assert client.get(f"/calendar/{first}.ics").status_code == 404
    assert client.get(f"/calendar/{alice.calendar_token}.ics").status_code == 200
    traveller.post(page, {"action": "revoke"})
    alice.refresh_from_db()
    assert alice.calendar_token == ""
    assert b"You have no calendar feed" in traveller.get(page).content


# --- Privacy -----------------------------------------------------------------------------------


def test_exports_need_signing_in(client):
    assert client.get(EXPORT).status_code == 302
    assert client.post(EXPORT, form("csv")).status_code == 302
    assert client.get(reverse("exports:calendar")).status_code == 302


def test_an_export_holds_only_the_travellers_own_journeys(alice, bob, journeys):
    rows = read_csv(export(bob, "csv"))
    assert [int(row["Journey id"]) for row in rows] == [journeys.bobs.id]


def test_another_travellers_export_is_not_found(alice, bob):
    export = Export.objects.create(
        user=alice, format="csv", status=Export.Status.DONE, rows_total=3, rows_done=3,
        filename="trainy-alice.csv", content_type="text/csv", content=b"secret",
    )  # fmt: skip
    owner, other = signed_in(alice), signed_in(bob)
    for name in ("status", "progress", "download"):
        url = reverse(f"exports:{name}", args=[export.id])
        assert owner.get(url).status_code == 200
        assert other.get(url).status_code == 404
    assert owner.get(reverse("exports:download", args=[export.id])).content == b"secret"
    assert other.get(reverse("exports:status", args=[export.id + 1000])).status_code == 404


def test_an_unfinished_export_cannot_be_downloaded(alice):
    export = Export.objects.create(user=alice, format="csv", status=Export.Status.RUNNING)
    assert signed_in(alice).get(reverse("exports:download", args=[export.id])).status_code == 404


def test_a_revoked_or_unknown_calendar_token_is_not_found(client, alice, journeys):
    token = calendar_token_renew(user=alice)
    calendar_token_revoke(user=alice)
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    assert client.get("/calendar/" + "x" * 43 + ".ics").status_code == 404
    assert client.get("/calendar/.ics").status_code == 404


# --- Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start": "2025-04-30", "end": "2025-03-01"}, "before it starts"),
        ({"start": "1975-01-01", "end": "2025-01-01"}, "20 years at the most"),
        ({"purpose": ["holiday"]}, "There is no purpose “holiday”"),
        ({"mode": ["zeppelin"]}, "There is no mode “zeppelin”"),
        ({"columns": ["id", "salary"]}, "There is no column “salary”"),
        ({"columns": []}, "Choose at least one column"),
        ({"format": "docx"}, "There is no export format “docx”"),
        ({"separator": "|"}, "is not a CSV separator"),
        ({"period": "next-decade"}, "Select a valid choice"),
        ({"start": "2025-02-30"}, "Enter a valid date"),
    ],
)
def test_bad_input_gets_a_clear_message_on_the_form(alice, journeys, fields, message):
    response = signed_in(alice).post(EXPORT, form("csv", **fields))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Content-Disposition" not in response


def test_bad_input_in_the_query_string_shows_the_message_too(alice):
    response = signed_in(alice).get(EXPORT, {"start": "2025-04-30", "end": "2025-03-01"})
    assert response.status_code == 400
    assert "before it starts" in response.content.decode()


def test_the_export_page_shows_the_totals_of_its_filter(alice, journeys):
    response = signed_in(alice).get(
        EXPORT,
        {"period": "custom", "start": "2025-03-01", "end": "2025-04-30", "purpose": "business"},
    )
    sql = sql_totals(alice, purposes=(Purpose.BUSINESS,))
    totals = response.context["totals"]
    assert (totals.journeys, totals.distance_km, totals.hours) == (sql.journeys, sql.km, sql.hours)
    assert totals.ticket_price == sql.tickets
    html = response.content.decode()
    assert f'data-testid="total-km">{sql.km}<' in html
    assert all(f'value="{key}"' in html for key in DEFAULT_COLUMNS)


def test_the_calendar_feed_rejects_a_bad_filter(client, alice):
    token = calendar_token_renew(user=alice)
    response = client.get(f"/calendar/{token}.ics?purpose=holiday")
    assert response.status_code == 400
    assert "holiday" in response.content.decode()


# --- The progress page -------------------------------------------------------------------------


def test_the_progress_page_polls_every_second_and_refreshes_itself_without_javascript(alice):
    export = Export.objects.create(
        user=alice, format="xlsx", status=Export.Status.RUNNING, rows_total=4000, rows_done=1000,
        filename="trainy-alice-all-time.xlsx",
    )  # fmt: skip
    page = signed_in(alice).get(reverse("exports:status", args=[export.id])).content.decode()
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert f'hx-get="{reverse("exports:progress", args=[export.id])}"' in page
    assert 'hx-trigger="every 1s"' in page
    assert '<progress id="export-bar" max="4000" value="1000">' in page
    assert "1000 of 4000 journeys (25 %)" in page
    assert "htmx.min.js" in page

    Export.objects.filter(id=export.id).update(status=Export.Status.DONE, content=b"x")
    done = signed_in(alice).get(reverse("exports:status", args=[export.id])).content.decode()
    assert "http-equiv" not in done and "hx-trigger" not in done
    assert reverse("exports:download", args=[export.id]) in done


def test_the_export_page_lists_the_travellers_recent_exports_only(alice, bob):
    mine = Export.objects.create(user=alice, format="pdf", status=Export.Status.DONE)
    theirs = Export.objects.create(user=bob, format="gpx", status=Export.Status.DONE)
    page = signed_in(alice).get(EXPORT).content.decode()
    assert reverse("exports:download", args=[mine.id]) in page
    assert reverse("exports:download", args=[theirs.id]) not in page


def test_the_calendar_page_refuses_an_unknown_action(alice):
    response = signed_in(alice).post(reverse("exports:calendar"), {"action": "publish"})
    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.calendar_token == ""
