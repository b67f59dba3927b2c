"""PDF through reportlab: A4 landscape, a header with the traveller, the range and the filters,
one table row per journey (the header row repeated on every page), the totals, and "page N of
M" in the footer. The business-trip report (stats.exports.report) uses the same page frame."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import reportlab
from django.conf import settings
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from stats.exports.columns import Cell, Kind, Value, as_text, cells_of, journeys_text
from stats.exports.selectors import ExportSource, ExportTotals

PAGE = landscape(A4)
MARGIN = 14 * mm
WIDTH = PAGE[0] - 2 * MARGIN
INK = colors.HexColor("#1F2933")
MUTED = colors.HexColor("#5F6B7A")
ACCENT = colors.HexColor("#1D4E89")
HEADER_FILL = colors.HexColor("#DDE4EE")
STRIPE = colors.HexColor("#F4F6F9")
RULE = colors.HexColor("#9AA5B4")

# Station names come from feeds all over the world: a TrueType font with wide coverage
# (Debian's DejaVu where installed), else the Bitstream Vera that ships with reportlab.
_FONT_CANDIDATES = (
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"),
    ),
    (
        Path(reportlab.__file__).parent / "fonts" / "Vera.ttf",
        Path(reportlab.__file__).parent / "fonts" / "VeraBd.ttf",
    ),
)
REGULAR, BOLD = "TrainySans", "TrainySans-Bold"
_fonts_lock = threading.Lock()
_fonts_ready = False


def register_fonts() -> None:
    global _fonts_ready
    with _fonts_lock:
        if _fonts_ready:
            return
        for regular, bold in _FONT_CANDIDATES:
            if regular.exists() and bold.exists():
                pdfmetrics.registerFont(TTFont(REGULAR, str(regular)))
                pdfmetrics.registerFont(TTFont(BOLD, str(bold)))
                pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD)
                _fonts_ready = True
                return
        raise RuntimeError("no TrueType font found for PDF exports")


@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    subtitle: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_right: ParagraphStyle
    cell_bold: ParagraphStyle


def styles() -> Styles:
    register_fonts()
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=9, leading=12, textColor=INK)
    cell = ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9)
    return Styles(
        title=ParagraphStyle(
            "title", parent=body, fontName=BOLD, fontSize=18, leading=22, textColor=ACCENT
        ),
        subtitle=ParagraphStyle("subtitle", parent=body, fontSize=10, leading=13, textColor=MUTED),
        heading=ParagraphStyle(
            "heading",
            parent=body,
            fontName=BOLD,
            fontSize=12,
            leading=16,
            spaceBefore=8,
            spaceAfter=4,
            textColor=ACCENT,
        ),
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5, textColor=MUTED),
        cell=cell,
        cell_right=ParagraphStyle("cell_right", parent=cell, alignment=TA_RIGHT),
        cell_bold=ParagraphStyle("cell_bold", parent=cell, fontName=BOLD),
    )


def escape(text: str) -> str:
    """Text for a Paragraph, which reads a small markup language."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def numbered_canvas(footer: str) -> type[canvas.Canvas]:
    """A canvas that knows the page count when it writes the footers: pages are kept until
    the document is saved, then each gets "page N of M"."""

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]

        def save(self) -> None:
            total = len(self._pages)
            for page in self._pages:
                self.__dict__.update(page)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, MARGIN - 4 * mm, PAGE[0] - MARGIN, MARGIN - 4 * mm)
            self.setFont(REGULAR, 7.5)
            self.setFillColor(MUTED)
            self.drawString(MARGIN, MARGIN - 8 * mm, footer)
            self.drawRightString(
                PAGE[0] - MARGIN, MARGIN - 8 * mm, f"page {self.getPageNumber()} of {total}"
            )
            self.restoreState()

    return NumberedCanvas


def running_header(text: str) -> Callable[[canvas.Canvas, Any], None]:
    """What pages after the first show at the top: whose journeys, which range."""

    def draw(page: canvas.Canvas, document: Any) -> None:
        page.saveState()
        page.setFont(REGULAR, 7.5)
        page.setFillColor(MUTED)
        page.drawString(MARGIN, PAGE[1] - MARGIN + 4 * mm, text)
        page.restoreState()

    return draw


