"""Every kind of page under the Content-Security-Policy in Chromium: no violation anywhere, and
the parts that need scripts (htmx search, board colours, charts, maps, the admin) still work."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from checkins.models import CheckIn
from checkins.services.enrichment_lifecycle import journey_enrich
from tests.checkins.feeds import post_trip_checkin, write_feed
from tests.e2e.test_trip_checkin import sign_in
from tests.factories import PASSWORD, UserFactory
from tests.stats.exports_data import seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every violation the page reports, and every console message about one: what Chromium
# refused (an inline style, a script, an image) and which directive refused it.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile}:${event.lineNumber} (${event.sample})`);
});
"""
# A 1x1 PNG for every map tile: the browser asks the tile server's origin (so img-src is
# tested) and gets its answer from here, never from the network.
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
ROUTES = (
    "route_id,agency_id,route_short_name,route_long_name,route_type,route_color,route_text_color\n"
    "R1,DB,,ICE 1601,2,0B5CAD,FFFFFF\n"
    "R2,DB,S7,,109,,\n"
)


class Watched:
    """A page whose violations and console complaints are collected, and checked per page."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self._console)
        page.add_init_script(WATCH_VIOLATIONS)
        page.route(re.compile(r"^https://tile\.openstreetmap\.org/"), self._tile)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.console.append(message.text)

    @staticmethod
    def _tile(route) -> None:
        route.fulfill(status=200, content_type="image/png", body=TILE)

    def assert_clean(self) -> None:
        violations = self.page.evaluate("window.__violations")
        assert (violations, self.console) == ([], []), self.page.url


@pytest.fixture
def watched(browser: Browser, live_server) -> Iterator[Watched]:
    # A traveller standing at Berlin Hbf, who lets Trainy know.
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        geolocation={"latitude": 52.5251, "longitude": 13.3694},
        permissions=["geolocation"],
    )
    context.set_default_timeout(15_000)
    try:
        yield Watched(context.new_page())
    finally:
        context.close()


def test_no_page_violates_the_content_security_policy(watched: Watched, tmp_path, settings):
    call_command("import_gtfs", str(write_feed(tmp_path, {"routes.txt": ROUTES})), name="test",
                 verbosity=0)  # fmt: skip
    grace = UserFactory(username="grace", display_name="Grace", is_staff=True, is_superuser=True)
    seed(grace, UserFactory(username="henry"))
    # A journey of the feed's ICE with its document (route geometry), enriched in-process.
    traveller = Client()
    assert traveller.login(username="grace", password=PASSWORD)
    assert post_trip_checkin(traveller).status_code == 302
    journey = CheckIn.objects.filter(user=grace, trip_id="T1").get()
    journey_enrich(checkin_id=journey.id)
    page = watched.page

    # The front page, and the station search answering through htmx as one types.
    page.goto("/")
    page.get_by_label("Find a station").fill("Berlin")
    results = page.get_by_test_id("station-results")
    expect(results.get_by_role("link", name="Berlin Hbf", exact=True)).to_be_visible()
    watched.assert_clean()

    # Stations near the browser's position (geolocation is allowed to the site itself).
    page.get_by_role("button", name="Stations near me").click()
    expect(page.get_by_role("heading", name="Nearby")).to_be_visible()
    watched.assert_clean()

    # The departure board, each line in its route's colours (set by a script, not a style).
    page.get_by_role("link", name="Berlin Hbf").first.click()
    page.get_by_label("Date and time").fill("2019-06-03T07:00")
    page.get_by_role("button", name="Show departures").click()
    ice = page.get_by_test_id("board").get_by_role("link", name="ICE 1601").first
    expect(ice).to_have_css("background-color", "rgb(11, 92, 173)")
    expect(ice).to_have_css("color", "rgb(255, 255, 255)")
    watched.assert_clean()

    # A trip page.
    ice.click()
    expect(page.get_by_test_id("stops").get_by_role("radio").first).to_be_visible()
    watched.assert_clean()

    # Signed in: the journey page with its map.
    sign_in(page, "grace")
    watched.assert_clean()
    page.goto(f"/journeys/{journey.id}/")
    expect(page.get_by_test_id("map")).to_have_attribute("data-ready", "true")
    expect(page.locator("#journey-map img.leaflet-tile-loaded").first).to_be_attached()
    watched.assert_clean()

    # The statistics page: its charts and its map.
    page.goto("/stats/?period=all")
    expect(page.locator('canvas[data-source="by-mode"]')).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("stats-map")).to_have_attribute("data-ready", "true")
    busiest = page.get_by_test_id("heatmap").locator("td.heat-10")
    expect(busiest.first).not_to_have_css("background-color", "rgba(0, 0, 0, 0)")
    watched.assert_clean()

    # Exports, the calendar address, settings.
    page.goto("/stats/export/")
    expect(page.get_by_test_id("export-button")).to_be_visible()
    watched.assert_clean()
    page.goto("/stats/calendar/")
    page.get_by_role("button", name="Create my calendar address").click()
    # The page the button leads to runs its deferred script once loaded: focus after that.
    expect(page.get_by_test_id("feed-url")).to_have_value(re.compile(r"/calendar/.+\.ics$"))
    page.wait_for_load_state("load")
    page.get_by_test_id("feed-url").focus()
    page.wait_for_function(
        "(f => f.selectionEnd - f.selectionStart > 0)(document.getElementById('feed-url'))"
    )
    watched.assert_clean()
    page.goto("/settings/")
    expect(page.get_by_role("button", name=re.compile("Save"))).to_be_visible()
    watched.assert_clean()

    # The Django admin: its index and a change list, with its own scripts and styles.
    page.goto(f"/{settings.TRAINY_ADMIN_PATH}")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    watched.assert_clean()
    page.goto(f"/{settings.TRAINY_ADMIN_PATH}checkins/checkin/")
    expect(page.locator("#result_list")).to_be_visible()
    # The admin's scripts run: "select all" ticks every row.
    page.locator("#action-toggle").check()
    expect(page.locator("input.action-select").first).to_be_checked()
    watched.assert_clean()


def test_an_inline_style_is_reported_as_a_violation(watched: Watched):
    """The watch itself can fail: a style attribute put into the page is refused and seen."""
    page = watched.page
    page.goto("/")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_function("window.__violations.length > 0")
    with pytest.raises(AssertionError):
        watched.assert_clean()
