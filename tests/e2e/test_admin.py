"""The admin site in Chromium: a superuser imports a timetable from an uploaded zip and watches
it run on the real worker, then finds a journey by station and makes it private; makes a
traveller's archive on their behalf and downloads it; and a traveller whose sign-in an admin
blocked is refused at GitLab sign-in."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from checkins.models import CheckIn, Visibility
from checkins.timetable.models import Feed
from stats.exports.archive import ARCHIVE_NAME
from stats.models import Export
from tests.checkins.feeds import post_trip_checkin, write_feed
from tests.e2e.test_sso import (  # noqa: F401  (fixtures)
    gitlab,
    idp,
    sign_in_at_gitlab,
    sign_in_with_gitlab,
    start_sign_in,
)
from tests.e2e.test_trip_checkin import sign_in
from tests.factories import PASSWORD, CheckInFactory, UserFactory
from tests.idp.server import GitLabIdP
from trainy.accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMPORT_TIMEOUT_MS = 60_000


def test_a_superuser_imports_a_timetable_and_makes_a_journey_private(
    page: Page, celery_worker, tmp_path
):
    UserFactory(username="root", display_name="Root", is_staff=True, is_superuser=True)
    sign_in(page, "root")
    page.set_viewport_size({"width": 1280, "height": 900})  # the admin's list needs room

    # Import a timetable from an uploaded zip, and watch it until it is done.
    page.goto("/admin/")
    page.get_by_role("link", name="Feeds").click()
    page.get_by_role("link", name="Import a timetable").click()
    page.get_by_label("Feed name").fill("test")
    page.get_by_label("GTFS zip").set_input_files(str(write_feed(tmp_path, as_zip=True)))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("The import of test has started.")).to_be_visible()
    expect(page.locator(".field-status")).to_contain_text("Done", timeout=IMPORT_TIMEOUT_MS)
    version = Feed.objects.get(name="test").active_version
    assert version is not None
    expect(page.locator(".field-phase")).to_contain_text(f"Version {version.id} is active")
    expect(page.locator(".field-progress")).to_contain_text("100%")

    # The feed is listed with its figures.
    page.goto("/admin/checkins/feed/")
    row = page.locator("#result_list tbody tr").filter(has_text=re.compile(r"^\s*test"))
    expect(row).to_contain_text(f"version {version.id}")
    expect(row).to_contain_text("5 stops, 3 trips, 6 stop times")

    # A traveller checks in on the new timetable; the admin finds the journey by station.
    ines = UserFactory(username="ines", display_name="Ines")
    traveller = Client()
    traveller.login(username="ines", password=PASSWORD)
    assert post_trip_checkin(traveller).status_code == 302
    journey = CheckIn.objects.get(user=ines)
    assert journey.visibility == Visibility.PUBLIC
    UserFactory(username="olaf")
    other = Client()
    other.login(username="olaf", password=PASSWORD)
    post_trip_checkin(other, destination_seq="2")

    page.goto("/admin/checkins/checkin/")
    page.locator("#searchbar").fill("Hamburg")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    page.locator(f"input[name=_selected_action][value='{journey.id}']").check()
    page.locator("select[name=action]").select_option(label="Make private")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_text("1 journey made private.")).to_be_visible()

    journey.refresh_from_db()
    assert journey.visibility == Visibility.PRIVATE
    assert CheckIn.objects.exclude(id=journey.id).get().visibility == Visibility.PUBLIC
    assert Client().get(f"/journeys/{journey.id}/").status_code == 404


def test_a_traveller_whose_sign_in_is_blocked_is_refused_by_gitlab_sign_in(
    page: Page,
    gitlab: GitLabIdP,  # noqa: F811
):
    gitlab.user("una", "Una Blocked", groups=["kbs610"])
    sign_in_with_gitlab(page, "una")
    una = User.objects.get(username="una")

    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    admin.post("/admin/accounts/user/", {"action": "block_sign_in", "_selected_action": [una.pk]})
    una.refresh_from_db()
    assert not una.is_active

    # Her open session ends with the block, and GitLab sign-in is refused.
    page.goto("/")
    expect(page.get_by_test_id("account")).not_to_contain_text("Signed in as")
    start_sign_in(page)
    sign_in_at_gitlab(page, "una")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("heading", name="Account Inactive")).to_be_visible()
    expect(page.get_by_test_id("account")).not_to_contain_text("Signed in as")

    admin.post("/admin/accounts/user/", {"action": "allow_sign_in", "_selected_action": [una.pk]})
    sign_in_with_gitlab(page, "una")


def test_an_admin_makes_a_travellers_archive_and_downloads_it(page: Page, celery_worker):
    """A traveller asked by mail for their data: the admin makes their archive, the worker
    makes it, the admin downloads it; the admin's history says who did what."""
    UserFactory(username="root", display_name="Root", is_staff=True, is_superuser=True)
    vera = UserFactory(username="vera", display_name="Vera")
    CheckInFactory(user=vera, message="Hamburg and back")
    sign_in(page, "root")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto("/admin/")
    page.get_by_role("link", name="Exports").click()
    page.get_by_role("link", name="Make a traveller's archive").click()
    page.get_by_label("Traveller").fill("nobody")
    page.get_by_role("button", name="Make the archive").click()
    expect(page.get_by_text("There is no traveller called nobody.")).to_be_visible()
    page.get_by_label("Traveller").fill("vera")
    page.get_by_role("button", name="Make the archive").click()
    expect(page.get_by_text("The archive of vera is being made.")).to_be_visible()
    expect(page.locator(".field-made_by")).to_contain_text("root")

    # The worker makes it; the list offers it for download.
    export = Export.objects.get(user=vera)
    for _ in range(120):
        page.goto("/admin/stats/export/")
        if page.get_by_role("link", name="Download").count():
            break
        page.wait_for_timeout(500)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        data = json.loads(archive.read(ARCHIVE_NAME))
    assert data["profile"]["username"] == "vera"
    assert [j["fields"]["message"] for j in data["journeys"]] == ["Hamburg and back"]

    page.goto(f"/admin/stats/export/{export.id}/history/")
    expect(page.locator("#change-history")).to_contain_text("Archive of vera asked for.")
    expect(page.locator("#change-history")).to_contain_text("File downloaded.")
