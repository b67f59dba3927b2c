"""Two travellers: one follows the other, sees her journey in "following" and likes it; she is
told, marks it read, then makes the journey private, and it is gone from his feeds and its URL
answers 404."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from checkins.models import Mode
from checkins.services.checkins import Place, checkin_create
from tests.e2e.test_trip_checkin import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MESSAGE = "Sunrise over the Elbe <script>alert(1)</script>"


@pytest.fixture
def second_page(browser: Browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 420, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_following_liking_and_a_journey_made_private(page: Page, second_page: Page):
    ada = UserFactory(username="ada", display_name="Ada")
    UserFactory(username="ben", display_name="Ben")
    departure = timezone.now() - timedelta(hours=6)
    journey = checkin_create(
        user=ada, line_name="ICE 1601", mode=Mode.LONG_DISTANCE,
        origin=Place("Berlin Hbf", 52.5251, 13.3694),
        destination=Place("Hamburg Hbf", 53.5530, 10.0069),
        departure_planned=departure, arrival_planned=departure + timedelta(minutes=111),
        message=MESSAGE, visibility="public",
    )  # fmt: skip

    # Ben finds Ada on the global feed and follows her.
    sign_in(page, "ben")
    page.goto("/")
    feed = page.get_by_test_id("feed")
    expect(feed.get_by_text(MESSAGE)).to_be_visible()  # the <script> shows as text
    feed.get_by_role("link", name="Ada").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada")
    page.get_by_role("button", name="Follow", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("You follow Ada.")
    expect(page.get_by_role("button", name="Unfollow")).to_be_visible()

    # Her journey is in his "following" feed; he likes it there (htmx, in place).
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Feed").click()
    page.get_by_role("navigation", name="Feeds").get_by_role("link", name="Following").click()
    item = page.get_by_test_id("journey").filter(has_text="Berlin Hbf → Hamburg Hbf")
    item.get_by_test_id("like").click()
    expect(item.get_by_test_id("like")).to_have_text(re.compile("Liked"))
    expect(item.get_by_test_id("like-count")).to_have_text("1 like")

    # Ada is told, then makes the journey private.
    sign_in(second_page, "ada")
    expect(second_page.get_by_test_id("notifications-link")).to_contain_text("2")
    second_page.get_by_test_id("notifications-link").click()
    notes = second_page.get_by_test_id("notifications")
    expect(notes).to_contain_text("Ben started following you")
    expect(notes).to_contain_text("Ben liked your journey")
    # Looking changes nothing; she marks them read herself.
    second_page.reload()
    expect(second_page.get_by_test_id("notifications-link")).to_contain_text("2")
    expect(notes.locator("li.unread")).to_have_count(2)
    second_page.get_by_role("button", name="Mark all as read").click()
    expect(notes.locator("li.unread")).to_have_count(0)
    expect(second_page.get_by_test_id("notifications-link")).not_to_contain_text("2")
    second_page.goto(f"/journeys/{journey.id}/edit/")
    second_page.get_by_label("Visibility").select_option("private")
    second_page.get_by_role("button", name="Save").click()
    expect(second_page.get_by_text("Private", exact=True)).to_be_visible()

    # Gone from Ben's feeds, and its page is a 404 for him.
    page.reload()
    expect(page.get_by_test_id("feed")).not_to_contain_text("Hamburg Hbf")
    page.goto("/")
    expect(page.get_by_test_id("feed")).not_to_contain_text("Hamburg Hbf")
    response = page.goto(f"/journeys/{journey.id}/")
    assert response is not None and response.status == 404
