"""A traveller moving from Travelynx uploads their history, reads the dry run (three journeys
new, one row refused and why), imports, and finds the journeys in "My journeys" and in the
statistics; the same file again adds nothing. Then they download all their data: the archive,
made by the Celery worker, holds the three journeys. And they leave: the account's deletion is
scheduled, they are signed out, and once it is due the account and the journeys' documents are
gone."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from checkins.models import CheckIn
from tests.e2e.test_trip_checkin import sign_in
from tests.factories import UserFactory
from trainy.accounts.models import User
from trainy.accounts.services import accounts_delete_due
from trainy.documents import journey_store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HISTORY = Path(__file__).parents[1] / "checkins/imports/fixtures/travelynx-history.json"


def upload_and_check(page: Page) -> None:
    page.goto("/journeys/")
    page.get_by_test_id("import-link").click()
    page.get_by_label("Export file").set_input_files(str(HISTORY))
    page.get_by_label("Visibility").select_option("followers")
    page.get_by_test_id("check-button").click()


def test_a_travelynx_history_is_checked_imported_and_found(
    page: Page, full_stack, celery_worker, tmp_path
):
    UserFactory(username="ines", display_name="Ines")
    sign_in(page, "ines")

    upload_and_check(page)
    summary = page.get_by_test_id("import-summary")
    expect(summary).to_contain_text("3 new journeys would be imported")
    expect(page.get_by_test_id("count-refused")).to_have_text("1")
    expect(page.get_by_test_id("refused")).to_contain_text("Entry 4:")
    page.goto("/journeys/")
    expect(page.get_by_test_id("totals")).to_contain_text("0 journeys")  # nothing yet

    page.go_back()
    page.get_by_test_id("import-button").click()
    expect(page.get_by_test_id("import-progress")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("count-new")).to_have_text("3")

    page.get_by_test_id("journeys-link").click()
    expect(page.get_by_test_id("totals")).to_contain_text("3 journeys")
    expect(page.locator("main")).to_contain_text("ICE 1601")
    expect(page.locator("main")).to_contain_text("M4")

    page.goto("/stats/?period=all")
    expect(page.get_by_test_id("total-journeys")).to_have_text("3")

    # The same file again: nothing new, and nothing to say yes to.
    upload_and_check(page)
    expect(page.get_by_test_id("count-new")).to_have_text("0")
    expect(page.get_by_test_id("count-duplicates")).to_have_text("3")
    expect(page.get_by_test_id("import-button")).to_have_count(0)

    # All their data, as one ZIP, made in the background.
    page.goto("/settings/")
    page.get_by_test_id("archive-button").click()
    download_link = page.get_by_test_id("download")
    expect(download_link).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("export-progress")).to_contain_text("Available until")
    with page.expect_download() as download_info:
        download_link.click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        data = json.loads(archive.read("trainy-archive.json"))
    assert data["profile"]["username"] == "ines"
    assert sorted(j["fields"]["line_name"] for j in data["journeys"]) == ["ICE 1601", "M4", "S 5"]

    # Leaving: confirm, signed out, and once due, gone with the journeys' documents.
    ids = list(CheckIn.objects.filter(user__username="ines").values_list("id", flat=True))
    assert len(ids) == 3 and all(journey_store().get(i) is not None for i in ids)
    page.goto("/settings/")
    page.get_by_test_id("delete-link").click()
    page.get_by_label("I want my account and all my data deleted").check()
    page.get_by_test_id("delete-button").click()
    expect(page.get_by_test_id("deletion-due")).to_be_visible()
    page.goto("/settings/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    User.objects.filter(username="ines").update(deletion_due_at=timezone.now())
    assert accounts_delete_due() == 1
    assert not User.objects.filter(username="ines").exists()
    assert all(journey_store().get(i) is None for i in ids)
