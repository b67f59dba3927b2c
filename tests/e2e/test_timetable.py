"""From a station search to a departure board to a trip, on the real DB long-distance feed."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.conftest import DB_FEED

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def db_feed():
    call_command("import_gtfs", str(DB_FEED), name="db-fv", verbosity=0)


def test_a_traveller_finds_berlin_hbf_its_board_and_an_ice_trip(page: Page, db_feed):
    page.goto("/")
    page.get_by_label("Find a station").fill("Berlin Hbf")
    results = page.get_by_test_id("station-results")
    # The autocomplete answers while typing; the exact name comes first.
    expect(results.get_by_role("link").first).to_have_text("Berlin Hbf")
    results.get_by_role("link", name="Berlin Hbf", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Berlin Hbf")
    page.get_by_label("Date and time").fill("2019-06-03T08:00")
    page.get_by_role("button", name="Show departures").click()
    board = page.get_by_test_id("board")
    expect(board.get_by_role("row").nth(1)).to_contain_text("08:03")
    ice = board.get_by_role("link", name=re.compile(r"^ICE \d+$")).first
    line = ice.inner_text()
    ice.click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(line)
    stops = page.get_by_test_id("stops")
    expect(stops.locator(".boarding")).to_contain_text("Berlin Hbf")
    # Every later stop is an exit to pick; checking in needs an account.
    expect(stops.get_by_role("radio").first).to_be_visible()
    expect(page.get_by_role("link", name="Sign in to check in")).to_be_visible()

    # Later departures page on from the board.
    page.go_back()
    page.get_by_role("link", name="Later →").click()
    expect(page.get_by_test_id("board").get_by_role("row").nth(1)).not_to_contain_text("08:03")
