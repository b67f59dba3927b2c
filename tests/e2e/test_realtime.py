"""Real times on the journey page: a Caltrain check-in, then the operator's live feed reports
the train late, and the page shows it once the worker has enriched the journey again."""

from __future__ import annotations

import re
import time

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from checkins.services.realtime import realtime_apply
from tests.checkins.test_realtime import CALTRAIN
from tests.e2e.test_trip_checkin import ENRICHMENT_TIMEOUT_S, sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REAL_DEPARTURE = re.compile(r"real (\d{2}:\d{2})\s+\+(\d+) min")


@pytest.fixture
def caltrain():
    call_command("import_gtfs", str(CALTRAIN / "ct.zip"), name="caltrain", verbosity=0)


def test_a_journey_shows_the_real_times_the_live_feed_reports(page: Page, caltrain, celery_worker):
    UserFactory(username="hedy", display_name="Hedy")
    sign_in(page, "hedy")

    page.goto("/stations/?q=Lawrence")
    page.get_by_test_id("station-results").get_by_role("link", name="Lawrence").first.click()
    page.get_by_label("Date and time").fill("2023-11-07T17:00")
    page.get_by_role("button", name="Show departures").click()
    page.get_by_test_id("board").get_by_role("link", name="L1 124").click()
    page.get_by_role("radio", name=re.compile(r"San Jose Diridon")).check()
    page.get_by_role("button", name="Check in").click()
    departure = page.get_by_test_id("departure")
    expect(departure).to_contain_text("17:03")
    expect(departure).not_to_contain_text("real")

    # Caltrain's feed, captured that evening: train 124 left Lawrence at 17:05.
    realtime_apply(
        feed="caltrain", data=(CALTRAIN / "ct-trip-updates.pb").read_bytes(), source="ct.pb"
    )

    deadline = time.monotonic() + ENRICHMENT_TIMEOUT_S
    while not REAL_DEPARTURE.search(departure.inner_text()):
        if time.monotonic() > deadline:
            pytest.fail(f"no real time after {ENRICHMENT_TIMEOUT_S} s: {departure.inner_text()!r}")
        time.sleep(1)
        page.reload()
    real, late = REAL_DEPARTURE.search(departure.inner_text()).groups()
    assert (real, late) == ("17:05", "2")
    stops = page.get_by_test_id("stopovers").get_by_role("listitem")
    expect(stops.first).to_contain_text("17:03")
    expect(stops.first.locator(".real")).to_have_text("17:05")
    expect(stops.last).to_contain_text("San Jose Diridon")
    expect(page.get_by_text("Real times from the operator's live feed")).to_be_visible()

    # It made up the time by San Jose Diridon (17:16:16 for 17:16): "My journeys" says so.
    expect(page.get_by_test_id("arrival")).to_contain_text("real 17:16")
    page.get_by_role("link", name="My journeys").click()
    expect(page.get_by_test_id("delay")).to_have_text("on time")
