"""XLSX through openpyxl's write-only mode: rows go to a temporary file as they are written, so
memory does not grow with the export. Cells are typed (numbers, dates with times, amounts of
money), the header is frozen and filterable, and a totals row and a summary sheet carry the
statistics page's figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import Cell as SheetCell
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from stats.exports.columns import Cell, Kind, Value, cells_of, journeys_text
from stats.exports.selectors import ExportSource, ExportTotals

BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
TOTAL_FILL = PatternFill("solid", fgColor="EEF1F5")
RULE = Border(bottom=Side(style="thin", color="7A8699"))
TOP_RULE = Border(top=Side(style="thin", color="7A8699"))
WRAP = Alignment(wrap_text=True, vertical="top")
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
KM_FORMAT = "#,##0.0"
HOURS_FORMAT = "#,##0.0"


def money_format() -> str:
    return f'#,##0.00 "{settings.TRAINY_CURRENCY}"'


def number_format(cell: Cell) -> str | None:
    if cell.kind is Kind.DATETIME:
        return DATETIME_FORMAT
    if cell.kind is Kind.MONEY:
        return money_format()
    if cell.kind is Kind.NUMBER:
        return "0." + "0" * cell.places if cell.places else "0"
    return None


def styled(
    sheet: WriteOnlyWorksheet,
    value: Any,
    *,
    font: Font | None = None,
    fill: PatternFill | None = None,
    border: Border | None = None,
    number_format: str | None = None,
    alignment: Alignment | None = None,
) -> SheetCell:
    cell = WriteOnlyCell(sheet, value=spreadsheet_value(value))
    if isinstance(value, str):
        # Text is text: openpyxl would store "=…" (a message, a station) as a formula.
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if border is not None:
        cell.border = border
    if number_format is not None:
        cell.number_format = number_format
    if alignment is not None:
        cell.alignment = alignment
    return cell


def spreadsheet_value(value: Any) -> Any:
    """Spreadsheets know no time zones: a time is written as the wall-clock time it was where
    the journey was (the time zone column says which zone)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def set_widths(sheet: WriteOnlyWorksheet, widths: Sequence[float]) -> None:
    # Column widths must be set before the first row is written.
    dimensions = sheet.column_dimensions  # type: ignore[attr-defined]
    for index, width in enumerate(widths, start=1):
        dimensions[get_column_letter(index)].width = width


def summary_rows(source: ExportSource, totals: ExportTotals) -> list[tuple[str, Any, str | None]]:
    """Label, value and number format of the summary: who, what, and the totals."""
    criteria = source.criteria
    return [
        ("Traveller", f"{source.owner.name} ({source.owner.username})", None),
        ("Range", criteria.describe(), None),
        ("Times", "in each journey's own time zone (column “Time zone”)", None),
        ("Months and range", f"in {criteria.zone.key}", None),
        ("Exported", timezone.localtime().replace(tzinfo=None, microsecond=0), DATETIME_FORMAT),
        ("Journeys", totals.journeys, "0"),
        ("Distance (km)", totals.distance_km, KM_FORMAT),
        ("Time in transit (h)", totals.hours, HOURS_FORMAT),
        ("Ticket costs", totals.ticket_price, money_format()),
        ("Journeys without a ticket price", totals.journeys - totals.priced, "0"),
    ]


def write_summary(workbook: Workbook, source: ExportSource, totals: ExportTotals) -> None:
    sheet = workbook.create_sheet("Summary")
    set_widths(sheet, [30, 60])
    sheet.append([styled(sheet, "Trainy export", font=TITLE)])
    sheet.append([])
    for label, value, fmt in summary_rows(source, totals):
        sheet.append([styled(sheet, label, font=BOLD), styled(sheet, value, number_format=fmt)])


def xlsx_write(source: ExportSource, out: IO[bytes]) -> None:
    """Write the export as an XLSX workbook to ``out``: sheet "Journeys" (one row per journey
    and a totals row) and sheet "Summary"."""
    cells = cells_of(source.options.columns)
    totals = source.totals()
    formats = [number_format(cell) for cell in cells]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Journeys")
    set_widths(sheet, [max(cell.width, len(cell.header) + 2) for cell in cells])
    sheet.freeze_panes = "A2"
    last_column = get_column_letter(len(cells))
    sheet.auto_filter.ref = f"A1:{last_column}{totals.journeys + 1}"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.append(
        [
            styled(sheet, cell.header, font=BOLD, fill=HEADER_FILL, border=RULE, alignment=WRAP)
            for cell in cells
        ]
    )
    for journey in source.journeys():
        sheet.append(
            [
                _data_cell(sheet, cell.read(journey), fmt)
                for cell, fmt in zip(cells, formats, strict=True)
            ]
        )
    sheet.append(_totals_row(sheet, cells, totals))
    write_summary(workbook, source, totals)
    workbook.save(out)


def _data_cell(sheet: WriteOnlyWorksheet, value: Value, fmt: str | None) -> Any:
    # Plain values are much cheaper than styled cells; most cells need no style.
    if fmt is None and not (isinstance(value, str) and value.startswith("=")):
        return value
    return styled(sheet, value, number_format=fmt)


def _totals_row(
    sheet: WriteOnlyWorksheet, cells: Sequence[Cell], totals: ExportTotals
) -> list[SheetCell]:
    """The totals under their columns: the statistics page's km (0.1), the exact minutes, the
    tickets' sum; the first cell says how many journeys."""
    by_header: dict[str, tuple[Any, str | None]] = {
        "Distance (km)": (totals.distance_km, KM_FORMAT),
        "Duration (min)": (totals.duration_s / 60, "0"),
        "Ticket price": (totals.ticket_price, money_format()),
    }
    row = []
    for position, cell in enumerate(cells):
        value, fmt = by_header.get(cell.header, (None, None))
        if position == 0 and value is None:
            value = f"Total: {journeys_text(totals.journeys)}"
        row.append(
            styled(sheet, value, font=BOLD, fill=TOTAL_FILL, border=TOP_RULE, number_format=fmt)
        )
    return row
