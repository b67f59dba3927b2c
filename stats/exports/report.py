"""The business-trip report: a traveller's business journeys in a range, grouped by month, with
totals per month and overall (journeys, km, hours, ticket costs), the cost centre of each
journey and lines for the traveller's and the approver's signatures. What a traveller hands to
accounting, as PDF or XLSX.

Months are those of the range's zone (the one the range's days are in, so "last month" is one
month); each journey's times are its own local times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from checkins.models import CheckIn, Mode
from stats.exports import pdf, xlsx
from stats.exports.columns import journey_zone, journeys_text
from stats.exports.selectors import ExportSource, ExportTotals


@dataclass(frozen=True)
class ReportLine:
    journey_id: int
    day: date  # the departure's local date
    line: str
    trip: str
    origin: str
    destination: str
    departure: datetime  # local, aware; the real time when known
    arrival: datetime
    time_zone: str
    distance_m: int | None
    duration_s: int | None
    cost_centre: str
    ticket_price: Decimal | None

    @property
    def distance_km(self) -> float | None:
        return None if self.distance_m is None else self.distance_m / 1000

    @property
    def hours(self) -> float | None:
        return None if self.duration_s is None else self.duration_s / 3600


@dataclass
class ReportMonth:
    month: date  # its first day
    lines: list[ReportLine] = field(default_factory=list)
    distance_m: int = 0
    duration_s: int = 0
    ticket_price: Decimal = Decimal("0.00")

    def add(self, line: ReportLine) -> None:
        self.lines.append(line)
        self.distance_m += line.distance_m or 0
        self.duration_s += line.duration_s or 0
        self.ticket_price += line.ticket_price or Decimal("0.00")

    @property
    def label(self) -> str:
        return f"{self.month:%B %Y}"

    @property
    def journeys(self) -> int:
        return len(self.lines)

    # Rounded as the statistics page rounds.
    @property
    def distance_km(self) -> float:
        return round(self.distance_m / 1000, 1)

    @property
    def hours(self) -> float:
        return round(self.duration_s / 3600, 1)


@dataclass(frozen=True)
class BusinessReport:
    traveller: str
    username: str
    email: str
    range: str
    modes: str
    zone: str
    months: list[ReportMonth]
    totals: ExportTotals
    currency: str
    prepared: datetime


def _line(journey: CheckIn) -> ReportLine:
    zone = journey_zone(journey)
    return ReportLine(
        journey_id=journey.id,
        day=journey.departure_planned.astimezone(zone).date(),
        line=journey.line_name,
        trip=journey.trip_id,
        origin=journey.origin_name,
        destination=journey.destination_name,
        departure=(journey.departure_real or journey.departure_planned).astimezone(zone),
        arrival=(journey.arrival_real or journey.arrival_planned).astimezone(zone),
        time_zone=zone.key,
        distance_m=journey.distance_m,
        duration_s=journey.duration_s,
        cost_centre=journey.cost_centre,
        ticket_price=journey.ticket_price,
    )


def business_report(source: ExportSource) -> BusinessReport:
    """The report's content. The overall totals are the statistics page's (one SQL aggregate
    over the same filter); the months add up the same integers, so they agree with it."""
    criteria = source.criteria
    months: dict[date, ReportMonth] = {}
    for journey in source.journeys():
        first = journey.departure_planned.astimezone(criteria.zone).date().replace(day=1)
        months.setdefault(first, ReportMonth(first)).add(_line(journey))
    labels = dict(Mode.choices)
    owner = source.owner
    return BusinessReport(
        traveller=owner.name,
        username=owner.username,
        email=owner.email,
        range=criteria.describe().split(" · ")[0],
        modes=", ".join(labels.get(m, m) for m in criteria.modes) or "all",
        zone=criteria.zone.key,
        months=sorted(months.values(), key=lambda month: month.month),
        totals=source.totals(),
        currency=settings.TRAINY_CURRENCY,
        prepared=timezone.localtime(),
    )


def report_facts(report: BusinessReport) -> list[tuple[str, str]]:
    """The lines under the title: who, when, what."""
    return [
        (
            "Traveller",
            f"{report.traveller} ({report.username})"
            + (f", {report.email}" if report.email else ""),
        ),
        ("Period", report.range),
        ("Journeys", f"business journeys; modes: {report.modes}"),
        ("Amounts", f"in {report.currency}"),
        (
            "Times",
            "local time of each journey (real times where reported, else planned); "
            f"months in {report.zone}",
        ),
    ]


def _money(amount: Decimal | None, currency: str) -> str:
    return "" if amount is None else f"{amount:,.2f} {currency}"


def _hm(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


# --- PDF ---------------------------------------------------------------------------------------

DETAIL_HEADERS = (
    "Date", "Line", "Trip", "From", "To", "Departure", "Arrival", "km", "h:mm", "Cost centre",
    "Ticket",
)  # fmt: skip
DETAIL_WEIGHTS = (17, 15, 14, 38, 38, 13, 13, 11, 10, 22, 16)
SUMMARY_HEADERS = ("Month", "Journeys", "Distance (km)", "Time in transit (h)", "Ticket costs")


def report_pdf_write(source: ExportSource, out: IO[bytes]) -> None:
    """Write the business-trip report as a PDF to ``out``."""
    report = business_report(source)
    style = pdf.styles()
    currency = report.currency
    totals = report.totals
    story: list[Flowable] = [
        Paragraph("Business-trip report", style.title),
        Spacer(0, 2 * mm),
        pdf.facts_table(
            [*report_facts(report), ("Prepared", f"{report.prepared:%Y-%m-%d %H:%M}")], style
        ),
        Spacer(0, 5 * mm),
        Paragraph("Summary", style.heading),
        _summary_table(report, style),
    ]
    if totals.journeys and totals.priced < totals.journeys:
        missing = totals.journeys - totals.priced
        story.append(Spacer(0, 1.5 * mm))
        story.append(
            Paragraph(
                f"{journeys_text(missing)} without a ticket price.",
                style.small,
            )
        )
    for month in report.months:
        story.append(CondPageBreak(40 * mm))
        story.append(Paragraph(pdf.escape(month.label), style.heading))
        story.append(_month_table(month, style, currency, report.zone))
    if not report.months:
        story.append(Spacer(0, 4 * mm))
        story.append(Paragraph("No business journeys in this period.", style.body))
    story.append(Spacer(0, 6 * mm))
    story.append(KeepTogether(_signatures(report, style)))
    pdf.build(
        out,
        story,
        title=f"Business-trip report: {report.traveller}, {report.range}",
        author=report.traveller,
        header=f"Business-trip report · {report.traveller} · {report.range}",
        footer=(
            f"{settings.TRAINY_SITE_NAME} · business-trip report · {report.traveller}"
            f" · {report.range}"
        ),
    )


def _summary_table(report: BusinessReport, style: pdf.Styles) -> Table:
    currency = report.currency
    rows: list[list[Any]] = [list(SUMMARY_HEADERS)]
    for month in report.months:
        rows.append(
            [
                month.label,
                f"{month.journeys:,}",
                f"{month.distance_km:,.1f}",
                f"{month.hours:,.1f}",
                _money(month.ticket_price, currency),
            ]
        )
    totals = report.totals
    rows.append(
        [
            "Total",
            f"{totals.journeys:,}",
            f"{totals.distance_km:,.1f}",
            f"{totals.hours:,.1f}",
            _money(totals.ticket_price, currency),
        ]
    )
    widths = pdf.widths_for((40, 20, 25, 30, 30), total=pdf.WIDTH * 0.7)
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    commands = pdf.grid_style(totals_rows=1)
    commands += [("FONTSIZE", (0, 0), (-1, -1), 8.5), ("LEADING", (0, 0), (-1, -1), 11)]
    commands.append(("ALIGN", (1, 0), (-1, -1), "RIGHT"))
    table.setStyle(TableStyle(commands))
    return table


def _month_table(month: ReportMonth, style: pdf.Styles, currency: str, zone_key: str) -> Table:
    """The month's journeys; a journey in another zone than the report's names its zone."""
    widths = pdf.widths_for(DETAIL_WEIGHTS)
    rows: list[list[Any]] = [list(DETAIL_HEADERS)]
    for line in month.lines:
        departure_day = line.departure.date()
        arrival = f"{line.arrival:%H:%M}"
        if line.arrival.date() != departure_day:
            arrival += f" +{(line.arrival.date() - departure_day).days}"
        # Another zone than the report's: its abbreviation (EDT) beside the times.
        zone = "" if line.time_zone == zone_key else f" {line.departure:%Z}"
        rows.append(
            [
                f"{line.day:%Y-%m-%d}",
                pdf.fitted(line.line, widths[1], style.cell),
                pdf.fitted(line.trip, widths[2], style.cell),
                pdf.fitted(line.origin, widths[3], style.cell),
                pdf.fitted(line.destination, widths[4], style.cell),
                pdf.fitted(f"{line.departure:%H:%M}{zone}", widths[5], style.cell),
                arrival,
                "" if line.distance_km is None else f"{line.distance_km:,.1f}",
                _hm(line.duration_s),
                pdf.fitted(line.cost_centre, widths[9], style.cell),
                _money(line.ticket_price, currency),
            ]
        )
    rows.append(
        [
            f"{month.label}: {journeys_text(month.journeys)}",
            "", "", "", "", "", "",
            f"{month.distance_km:,.1f}",
            f"{month.hours:,.1f} h",
            "",
            _money(month.ticket_price, currency),
        ]
    )  # fmt: skip
    table = Table(rows, colWidths=widths, repeatRows=1)
    commands = pdf.grid_style(totals_rows=1)
    commands += [
        ("SPAN", (0, -1), (6, -1)),
        ("ALIGN", (7, 0), (8, -1), "RIGHT"),
        ("ALIGN", (10, 0), (10, -1), "RIGHT"),
    ]
    table.setStyle(TableStyle(commands))
    return table


def _signatures(report: BusinessReport, style: pdf.Styles) -> list[Flowable]:
    gap = 20 * mm
    half = (pdf.WIDTH - gap) / 2
    line_row = ["", "", ""]
    table = Table(
        [
            [
                Paragraph(
                    "I confirm that these journeys were made on business and that the "
                    "figures above are correct.",
                    style.body,
                ),
                "",
                "",
            ],
            ["", "", ""],
            line_row,
            [
                Paragraph(
                    f"Date, signature (traveller: {pdf.escape(report.traveller)})", style.small
                ),
                "",
                Paragraph("Date, signature (approver)", style.small),
            ],
        ],
        colWidths=[half, gap, half],
        rowHeights=[None, 12 * mm, 1, None],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("SPAN", (0, 0), (-1, 0)),
                ("LINEABOVE", (0, 2), (0, 2), 0.75, pdf.INK),
                ("LINEABOVE", (2, 2), (2, 2), 0.75, pdf.INK),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 3), (-1, 3), 2),
            ]
        )
    )
    return [table]


# --- XLSX --------------------------------------------------------------------------------------

XLSX_HEADERS = (
    ("Date", 11), ("Line", 12), ("Trip", 14), ("From", 26), ("To", 26), ("Departure", 17),
    ("Arrival", 17), ("Time zone", 16), ("Distance (km)", 12), ("Duration (h)", 11),
    ("Cost centre", 16), ("Ticket price", 14),
)  # fmt: skip
KM_COLUMN, HOURS_COLUMN, PRICE_COLUMN = 8, 9, 11


def report_xlsx_write(source: ExportSource, out: IO[bytes]) -> None:
    """Write the business-trip report as an XLSX workbook to ``out``: sheet "Report" (the
    journeys by month with subtotals, the total and the signature lines) and sheet "Summary"
    (one row per month and the total)."""
    report = business_report(source)
    money = xlsx.money_format()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Report")
    xlsx.set_widths(sheet, [width for _, width in XLSX_HEADERS])
    facts: list[tuple[str, Any]] = [
        *report_facts(report),
        ("Prepared", report.prepared.replace(tzinfo=None, microsecond=0)),
    ]
    header_row = len(facts) + 3
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

    sheet.append([xlsx.styled(sheet, "Business-trip report", font=xlsx.TITLE)])
    sheet.append([])
    for label, value in facts:
        fmt = xlsx.DATETIME_FORMAT if isinstance(value, datetime) else None
        sheet.append(
            [
                xlsx.styled(sheet, label, font=xlsx.BOLD),
                xlsx.styled(sheet, value, number_format=fmt),
            ]
        )
    sheet.append(
        [
            xlsx.styled(sheet, name, font=xlsx.BOLD, fill=xlsx.HEADER_FILL, border=xlsx.RULE)
            for name, _ in XLSX_HEADERS
        ]
    )
    for month in report.months:
        sheet.append([xlsx.styled(sheet, month.label, font=xlsx.BOLD)])
        for line in month.lines:
            sheet.append(
                [
                    xlsx.styled(sheet, line.day, number_format=xlsx.DATE_FORMAT),
                    xlsx.styled(sheet, line.line),
                    xlsx.styled(sheet, line.trip or None),
                    xlsx.styled(sheet, line.origin),
                    xlsx.styled(sheet, line.destination),
                    xlsx.styled(sheet, line.departure, number_format=xlsx.DATETIME_FORMAT),
                    xlsx.styled(sheet, line.arrival, number_format=xlsx.DATETIME_FORMAT),
                    xlsx.styled(sheet, line.time_zone),
                    xlsx.styled(sheet, line.distance_km, number_format="0.0"),
                    xlsx.styled(sheet, line.hours, number_format="0.00"),
                    xlsx.styled(sheet, line.cost_centre or None),
                    xlsx.styled(sheet, line.ticket_price, number_format=money),
                ]
            )
        sheet.append(
            _total_cells(
                sheet,
                f"Total {month.label} ({journeys_text(month.journeys)})",
                month.distance_km,
                month.hours,
                month.ticket_price,
            )
        )
    totals = report.totals
    sheet.append([])
    sheet.append(
        _total_cells(
            sheet,
            f"Total ({journeys_text(totals.journeys)})",
            totals.distance_km,
            totals.hours,
            totals.ticket_price,
        )
    )
    for _ in range(4):
        sheet.append([])
    signature_line = [xlsx.styled(sheet, None, border=xlsx.TOP_RULE) for _ in range(4)]
    sheet.append([*signature_line, None, None, *signature_line])
    sheet.append(
        [
            xlsx.styled(sheet, f"Date, signature (traveller: {report.traveller})"),
            None, None, None, None, None,
            xlsx.styled(sheet, "Date, signature (approver)"),
        ]
    )  # fmt: skip

    summary = workbook.create_sheet("Summary")
    xlsx.set_widths(summary, [20, 11, 14, 18, 16])
    summary.freeze_panes = "A2"
    summary.append(
        [
            xlsx.styled(summary, name, font=xlsx.BOLD, fill=xlsx.HEADER_FILL, border=xlsx.RULE)
            for name in SUMMARY_HEADERS
        ]
    )
    for month in report.months:
        summary.append(
            [
                xlsx.styled(summary, month.label),
                month.journeys,
                xlsx.styled(summary, month.distance_km, number_format=xlsx.KM_FORMAT),
                xlsx.styled(summary, month.hours, number_format=xlsx.HOURS_FORMAT),
                xlsx.styled(summary, month.ticket_price, number_format=money),
            ]
        )
    summary.append(
        [
            xlsx.styled(
                summary, "Total", font=xlsx.BOLD, fill=xlsx.TOTAL_FILL, border=xlsx.TOP_RULE
            ),
            *(
                xlsx.styled(
                    summary, value, font=xlsx.BOLD, fill=xlsx.TOTAL_FILL, border=xlsx.TOP_RULE,
                    number_format=fmt,
                )
                for value, fmt in (
                    (totals.journeys, "0"),
                    (totals.distance_km, xlsx.KM_FORMAT),
                    (totals.hours, xlsx.HOURS_FORMAT),
                    (totals.ticket_price, money),
                )
            ),
        ]
    )  # fmt: skip
    workbook.save(out)


def _total_cells(sheet: Any, label: str, km: float, hours: float, price: Decimal) -> list[Any]:
    def total(value: Any, fmt: str | None = None) -> Any:
        return xlsx.styled(
            sheet, value, font=xlsx.BOLD, fill=xlsx.TOTAL_FILL, border=xlsx.TOP_RULE,
            number_format=fmt,
        )  # fmt: skip

    cells = [total(None) for _ in XLSX_HEADERS]
    cells[0] = total(label)
    cells[KM_COLUMN] = total(km, xlsx.KM_FORMAT)
    cells[HOURS_COLUMN] = total(hours, xlsx.HOURS_FORMAT)
    cells[PRICE_COLUMN] = total(price, xlsx.money_format())
    return cells
