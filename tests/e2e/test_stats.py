"""A seeded traveller's statistics page: a chart and its table show the same figures, and the
business-trip report, downloaded as PDF and as XLSX, carries the totals the page shows."""

from __future__ import annotations

import re

import openpyxl
import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.e2e.test_trip_checkin import sign_in
from tests.factories import UserFactory
from tests.stats.exports_data import seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def number(text: str) -> float:
    return float(text.replace(",", "").strip())


def test_the_statistics_page_and_the_business_report_agree(page: Page, tmp_path):
    grace = UserFactory(username="grace", display_name="Grace")
    seed(grace, UserFactory(username="henry"))
    sign_in(page, "grace")

    page.get_by_role("link", name="Statistics").click()
    page.get_by_label("Period").select_option("all")
    page.get_by_label("Business", exact=True).check()
    page.get_by_role("button", name="Show").click()
    page_km = number(page.get_by_test_id("total-km").inner_text())
    page_journeys = int(page.get_by_test_id("total-journeys").inner_text())
    assert page_journeys == 5

    # The "by mode" chart holds exactly the numbers of its table.
    canvas = page.locator('canvas[data-source="by-mode"]')
    expect(canvas).to_have_attribute("data-ready", "true")
    chart = canvas.evaluate(
        "c => { const chart = Chart.getChart(c); "
        "return {labels: chart.data.labels, values: chart.data.datasets[0].data}; }"
    )
    rows = page.get_by_test_id("by-mode").locator("tbody tr")
    table = {
        rows.nth(i).locator("th").inner_text(): number(
            rows.nth(i).locator("td").nth(1).inner_text()
        )
        for i in range(rows.count())
    }
    assert dict(zip(chart["labels"], chart["values"], strict=True)) == table
    # Each row is rounded to 0.1 km on its own, so their sum may be off by 0.05 km a row.
    assert abs(sum(table.values()) - page_km) <= 0.05 * len(table) + 1e-9

    # The business-trip report, as PDF and as XLSX, from the same selection.
    page.get_by_role("link", name="Export this selection").click()
    files = {}
    for kind in ("PDF", "XLSX"):
        page.get_by_label(f"Business-trip report ({kind})").check()
        with page.expect_download() as download_info:
            page.get_by_test_id("export-button").click()
        download = download_info.value
        files[kind] = tmp_path / download.suggested_filename
        download.save_as(files[kind])

    workbook = openpyxl.load_workbook(files["XLSX"])
    total = list(workbook["Summary"].iter_rows(values_only=True))[-1]
    assert (total[0], total[1], total[2]) == ("Total", page_journeys, page_km)

    text = "\n".join(p.extract_text() for p in PdfReader(files["PDF"]).pages)
    assert "Grace" in text
    # The PDF's summary ends with the overall totals: journeys, then kilometres.
    totals = re.search(r"\bTotal\s+(\d+)\s+([\d,]+\.\d)\s", text)
    assert totals, text[:2000]
    assert (int(totals.group(1)), number(totals.group(2))) == (page_journeys, page_km)
