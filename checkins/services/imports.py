"""Importing a traveller's journeys from another service's export (checkins.imports.formats
reads the files; this decides what becomes a journey, and writes them).

An import is all or nothing: the journeys go in in one transaction, so a file that fails
halfway leaves nothing behind. Importing the same file again adds nothing: each journey keeps
its source and its id there (``import_source``, ``import_source_id``, unique per traveller), and
Träwelling's JSON and CSV, Travelynx's history and account export share their ids. The rules of
a check-in apply where they make sense: impossible times and speeds are refused, row by row
with the reason; a journey overlapping another of the traveller's is imported and reported
(the source had both), never merged.

Imported journeys need no enrichment: their documents are written from what the source had
(stopovers, real times, distance) as soon as the transaction has committed.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from checkins.enrichment import imported_document
from checkins.geo import path_length_m
from checkins.imports.formats import (
    FORMAT_NAMES,
    FormatError,
    ImportedJourney,
    Problem,
    Stopover,
    read_export,
)
from checkins.models import CheckIn, Visibility
from checkins.services.checkins import Place, check_plausible
from trainy.accounts.models import User
from trainy.documents import DocumentStoreError, journey_store
from trainy.generations import FEED, STATS

logger = logging.getLogger(__name__)

# Bounds of one import: a peer's export of years of journeys is a few MB.
MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_IMPORT_JOURNEYS = 50_000
BATCH = 1000


class ImportRefused(Exception):
    """The file as a whole cannot be imported; the message says why."""


@dataclass(frozen=True)
class Overlap:
    number: int  # the row in the file
    other: str  # what it overlaps ("RE 1 Potsdam Hbf → Berlin Hbf, 3 Dec 2026 10:00")


@dataclass
class ImportResult:
    format: str
    dry_run: bool
    new: list[ImportedJourney] = field(default_factory=list)
    duplicates: int = 0
    overlaps: list[Overlap] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    created_ids: list[int] = field(default_factory=list)

    @property
    def format_name(self) -> str:
        return FORMAT_NAMES.get(self.format, self.format)

    def where(self, number: int) -> str:
        """Where row ``number`` is: a line of a CSV file, an entry of a JSON one."""
        return f"{'line' if self.format.endswith('-csv') else 'entry'} {number}"


def journeys_import(
    *, user: User, data: bytes, visibility: str | None = None, dry_run: bool = False
) -> ImportResult:
    """Import the journeys of an export file for ``user`` (or, with ``dry_run``, say what an
    import would do). ``visibility`` is given to journeys whose source has none (the CSV
    files); default: private. Raises ImportRefused for a file that cannot be imported."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRefused(
            f"The file is {len(data) / 2**20:,.1f} MB; an import takes at most "
            f"{MAX_IMPORT_BYTES // 2**20} MB. Export a shorter period and import the parts."
        )
    if visibility is not None and visibility not in Visibility.values:
        raise ImportRefused(f"{visibility!r} is not a visibility: one of {Visibility.values}.")
    try:
        reading = read_export(data, max_journeys=MAX_IMPORT_JOURNEYS)
    except FormatError as error:
        raise ImportRefused(str(error)) from None
    result = ImportResult(format=reading.format, dry_run=dry_run, refused=list(reading.problems))
    result.warnings += _whose(reading.source_users, user)
    known = _imported_before(user, {journey.source_format for journey in reading.journeys})
    for journey in reading.journeys:
        key = (journey.source_format, journey.source_id)
        if key in known:
            result.duplicates += 1
            continue
        try:
            _check(journey)
        except ValidationError as error:
            result.refused.append(Problem(journey.number, _message(error)))
            continue
        known.add(key)
        result.new.append(journey)
    result.refused.sort(key=lambda problem: problem.number)
    result.overlaps = _overlaps(user, result.new)
    if not dry_run and result.new:
        result.created_ids = _write(user, result.new, visibility or Visibility.PRIVATE)
    return result


def _whose(source_users: set[str], user: User) -> list[str]:
    """A warning when the file says it is someone else's export (the names are the source's,
    so only a name unlike the traveller's here is worth a word)."""
    others = sorted(name for name in source_users if name.casefold() != user.username.casefold())
    if not others:
        return []
    return [
        f"This file is the export of {', '.join(others)} there, and you are {user.username} "
        "here: import it only if those journeys are yours."
    ]


def _imported_before(user: User, sources: Iterable[str]) -> set[tuple[str, str]]:
    return set(
        CheckIn.objects.filter(user=user, import_source__in=list(sources)).values_list(
            "import_source", "import_source_id"
        )
    )


def _check(journey: ImportedJourney) -> None:
    """A check-in's rules for times and speed (ValidationError)."""
    check_plausible(
        origin=Place(journey.origin_name, journey.origin_lat, journey.origin_lon),
        destination=Place(
            journey.destination_name, journey.destination_lat, journey.destination_lon
        ),
        departure=journey.departure_planned,
        arrival=journey.arrival_planned,
    )


def _message(error: ValidationError) -> str:
    return " ".join(message for messages in error.message_dict.values() for message in messages)


