"""A business traveller exports the business-trip report as XLSX from the export page and finds
in it the totals the page showed."""

from __future__ import annotations

import re
from datetime import date

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_trip_checkin import sign_in
from tests.factories import UserFactory
from tests.stats.exports_data import seed, sql_totals

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUSINESS = ("business",)


def test_a_business_traveller_downloads_the_xlsx_report_with_the_pages_totals(page: Page, tmp_path):
    grace = UserFactory(username="grace", display_name="Grace")
    seed(grace, UserFactory(username="henry"))
    sign_in(page, "grace")

    page.goto("/stats/export/")
    page.get_by_label("Period").select_option("all")
    page.get_by_label("Business", exact=True).check()
    page.get_by_role("button", name="Show totals for this selection").click()
    totals = page.get_by_test_id("export-totals")
    expect(totals).to_contain_text("journeys")
    page_km = float(page.get_by_test_id("total-km").inner_text().replace(",", ""))
    page_journeys = int(page.get_by_test_id("total-journeys").inner_text())
    # All time, business: the seed's four in spring 2025 and the one of February.
    assert page_journeys == 5

    page.get_by_label("Business-trip report (XLSX)").check()
    with page.expect_download() as download_info:
        page.get_by_test_id("export-button").click()
    download = download_info.value
    assert re.fullmatch(r"trainy-grace-business-report-all-time\.xlsx", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    workbook = openpyxl.load_workbook(saved)

    summary = list(workbook["Summary"].iter_rows(values_only=True))
    assert summary[-1][0] == "Total"
    assert summary[-1][1] == page_journeys
    assert summary[-1][2] == page_km
    report = list(workbook["Report"].iter_rows(values_only=True))
    total = next(row for row in report if str(row[0]).startswith("Total ("))
    assert total[8] == page_km
    # And both are what a direct SQL sum says.
    all_time = sql_totals(grace, start=date(1970, 1, 1), end=date(2100, 1, 1), purposes=BUSINESS)
    assert page_km == all_time.km