def build(
    out: IO[bytes],
    story: list[Flowable],
    *,
    title: str,
    author: str,
    header: str,
    footer: str,
) -> None:
    document = SimpleDocTemplate(
        out,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 2 * mm,
        bottomMargin=MARGIN + 2 * mm,
        title=title,
        author=author,
        creator=settings.TRAINY_SITE_NAME,
        subject=header,
    )
    document.build(
        story,
        onLaterPages=running_header(header),
        canvasmaker=numbered_canvas(footer),
    )


def facts_table(rows: Sequence[tuple[str, str]], style: Styles) -> Table:
    """The block under the title: label, value."""
    label = ParagraphStyle("label", parent=style.body, fontName=BOLD, textColor=MUTED)
    table = Table(
        [
            [Paragraph(escape(name), label), Paragraph(escape(value), style.body)]
            for name, value in rows
        ],
        colWidths=[38 * mm, WIDTH - 38 * mm],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


def grid_style(*, header_rows: int = 1, totals_rows: int = 0) -> list[tuple[Any, ...]]:
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("LEADING", (0, 0), (-1, -1), 9),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("FONTNAME", (0, 0), (-1, header_rows - 1), BOLD),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEADER_FILL),
        ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.75, ACCENT),
        ("ROWBACKGROUNDS", (0, header_rows), (-1, -1 - totals_rows), [colors.white, STRIPE]),
        ("LINEBELOW", (0, -1), (-1, -1), 0.5, RULE),
    ]
    if totals_rows:
        commands += [
            ("FONTNAME", (0, -totals_rows), (-1, -1), BOLD),
            ("LINEABOVE", (0, -totals_rows), (-1, -totals_rows), 0.75, ACCENT),
            ("BACKGROUND", (0, -totals_rows), (-1, -1), HEADER_FILL),
        ]
    return commands


def fitted(text: str, width: float, style: ParagraphStyle) -> str | Paragraph:
    """Plain text when it fits the column (cheap), a wrapping Paragraph when it does not."""
    if pdfmetrics.stringWidth(text, style.fontName, style.fontSize) <= width - 6:
        return text
    return Paragraph(escape(text), style)


def widths_for(weights: Sequence[float], total: float = WIDTH) -> list[float]:
    scale = total / sum(weights)
    return [weight * scale for weight in weights]


def totals_line(totals: ExportTotals) -> str:
    currency = settings.TRAINY_CURRENCY
    parts = [
        journeys_text(totals.journeys),
        f"{totals.distance_km:,.1f} km",
        f"{totals.hours:,.1f} h in transit",
        f"{totals.ticket_price:,.2f} {currency} in tickets",
    ]
    return "Total: " + " · ".join(parts)


SHORT_MOMENT = "23:59 +1"
PADDING = 6.5  # the cells' left and right padding, and a little
# Caps on what one text column asks for (points): a long message wraps.
MAX_WORD = 80
MAX_TEXT = 180


def column_widths(
    cells: Sequence[Cell], texts: Sequence[Sequence[str]], size: float
) -> list[float]:
    """Widths like a browser's automatic table layout: values that must not wrap (times,
    numbers) get their widest sample; text columns get what their longest value needs when
    the page has room, else at least their longest word and a share of what is left by how
    much more they would need. Scaled down to the page when even that is too wide.

    ``texts`` holds the text of each row, column by column.
    """
    first_time = next((i for i, cell in enumerate(cells) if cell.kind is Kind.DATETIME), None)
    fixed: dict[int, float] = {}
    least: dict[int, float] = {}
    most: dict[int, float] = {}
    for index, cell in enumerate(cells):
        word = max(pdfmetrics.stringWidth(w, BOLD, size) for w in cell.header.split())
        sample = cell.sample
        if cell.kind is Kind.DATETIME and index != first_time:
            sample = SHORT_MOMENT
        elif cell.header == "Time zone":
            sample = ""  # the place's name only, see pdf_text
        if cell.kind is not Kind.TEXT or sample:
            fixed[index] = max(word, pdfmetrics.stringWidth(sample, REGULAR, size)) + PADDING
            continue
        longest_value = longest_word = 0.0
        for row in texts:
            text = row[index]
            if text:
                longest_value = max(longest_value, pdfmetrics.stringWidth(text, REGULAR, size))
                longest = max(text.split(), key=len, default="")
                longest_word = max(longest_word, pdfmetrics.stringWidth(longest, REGULAR, size))
        least[index] = min(max(word, longest_word), MAX_WORD) + PADDING
        most[index] = max(least[index], min(longest_value, MAX_TEXT) + PADDING)
    spare = WIDTH - sum(fixed.values())
    widths = dict(fixed)
    if sum(most.values()) <= spare:
        extra = spare - sum(most.values())
        for index, need in most.items():
            widths[index] = need + extra * need / sum(most.values())
    else:
        room = max(spare - sum(least.values()), 0)
        wanted = sum(most[i] - least[i] for i in most) or 1
        for index in most:
            widths[index] = least[index] + room * (most[index] - least[index]) / wanted
    return widths_for([widths[index] for index in range(len(cells))])


