"""/api/v1/stats/: the statistics page's figures for a range; /api/v1/exports/: exports made as
the export page makes them (small ones at once, large ones by the Celery task, polled and
downloaded); /api/v1/calendar/: the calendar feed's secret URL. The traveller's own only."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from checkins.models import Purpose
from stats.exports.columns import DEFAULT_COLUMNS
from stats.exports.options import FORMATS
from stats.models import Export
from stats.services import DIRECT_LIMIT
from tests.apiclient import assert_refused_without_the_scope, bearer, error_of, token_for
from tests.factories import CheckInFactory
from tests.stats.exports_data import END, RANGE, START, body, form, seed, signed_in, sql_totals

pytestmark = pytest.mark.django_db

STATS = "/api/v1/stats/"
EXPORTS = "/api/v1/exports/"
CALENDAR = "/api/v1/calendar/"
JSON = "application/json"


@pytest.fixture
def journeys(alice, bob):
    return seed(alice, bob)


# --- Statistics ---------------------------------------------------------------------------------


def test_the_statistics_are_the_pages_figures_for_the_range(alice, journeys):
    api = bearer(token_for(alice, ("read",)))
    response = api.get(STATS, RANGE)
    assert response.status_code == 200, response.content
    figures = response.json()
    page = signed_in(alice).get(reverse("stats:overview"), RANGE).context["stats"]

    sql = sql_totals(alice)  # Bob's 999 km in the range are not Alice's
    assert figures["totals"] == {"journeys": sql.journeys, "distance_km": sql.km,
                                 "hours": sql.hours}  # fmt: skip
    assert figures["range"] == {
        "period": "custom", "start": START.isoformat(), "end": END.isoformat(),
        "purposes": [], "modes": [], "description": page.criteria.describe(),
    }  # fmt: skip
    assert figures["points"] == page.points
    assert figures["delays"] == page.delays.__dict__
    for name in ("by_purpose", "by_mode", "by_operator", "by_line", "months"):
        assert figures[name] == [row.__dict__ for row in getattr(page, name)], name
    assert figures["stations"] == [{"name": n, "visits": v} for n, v in page.stations]
    assert [j["id"] for j in figures["longest"]] == [j.id for j in page.longest]
    assert figures["longest"][0]["id"] == journeys.ice.id
    assert figures["heatmap"] == page.heatmap
    assert (figures["emissions"]["kg"], figures["emissions"]["car_kg"]) == (
        page.emissions.kg, page.emissions.car_kg,
    )  # fmt: skip
    assert [(row["label"], row["kg"]) for row in figures["emissions"]["by_mode"]] == (
        page.emissions.by_mode
    )
    assert sum(row["journeys"] for row in figures["by_mode"]) == sql.journeys


def test_the_statistics_take_the_purpose_and_mode_filters(alice, journeys):
    api = bearer(token_for(alice, ("read",)))
    business = api.get(STATS, {**RANGE, "purpose": "business"}).json()
    sql = sql_totals(alice, purposes=(Purpose.BUSINESS,))
    totals = business["totals"]
    assert (totals["journeys"], totals["distance_km"]) == (sql.journeys, sql.km)
    assert business["range"]["purposes"] == ["business"]
    subway = api.get(STATS, {**RANGE, "mode": ["subway", "tram"]}).json()
    assert [row["key"] for row in subway["by_mode"]] == ["subway"]
    assert subway["totals"]["journeys"] == 2


def test_the_statistics_are_of_this_year_by_default(alice):
    today = timezone.localdate()
    CheckInFactory(user=alice, departure_planned=timezone.now() - timedelta(minutes=90))
    CheckInFactory(user=alice, departure_planned=timezone.now() - timedelta(days=400))
    figures = bearer(token_for(alice)).get(STATS).json()
    assert figures["range"]["period"] == "this-year"
    assert figures["range"]["start"] == date(today.year, 1, 1).isoformat()
    assert figures["totals"]["journeys"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [({"period": "next-decade"}, "period"), ({"start": "9999-12-31"}, "start"),
     ({"mode": "rocket"}, "mode"), ({"purpose": "holiday"}, "purpose"),
     ({"end": "not a day"}, "end")],
)  # fmt: skip
def test_a_bad_filter_is_a_400_naming_it(alice, query, field):
    response = bearer(token_for(alice)).get(STATS, query)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_a_range_that_ends_before_it_starts_gets_the_pages_message(alice):
    response = bearer(token_for(alice)).get(STATS, {"start": "2025-03-02", "end": "2025-03-01"})
    assert response.status_code == 400
    assert "before it starts" in error_of(response)["message"]


def test_the_statistics_need_the_read_scope(alice):
    assert_refused_without_the_scope(alice, "get", STATS, "read")


# --- Exports answered at once ----------------------------------------------------------------


def api_export(user, kind: str = "csv", **extra):
    data = {"format": kind, "period": "custom", "start": START.isoformat(),
            "end": END.isoformat(), "columns": list(DEFAULT_COLUMNS), "separator": ","}  # fmt: skip
    return bearer(token_for(user, ("exports",))).post(EXPORTS, data | extra, content_type=JSON)


def test_a_small_export_is_answered_at_once_with_the_pages_file(alice, journeys):
    response = api_export(alice, "csv", purposes=["business"], separator=";")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="trainy-alice-2025-03-01-to-2025-04-30.csv"'
    )
    assert response["Cache-Control"] == "private, no-store"
    page = signed_in(alice).post(
        reverse("exports:new"), form("csv", purpose=["business"], separator=";")
    )
    content = body(response)  # streamed: read once
    assert content == body(page)
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == sql_totals(alice, purposes=(Purpose.BUSINESS,)).journeys
    assert not Export.objects.exists()  # nothing kept: as on the page


@pytest.mark.parametrize("kind", list(FORMATS))
def test_every_format_comes_with_its_content_type_and_name(alice, journeys, kind):
    response = api_export(alice, kind)
    assert response.status_code == 200
    assert response["Content-Type"] == FORMATS[kind].content_type
    assert response["Content-Disposition"].endswith(f'.{FORMATS[kind].extension}"')
    assert body(response)


def test_the_form_defaults_stand_in_for_what_is_left_out(alice, journeys):
    CheckInFactory(user=alice, departure_planned=timezone.now() - timedelta(minutes=90))
    response = bearer(token_for(alice)).post(EXPORTS, {}, content_type=JSON)
    assert response.status_code == 200
    year = timezone.localdate().year
    assert f"trainy-alice-{year}-01-01-to-" in response["Content-Disposition"]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert len(rows) == 2  # the header and this year's one journey


def test_a_client_accepting_only_the_files_type_gets_the_file(alice, journeys):
    api = bearer(token_for(alice))
    data = {"format": "pdf", **RANGE}
    response = api.post(EXPORTS, data, content_type=JSON, headers={"Accept": "application/pdf"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [({"format": "docx"}, "format", "not a valid choice"),
     ({"format": "csv", "columns": []}, "columns", "Choose at least one column."),
     ({"columns": ["id", "password"]}, "columns.1", "not a valid choice"),
     ({"purposes": "business"}, "purposes", "Expected a list"),
     ({"modes": ["bus"] * 20}, "modes", "no more than"),
     ({"start": "9999-12-31"}, "start", ""),
     ({"separator": "|"}, "separator", "not a valid choice")],
)  # fmt: skip
def test_bad_export_options_are_a_400_naming_the_field(alice, data, field, message):
    response = bearer(token_for(alice)).post(EXPORTS, data, content_type=JSON)
    assert response.status_code == 400, response.content
    fields = error_of(response)["fields"]
    assert field in fields, fields
    assert message in " ".join(fields[field])
    assert not Export.objects.exists()


def test_a_range_of_more_than_20_years_gets_the_forms_message(alice):
    data = {"start": "1970-01-01", "end": "2026-01-01"}
    response = bearer(token_for(alice)).post(EXPORTS, data, content_type=JSON)
    assert response.status_code == 400
    assert "20 years" in error_of(response)["message"]


# --- Background exports: progress, download, someone else's -------------------------------------


def stored(user, **fields) -> Export:
    values = {"format": "csv", "status": Export.Status.DONE, "rows_total": 3, "rows_done": 3,
              "filename": "trainy-x.csv", "content_type": "text/csv; charset=utf-8",
              "content": b"a,b\n1,2\n"} | fields  # fmt: skip
    return Export.objects.create(user=user, **values)


def test_an_exports_progress_and_download_link(alice):
    running = stored(alice, status=Export.Status.RUNNING, rows_total=2000, rows_done=500,
                     content=None, options={"format": "csv", "period": "last-year",
                                            "start": "2025-01-01", "end": "2025-12-31",
                                            "purposes": ["business"], "modes": [],
                                            "columns": ["id"], "separator": ";",
                                            "time_zone": "Europe/Berlin"})  # fmt: skip
    api = bearer(token_for(alice, ("exports",)))
    answer = api.get(f"{EXPORTS}{running.id}/").json()
    assert (answer["status"], answer["rows_done"], answer["rows_total"], answer["percent"]) == (
        "running", 500, 2000, 25,
    )  # fmt: skip
    assert answer["download"] is None
    assert answer["options"] == {"period": "last-year", "start": "2025-01-01",
                                 "end": "2025-12-31", "purposes": ["business"], "modes": [],
                                 "columns": ["id"], "separator": ";"}  # fmt: skip
    assert api.get(f"{EXPORTS}{running.id}/download/").status_code == 404

    Export.objects.filter(id=running.id).update(status=Export.Status.DONE, rows_done=2000,
                                                content=b"id\n1\n")  # fmt: skip
    answer = api.get(f"{EXPORTS}{running.id}/").json()
    assert answer["download"] == f"http://testserver{EXPORTS}{running.id}/download/"
    download = api.get(answer["download"])
    assert download.status_code == 200 and download.content == b"id\n1\n"
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == 'attachment; filename="trainy-x.csv"'


def test_a_failed_export_says_why(alice):
    failed = stored(alice, status=Export.Status.FAILED, content=None, error="It broke.")
    answer = bearer(token_for(alice)).get(f"{EXPORTS}{failed.id}/").json()
    assert (answer["status"], answer["error"], answer["download"]) == ("failed", "It broke.", None)


def test_the_list_has_the_travellers_own_exports_newest_first(alice, bob):
    older = stored(alice)
    newer = stored(alice, format="json", content_type="application/json")
    stored(bob)
    response = bearer(token_for(alice, ("exports",))).get(EXPORTS)
    assert response.status_code == 200
    assert [export["id"] for export in response.json()] == [newer.id, older.id]


def test_someone_elses_export_is_not_found(alice, bob):
    bobs = stored(bob, content=b"bob's secret journeys")
    api = bearer(token_for(alice))
    for path in (f"{EXPORTS}{bobs.id}/", f"{EXPORTS}{bobs.id}/download/"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
        assert b"secret" not in response.content
    mine = stored(alice)
    assert api.get(f"{EXPORTS}{mine.id}/download/").status_code == 200


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_exports_need_the_exports_scope(alice, method):
    data = {"format": "csv"} if method == "post" else None
    assert_refused_without_the_scope(alice, method, EXPORTS, "exports", data)


def test_an_export_and_its_file_need_the_exports_scope(alice):
    export = stored(alice)
    for path in (f"{EXPORTS}{export.id}/", f"{EXPORTS}{export.id}/download/"):
        assert_refused_without_the_scope(alice, "get", path, "exports")


# --- The calendar feed ---------------------------------------------------------------------------


def feed_path(url: str) -> str:
    assert url.startswith("http://testserver/")
    return url.removeprefix("http://testserver")


def test_the_calendar_feed_is_turned_on_renewed_and_off(client, alice, journeys):
    api = bearer(token_for(alice, ("exports",)))
    assert api.get(CALENDAR).json() == {"url": None}

    first = api.post(CALENDAR)
    assert first.status_code == 200
    url = first.json()["url"]
    alice.refresh_from_db()
    assert url.endswith(reverse("exports:calendar_feed", args=[alice.calendar_token]))
    assert api.get(CALENDAR).json() == {"url": url}
    feed = client.get(feed_path(url))
    assert feed.status_code == 200 and b"BEGIN:VCALENDAR" in feed.content

    second = api.post(CALENDAR).json()["url"]
    assert second != url
    assert client.get(feed_path(url)).status_code == 404
    assert client.get(feed_path(second)).status_code == 200

    off = api.delete(CALENDAR)
    assert off.status_code == 204 and off.content == b""
    assert api.get(CALENDAR).json() == {"url": None}
    assert client.get(feed_path(second)).status_code == 404


def test_the_calendar_feed_is_the_travellers_own(alice, bob):
    bobs = bearer(token_for(bob)).post(CALENDAR).json()["url"]
    mine = bearer(token_for(alice)).post(CALENDAR).json()["url"]
    assert mine != bobs
    bob.refresh_from_db()
    assert bobs.endswith(f"/{bob.calendar_token}.ics") or bob.calendar_token in bobs
    bearer(token_for(alice)).delete(CALENDAR)
    bob.refresh_from_db()
    assert bob.calendar_token and bob.calendar_token in bobs


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_the_calendar_feed_needs_the_exports_scope(alice, method):
    assert_refused_without_the_scope(alice, method, CALENDAR, "exports")
    alice.refresh_from_db()
    assert alice.calendar_token == ""  # no refused request turned it on


# --- A large export, end to end, on a real worker -----------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_large_export_is_started_polled_and_downloaded_over_the_api(celery_worker, alice, bob):
    from tests.conftest import wait_for
    from tests.stats.test_export_task import JOURNEYS, YEAR, many_journeys

    many_journeys(alice)
    assert JOURNEYS > DIRECT_LIMIT
    api = bearer(token_for(alice, ("exports",)))
    data = {**YEAR, "format": "csv", "modes": ["regional"], "columns": ["id", "distance"]}
    started = api.post(EXPORTS, data, content_type=JSON)
    assert started.status_code == 202, started.content
    export = started.json()
    assert started["Location"] == f"http://testserver{EXPORTS}{export['id']}/"
    year = sql_totals(alice, date(2025, 1, 1), date(2025, 12, 31))
    assert (export["status"], export["rows_total"]) == ("queued", year.journeys)

    seen: list[int] = []

    def done() -> dict | None:
        answer = api.get(started["Location"]).json()
        seen.append(answer["rows_done"])
        return answer if answer["status"] in ("done", "failed") else None

    finished = wait_for(done, timeout=180, message="the export to finish")
    assert finished["status"] == "done", finished["error"]
    assert finished["rows_done"] == finished["rows_total"] == year.journeys
    assert seen == sorted(seen)  # progress only moves forward

    download = api.get(finished["download"])
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == (
        'attachment; filename="trainy-alice-2025-01-01-to-2025-12-31.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert len(rows) == year.journeys
    assert list(rows[0]) == ["Journey id", "Distance (km)"]  # the columns asked for
    assert sum(round(float(row["Distance (km)"]) * 1000) for row in rows) == year.meters
    assert [e["id"] for e in api.get(EXPORTS).json()] == [finished["id"]]

    others = bearer(token_for(bob, ("exports",)))
    for path in (started["Location"], finished["download"]):
        assert others.get(path).status_code == 404
