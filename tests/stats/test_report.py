"""The business-trip report (stats.exports.report) as PDF and XLSX: business journeys only,
grouped by month of the range's zone, totals per month and overall equal to a direct SQL sum,
cost centres, signature lines."""

from __future__ import annotations

import io
import re
from datetime import datetime
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from pypdf import PdfReader

from checkins.models import Mode, Purpose
from tests.stats.exports_data import body, form, seed, signed_in, sql_totals

pytestmark = pytest.mark.django_db

EXPORT = reverse("exports:new")
BUSINESS = (Purpose.BUSINESS,)


@pytest.fixture
def journeys(alice, bob):
    return seed(alice, bob)


def report(user, kind: str, **extra):
    response = signed_in(user).post(EXPORT, form(kind, **extra))
    assert response.status_code == 200, response.content[:2000]
    return body(response)


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_report_totals_equal_a_direct_sql_sum_of_business_journeys(alice, journeys):
    reader, text = pdf_text(report(alice, "report-pdf"))
    sql = sql_totals(alice, purposes=BUSINESS)
    assert (sql.journeys, sql.km, sql.tickets) == (4, 495.3, Decimal("101.79"))
    lines = text.split("\n")
    total = lines.index("Total")
    assert lines[total + 1 : total + 5] == [
        str(sql.journeys),
        f"{sql.km:,.1f}",
        f"{sql.hours:,.1f}",
        f"{sql.tickets:,.2f} EUR",
    ]
    assert "Business-trip report" in text
    assert "Alice (alice), alice@example.org" in text
    assert "1 Mar 2025 – 30 Apr 2025" in text
    assert "Late ride home" not in text and "Inwood-207 St" not in text  # private
    assert "KST-4711" in text and "Projekt Süd" in text
    assert "Date, signature (traveller: Alice)" in text
    assert "Date, signature (approver)" in text
    assert f"page 1 of {len(reader.pages)}" in text
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # A4 landscape


def test_the_report_groups_by_month_of_the_ranges_zone_with_subtotals(alice, journeys):
    _, text = pdf_text(report(alice, "report-pdf"))
    lines = text.split("\n")
    # The New York journey of 31 March, 20:00, is on 1 April in Berlin: April's.
    march = lines.index("March 2025: 2 journeys")
    assert lines[march + 1 : march + 4] == ["375.6", "3.5 h", "79.89 EUR"]
    april = lines.index("April 2025: 2 journeys")
    assert lines[april + 1 : april + 4] == ["119.8", "2.3 h", "21.90 EUR"]
    assert "20:00 EDT" in lines  # its own local time, with its zone
    assert "01:17 +1" in lines  # the night train's real arrival, the next day
    # Each figure is rounded on its own (375.579 + 119.766 km = 495.345 km: 495.3 in all).
    assert sql_totals(alice, purposes=BUSINESS).km == 495.3


def test_the_xlsx_report_has_months_subtotals_totals_and_signature_lines(alice, journeys):
    workbook = openpyxl.load_workbook(io.BytesIO(report(alice, "report-xlsx")))
    assert workbook.sheetnames == ["Report", "Summary"]
    sheet = workbook["Report"]
    rows = [row for row in sheet.iter_rows(values_only=True)]
    header = rows.index(
        ("Date", "Line", "Trip", "From", "To", "Departure", "Arrival", "Time zone",
         "Distance (km)", "Duration (h)", "Cost centre", "Ticket price")
    )  # fmt: skip
    assert sheet.freeze_panes == f"A{header + 2}"
    sql = sql_totals(alice, purposes=BUSINESS)
    total = next(row for row in rows if str(row[0]).startswith("Total ("))
    assert total[0] == "Total (4 journeys)"
    assert (total[8], total[9]) == (sql.km, sql.hours)
    assert Decimal(str(total[11])) == sql.tickets
    journeys_rows = [row for row in rows[header + 1 :] if isinstance(row[0], datetime)]
    assert len(journeys_rows) == sql.journeys
    assert sum(round(row[8] * 1000) for row in journeys_rows) == sql.meters
    ice = next(row for row in journeys_rows if row[1] == "ICE 1601")
    assert ice[5] == datetime(2025, 3, 10, 8, 1)  # the real departure
    assert (ice[10], ice[11]) == ("KST-4711", pytest.approx(49.90))
    new_york = next(row for row in journeys_rows if row[1] == "Q")
    assert (new_york[5], new_york[7]) == (datetime(2025, 3, 31, 20, 0), "America/New_York")
    subtotals = [row for row in rows if str(row[0]).startswith("Total ") and row is not total]
    assert [row[0] for row in subtotals] == [
        "Total March 2025 (2 journeys)",
        "Total April 2025 (2 journeys)",
    ]
    assert [cell for row in rows for cell in row if cell and "signature" in str(cell)] == [
        "Date, signature (traveller: Alice)",
        "Date, signature (approver)",
    ]
    summary = list(workbook["Summary"].iter_rows(values_only=True))
    assert summary[0] == (
        "Month",
        "Journeys",
        "Distance (km)",
        "Time in transit (h)",
        "Ticket costs",
    )
    assert [row[0] for row in summary[1:]] == ["March 2025", "April 2025", "Total"]
    assert summary[-1][1:4] == (sql.journeys, sql.km, sql.hours)
    assert sum(row[1] for row in summary[1:-1]) == sql.journeys


def test_the_report_takes_business_journeys_whatever_purpose_was_ticked(alice, journeys):
    workbook = openpyxl.load_workbook(
        io.BytesIO(report(alice, "report-xlsx", purpose=[Purpose.PRIVATE]))
    )
    assert workbook["Summary"]["B4"].value == sql_totals(alice, purposes=BUSINESS).journeys


def test_the_report_keeps_the_mode_filter(alice, journeys):
    workbook = openpyxl.load_workbook(io.BytesIO(report(alice, "report-xlsx", mode=[Mode.SUBWAY])))
    summary = list(workbook["Summary"].iter_rows(values_only=True))
    # Only the New York business subway ride (the other subway ride is private).
    assert summary[1:] == [("April 2025", 1, 21.0, 0.8, 2.9), ("Total", 1, 21.0, 0.8, 2.9)]


def test_a_report_without_business_journeys_says_so(alice, journeys):
    _, text = pdf_text(report(alice, "report-pdf", start="2024-01-01", end="2024-12-31"))
    assert "No business journeys in this period." in text
    assert re.search(r"Total\n0\n0\.0\n0\.0\n0\.00 EUR", text)
    assert "Date, signature (approver)" in text


def test_the_report_says_how_many_journeys_have_no_ticket_price(alice, journeys):
    journeys.april.ticket_price = None
    journeys.april.save()
    _, text = pdf_text(report(alice, "report-pdf"))
    assert "1 journey without a ticket price." in text