def pdf_text(cell: Cell, value: Value, *, day: date | None = None) -> str:
    """Times as the journey's wall clock (the zone is in its own column): in full the first
    time of a row, then the time alone, with "+1" when it is on the next day."""
    if value is None:
        return ""
    if cell.kind is Kind.DATETIME:
        assert isinstance(value, datetime)
        if day is None:
            return value.strftime("%Y-%m-%d %H:%M")
        offset = (value.date() - day).days
        return f"{value:%H:%M}" + (f" {offset:+d}" if offset else "")
    if cell.kind is Kind.NUMBER and cell.header.startswith("Distance"):
        return f"{value:,.1f}"
    if cell.header == "Time zone":
        # The place is enough on paper (America/New_York: New York) and fits a column.
        return str(value).rsplit("/", 1)[-1].replace("_", " ")
    return as_text(cell, value)


def pdf_write(source: ExportSource, out: IO[bytes]) -> None:
    """Write the export as a PDF to ``out``."""
    style = styles()
    cells = cells_of(source.options.columns)
    totals = source.totals()
    owner = source.owner
    criteria = source.criteria
    font_size = 7.5 if len(cells) <= 18 else 6.5
    numeric = {Kind.INTEGER, Kind.NUMBER, Kind.MONEY}
    right = [index for index, cell in enumerate(cells) if cell.kind in numeric]

    cell_style = ParagraphStyle(
        "row", parent=style.cell, fontSize=font_size, leading=font_size + 1.5
    )
    header_style = ParagraphStyle("head", parent=cell_style, fontName=BOLD)
    texts: list[list[str]] = []
    for journey in source.journeys():
        row: list[str] = []
        day: date | None = None
        for cell in cells:
            value = cell.read(journey)
            row.append(pdf_text(cell, value, day=day))
            if cell.kind is Kind.DATETIME and day is None and isinstance(value, datetime):
                day = value.date()
        texts.append(row)
    widths = column_widths(cells, texts, font_size)
    wraps = [cell.kind is Kind.TEXT for cell in cells]
    rows: list[list[Any]] = [[Paragraph(escape(cell.header), header_style) for cell in cells]]
    rows += [
        [
            fitted(text, width, cell_style) if wrap else text
            for text, width, wrap in zip(row, widths, wraps, strict=True)
        ]
        for row in texts
    ]

    table = Table(rows, colWidths=widths, repeatRows=1)
    commands = grid_style()
    commands += [("ALIGN", (index, 0), (index, -1), "RIGHT") for index in right]
    commands += [
        ("FONTSIZE", (0, 0), (-1, -1), font_size),
        ("LEADING", (0, 0), (-1, -1), font_size + 1.5),
    ]
    table.setStyle(TableStyle(commands))

    span = criteria.describe()
    story: list[Flowable] = [
        Paragraph("Journeys", style.title),
        Spacer(0, 2 * mm),
        facts_table(
            [
                ("Traveller", f"{owner.name} ({owner.username})"),
                ("Range and filters", span),
                ("Times", "local time of each journey; the range in " + criteria.zone.key),
                ("Exported", f"{timezone.localtime():%Y-%m-%d %H:%M}"),
            ],
            style,
        ),
        Spacer(0, 4 * mm),
        table if totals.journeys else Paragraph("No journeys in this range.", style.body),
        Spacer(0, 3 * mm),
        Paragraph(escape(totals_line(totals)), style.heading),
    ]
    build(
        out,
        story,
        title=f"Journeys of {owner.name}",
        author=owner.name,
        header=f"Journeys of {owner.name} · {span}",
        footer=f"{settings.TRAINY_SITE_NAME} · journeys of {owner.name} · {span}",
    )