def _overlaps(user: User, journeys: list[ImportedJourney]) -> list[Overlap]:
    """The new journeys that overlap another journey of the traveller's, already here or in
    the same file: one query for those already here, then a sweep in time order."""
    if not journeys:
        return []
    start = min(journey.departure_planned for journey in journeys)
    end = max(journey.arrival_planned for journey in journeys)
    spans: list[tuple[datetime, datetime, int | None, str]] = [
        (departure, arrival, None, _describe(line, origin, destination, departure))
        for departure, arrival, line, origin, destination in CheckIn.objects.filter(
            user=user, departure_planned__lt=end, arrival_planned__gt=start
        ).values_list(
            "departure_planned", "arrival_planned", "line_name", "origin_name", "destination_name"
        )
    ]
    spans += [
        (j.departure_planned, j.arrival_planned, j.number,
         _describe(j.line_name, j.origin_name, j.destination_name, j.departure_planned))
        for j in journeys
    ]  # fmt: skip
    spans.sort(key=lambda span: (span[0], span[1]))
    starts = [span[0] for span in spans]
    found: dict[int, str] = {}
    for index, (_, arrival, number, _) in enumerate(spans):
        # Every later span that begins before this one ends overlaps it.
        last = bisect.bisect_left(starts, arrival, lo=index + 1)
        for other in spans[index + 1 : last]:
            if other[2] is not None:
                found.setdefault(other[2], spans[index][3])
            if number is not None:
                found.setdefault(number, other[3])
    return [Overlap(number, other) for number, other in sorted(found.items())]


def _describe(line: str, origin: str, destination: str, departure: datetime) -> str:
    local = timezone.localtime(departure)
    return f"{line} {origin} → {destination}, {local:%-d %b %Y %H:%M}".strip()


def _points(journey: ImportedJourney) -> list[tuple[float, float]] | None:
    stops = journey.stopovers if len(journey.stopovers) >= 2 else None
    points = (
        [(stop.lat, stop.lon) for stop in stops]
        if stops
        else [(journey.origin_lat, journey.origin_lon),
              (journey.destination_lat, journey.destination_lon)]
    )  # fmt: skip
    if any(lat is None or lon is None for lat, lon in points):
        return None
    return points  # type: ignore[return-value]


def _row(user: User, journey: ImportedJourney, visibility: str, now: datetime) -> CheckIn:
    points = _points(journey)
    if journey.distance_m:
        distance_m, method = journey.distance_m, "source"
    elif points:
        distance_m, method = round(path_length_m(points)), "stop_to_stop"
    else:
        distance_m, method = None, "unknown"
    return CheckIn(
        user=user,
        mode=journey.mode,
        line_name=journey.line_name or journey.journey_number or "?",
        operator_name=journey.operator_name,
        origin_name=journey.origin_name,
        origin_lat=journey.origin_lat,
        origin_lon=journey.origin_lon,
        destination_name=journey.destination_name,
        destination_lat=journey.destination_lat,
        destination_lon=journey.destination_lon,
        departure_planned=journey.departure_planned,
        arrival_planned=journey.arrival_planned,
        departure_real=journey.departure_real,
        arrival_real=journey.arrival_real,
        message=journey.message,
        visibility=journey.visibility or visibility,
        purpose=journey.purpose,
        time_zone=timezone.get_current_timezone_name(),
        distance_m=distance_m,
        distance_method=method,
        duration_s=int((journey.arrival_planned - journey.departure_planned).total_seconds()),
        enriched_at=now,
        import_source=journey.source_format,
        import_source_id=journey.source_id,
    )


def _stopover(stop: Stopover) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return None if moment is None else moment.isoformat()

    return {
        "name": stop.name,
        "lat": stop.lat,
        "lon": stop.lon,
        "arrival_planned": iso(stop.arrival_planned),
        "arrival_real": iso(stop.arrival_real),
        "departure_planned": iso(stop.departure_planned),
        "departure_real": iso(stop.departure_real),
    }


def _write(user: User, journeys: list[ImportedJourney], visibility: str) -> list[int]:
    now = timezone.now()
    rows = [_row(user, journey, visibility, now) for journey in journeys]
    with transaction.atomic():
        for start in range(0, len(rows), BATCH):
            CheckIn.objects.bulk_create(rows[start : start + BATCH])
        documents = {
            row.id: imported_document(
                row,
                [_stopover(stop) for stop in journey.stopovers],
                provenance={
                    "source": "import",
                    "format": journey.source_format,
                    "source_id": journey.source_id,
                },
            )
            for row, journey in zip(rows, journeys, strict=True)
        }
        transaction.on_commit(lambda: _store_documents(documents))
    FEED.changed()
    STATS.changed(user.pk)
    return [row.id for row in rows]


def _store_documents(documents: dict[int, dict[str, Any]]) -> None:
    """The imported journeys' documents, once their rows are committed. A store that is down
    costs the details only (stopovers, the path on the map), never the journeys; it is logged."""
    items = list(documents.items())
    try:
        for start in range(0, len(items), BATCH):
            journey_store().put_many(dict(items[start : start + BATCH]))
    except DocumentStoreError:
        logger.exception("imported journeys' documents not stored", extra={"count": len(items)})
