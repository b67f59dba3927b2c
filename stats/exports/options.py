"""What an export is asked for, in a form that survives the trip through the broker and the
Export row (JSON), and the formats there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from checkins.selectors import JourneyFilter
from stats.exports.columns import BY_KEY, DEFAULT_COLUMNS


@dataclass(frozen=True)
class Format:
    label: str
    extension: str
    content_type: str
    # Written row by row as it is read (CSV, JSON, GPX, GeoJSON); the others are built whole.
    streams: bool = False
    # The business-trip report: business journeys only, its own layout (no column choice).
    report: bool = False


FORMATS: dict[str, Format] = {
    "csv": Format("CSV (spreadsheets, any program)", "csv", "text/csv; charset=utf-8", True),
    "xlsx": Format(
        "Excel workbook (XLSX)",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "pdf": Format("PDF (A4 landscape, to print)", "pdf", "application/pdf"),
    "json": Format("JSON (everything, for programs)", "json", "application/json", True),
    "gpx": Format("GPX (routes, for map programs)", "gpx", "application/gpx+xml", True),
    "geojson": Format("GeoJSON (routes with properties)", "geojson", "application/geo+json", True),
    "report-pdf": Format("Business-trip report (PDF)", "pdf", "application/pdf", report=True),
    "report-xlsx": Format(
        "Business-trip report (XLSX)",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        report=True,
    ),
}

# The Trainy archive (stats.exports.archive): made by the exports' task, not a choice of the
# export form.
ARCHIVE = "archive"
ARCHIVE_FORMAT = Format("Trainy archive: all your data (ZIP)", "zip", "application/zip")


def format_named(name: str) -> Format | None:
    return ARCHIVE_FORMAT if name == ARCHIVE else FORMATS.get(name)


SEPARATORS = {
    ",": "Comma, decimal point (most programs)",
    ";": "Semicolon, decimal comma (German Excel)",
}


@dataclass(frozen=True)
class ExportOptions:
    format: str
    criteria: JourneyFilter
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    separator: str = ","
    # The form's choice ("this-year"…), kept to describe the export; the dates decide.
    period: str = "custom"

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown export format {self.format!r}")
        unknown = [key for key in self.columns if key not in BY_KEY]
        if unknown:
            raise ValueError(f"unknown export columns {unknown!r}")
        if self.separator not in SEPARATORS:
            raise ValueError(f"unknown CSV separator {self.separator!r}")

    @property
    def kind(self) -> Format:
        return FORMATS[self.format]

    def to_json(self) -> dict[str, Any]:
        criteria = self.criteria
        return {
            "format": self.format,
            "period": self.period,
            "start": criteria.start.isoformat() if criteria.start else None,
            "end": criteria.end.isoformat() if criteria.end else None,
            "purposes": list(criteria.purposes),
            "modes": list(criteria.modes),
            "time_zone": criteria.zone.key,
            "columns": list(self.columns),
            "separator": self.separator,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExportOptions:
        criteria = JourneyFilter(
            start=date.fromisoformat(data["start"]) if data.get("start") else None,
            end=date.fromisoformat(data["end"]) if data.get("end") else None,
            purposes=tuple(data.get("purposes") or ()),
            modes=tuple(data.get("modes") or ()),
            zone=ZoneInfo(data["time_zone"]),
        )
        return cls(
            format=data["format"],
            criteria=criteria,
            columns=tuple(data.get("columns") or DEFAULT_COLUMNS),
            separator=data.get("separator") or ",",
            period=data.get("period") or "custom",
        )

    def filename(self, username: str) -> str:
        """e.g. trainy-alice-2025-01-01-to-2025-12-31.csv, trainy-alice-business-report-….pdf"""
        start, end = self.criteria.start, self.criteria.end
        if start and end:
            span = f"{start.isoformat()}-to-{end.isoformat()}"
        elif start or end:
            span = f"from-{start.isoformat()}" if start else f"until-{end.isoformat()}"  # type: ignore[union-attr]
        else:
            span = "all-time"
        what = "business-report-" if self.kind.report else ""
        return f"trainy-{username}-{what}{span}.{self.kind.extension}"
