"""A manual check-in from the form to the journey page, the history and the feed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import field, fill_manual_checkin, sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_traveller_checks_in_by_hand_and_sees_the_journey_everywhere(page: Page):
    UserFactory(username="ada", display_name="Ada")
    sign_in(page, "ada")
    fill_manual_checkin(page, arrival="2026-11-20T16:00")
    field(page, "Status message").fill("Weekend <b>trip</b>")
    page.get_by_role("button", name="Check in").click()
    # An arrival before the departure is refused next to the field, nothing is saved.
    expect(page.get_by_role("alert")).to_contain_text("The arrival must be after the departure.")

    field(page, "Arrival").fill("2026-11-20T18:15")
    page.get_by_role("button", name="Check in").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Berlin Ostbahnhof → Frankfurt (Oder)")
    expect(page.get_by_text("Weekend <b>trip</b>")).to_be_visible()
    expect(page.get_by_test_id("duration")).to_have_text("1 h 15 min")

    page.get_by_role("link", name="My journeys").click()
    expect(page.get_by_test_id("totals")).to_contain_text("1 journey")
    page.get_by_role("link", name="Statistics").click()
    expect(page.get_by_test_id("total-journeys")).to_have_text("1")
    expect(page.get_by_test_id("by-mode").get_by_role("row", name="Regional rail")).to_contain_text(
        "1"
    )
    page.get_by_role("link", name="Feed").click()
    expect(page.get_by_test_id("journey")).to_contain_text("RE 1")
