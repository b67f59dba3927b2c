"""A check-in from the timetable: station, board, an ICE to Hamburg, the journey once enriched."""

from __future__ import annotations

import re
import time

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.conftest import DB_FEED
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STATION = "Berlin Hbf"
ROUTE = f"{STATION} → Hamburg Hbf"
MESSAGE = "Off to <b>Hamburg</b>"
# The exit radio's label: the arrival time, the stop's name, perhaps its platform.
HAMBURG_HBF = re.compile(r"^\d{2}:\d{2} Hamburg Hbf( platform \S+)?$")
KILOMETRES = re.compile(r"([\d,]+\.\d) km")
# The worker enriches after the check-in commits; a generous bound for a loaded machine.
ENRICHMENT_TIMEOUT_S = 60


@pytest.fixture
def db_feed():
    call_command("import_gtfs", str(DB_FEED), name="db-fv", verbosity=0)


def open_first_ice_to_hamburg(page: Page) -> None:
    """Open the board's trips in order, stopping at the first ICE that later calls at Hamburg
    Hbf: its headsign may name somewhere past Hamburg (Hamburg-Altona, Kiel…)."""
    board = page.get_by_test_id("board")
    expect(board.get_by_role("row").nth(1)).to_be_visible()
    ices = board.get_by_role("link", name=re.compile(r"^ICE \d+$"))
    trips = [ices.nth(i).get_attribute("href") for i in range(ices.count())]
    assert trips, f"no ICE leaves {STATION} on the board"
    for trip in trips:
        page.goto(trip)
        expect(page.get_by_test_id("stops").locator(".boarding")).to_contain_text(STATION)
        if page.get_by_role("radio", name=HAMBURG_HBF).count():
            return
    pytest.fail(f"none of the {len(trips)} ICE trips on the {STATION} board calls at Hamburg Hbf")


def wait_for_distance(page: Page) -> float:
    """Reload the journey page until the worker's enrichment shows a distance in km."""
    distance = page.get_by_test_id("distance")
    deadline = time.monotonic() + ENRICHMENT_TIMEOUT_S
    while True:
        match = KILOMETRES.search(distance.inner_text())
        if match:
            return float(match.group(1).replace(",", ""))
        if time.monotonic() > deadline:
            pytest.fail(
                f"no distance after {ENRICHMENT_TIMEOUT_S} s; the page says "
                f"{distance.inner_text()!r} (is the Celery worker consuming?)"
            )
        time.sleep(1)
        page.reload()


def test_a_traveller_checks_in_to_an_ice_to_hamburg_and_sees_it_enriched(
    page: Page, db_feed, celery_worker
):
    UserFactory(username="grace", display_name="Grace")
    sign_in(page, "grace")

    page.goto("/")
    page.get_by_label("Find a station").fill("Berlin Hbf")
    results = page.get_by_test_id("station-results")
    results.get_by_role("link", name=STATION, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(STATION)
    page.get_by_label("Date and time").fill("2019-06-03T08:00")
    page.get_by_role("button", name="Show departures").click()

    open_first_ice_to_hamburg(page)
    line = page.get_by_role("heading", level=1).locator(".line").inner_text()
    page.get_by_role("radio", name=HAMBURG_HBF).check()
    page.get_by_label("Status message").fill(MESSAGE)
    page.get_by_role("button", name="Check in").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(line)
    expect(page.get_by_role("heading", level=1)).to_contain_text(ROUTE)
    # Shown as typed, never as markup.
    expect(page.get_by_text(MESSAGE)).to_be_visible()
    expect(page.locator(".journey-page b")).to_have_count(0)

    km = wait_for_distance(page)
    # Berlin–Hamburg is 252 km as the crow flies and about 285 km by rail.
    assert 250 <= km <= 300, f"{km} km is not a Berlin–Hamburg distance"
    expect(page.get_by_test_id("map")).to_have_attribute("data-ready", "true")
    stopovers = page.get_by_test_id("stopovers").get_by_role("listitem")
    expect(stopovers.first).to_contain_text(STATION)
    expect(stopovers.last).to_contain_text("Hamburg Hbf")
    page.screenshot(path="/tmp/journey.png", full_page=True)

    page.get_by_role("link", name="My journeys").click()
    expect(page.get_by_test_id("totals")).to_have_text(re.compile(r"^1 journey ·"))
    journey = page.get_by_test_id("journey")
    expect(journey).to_contain_text(ROUTE)
    expect(journey).to_contain_text(MESSAGE)
    expect(journey.locator("b")).to_have_count(0)
