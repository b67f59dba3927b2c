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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from checkins.enrichment import imported_document, matched_import_document
from checkins.geo import path_length_m
from checkins.imports.formats import (
    FORMAT_NAMES,
    FormatError,
    ImportedJourney,
    Problem,
    Stopover,
    read_export,
)
from checkins.models import CheckIn, JourneyImport, Mode, Visibility
from checkins.services.checkins import Place, check_plausible
from checkins.timetable import matching
from trainy.accounts.models import User
from trainy.documents import DocumentStoreError, journey_store
from trainy.generations import FEED, STATS
from trainy.progress import RowProgress
from trainy.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

# Bounds of one import: a peer's export of years of journeys is a few MB.
MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_IMPORT_JOURNEYS = 50_000
# Room in an upload's body for the form's other fields and the multipart framing.
UPLOAD_OVERHEAD = 64 * 1024
TOO_LARGE = (
    f"The file is too large: an import takes at most {MAX_IMPORT_BYTES // 2**20} MB. Export a "
    "shorter period and import the parts."
)


def size_refusal(size: int) -> str | None:
    """Why a file of ``size`` bytes cannot be imported; None if it can."""
    if size <= MAX_IMPORT_BYTES:
        return None
    return (
        f"The file is {size / 2**20:,.1f} MB; an import takes at most "
        f"{MAX_IMPORT_BYTES // 2**20} MB. Export a shorter period and import the parts."
    )


BATCH = 1000


# How far an import got: the step, and how many of its items are done out of how many.
Progress = Callable[[str, int, int], None]
WRITING = "Writing journeys"
STORING = "Storing stops and routes"


def _silent(step: str, done: int, total: int) -> None:
    pass


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
    # The new journeys found in the local timetable, by their place in ``new``.
    matches: dict[int, matching.TripMatch] = field(default_factory=dict)

    @property
    def matched(self) -> int:
        """New journeys on a timetable trip: found in it, or restored from a Trainy archive
        with their trip."""
        restored = sum(1 for j in self.new if j.restore is not None and j.restore.get("trip_id"))
        return len(self.matches) + restored

    @property
    def format_name(self) -> str:
        return FORMAT_NAMES.get(self.format, self.format)

    def where(self, number: int) -> str:
        """Where row ``number`` is: a line of a CSV file, an entry of a JSON one."""
        return f"{'line' if self.format.endswith('-csv') else 'entry'} {number}"


def journeys_import(
    *,
    user: User,
    data: bytes,
    visibility: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the journeys of an export file for ``user`` (or, with ``dry_run``, say what an
    import would do). ``visibility`` is given to journeys whose source has none (the CSV
    files); default: private. ``progress`` hears how far the writing got. Raises
    ImportRefused for a file that cannot be imported."""
    if dry_run:
        return _import(user, data, visibility, dry_run=True, progress=progress)
    with transaction.atomic():
        # One import at a time per traveller: two at once would both take the same file's
        # journeys for new. The lock is the traveller's row, held until the journeys commit.
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
        return _import(user, data, visibility, dry_run=False, progress=progress)


def _import(
    user: User, data: bytes, visibility: str | None, *, dry_run: bool, progress: Progress | None
) -> ImportResult:
    refusal = size_refusal(len(data))
    if refusal:
        raise ImportRefused(refusal)
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
    result.matches = _matches(result.new)
    if not dry_run and result.new:
        result.created_ids = _write(
            user, result.new, result.matches, visibility or Visibility.PRIVATE, progress or _silent
        )
    return result


def _matches(journeys: list[ImportedJourney]) -> dict[int, matching.TripMatch]:
    """The journeys' trips in the local timetable, by their place in ``journeys``. A Trainy
    archive's journeys keep the trip they had."""
    places = [index for index, journey in enumerate(journeys) if journey.restore is None]
    wanted = []
    for index in places:
        journey = journeys[index]
        wanted.append(
            matching.Wanted(
                origin=matching.Place(journey.origin_name, journey.origin_lat, journey.origin_lon),
                destination=matching.Place(
                    journey.destination_name, journey.destination_lat, journey.destination_lon
                ),
                departure=journey.departure_planned,
                line=journey.line_name,
                number=journey.journey_number,
            )
        )
    found = matching.trips_matching(wanted)
    return {places[index]: match for index, match in found.items()}


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


def _row(
    user: User,
    journey: ImportedJourney,
    visibility: str,
    now: datetime,
    match: matching.TripMatch | None,
) -> CheckIn:
    if journey.restore is not None:
        # A Trainy archive's journey: every field as it was there.
        return CheckIn(
            user=user,
            **journey.restore,
            import_source=journey.source_format,
            import_source_id=journey.source_id,
        )
    points = _points(journey)
    if journey.distance_m:
        distance_m, method = journey.distance_m, "source"
    elif points:
        distance_m, method = round(path_length_m(points)), "stop_to_stop"
    else:
        distance_m, method = None, "unknown"
    row = CheckIn(
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
    if match is not None:
        _link(row, match)
    return row


def _link(row: CheckIn, match: matching.TripMatch) -> None:
    """Name the timetable trip the journey was found on, and fill in from it what the
    source left out (coordinates, the mode, the operator); what the source had stays."""
    trip, entry, exit_stop = match.trip, match.entry, match.exit
    row.feed_name, row.feed_version_id = trip.feed, trip.version_id
    row.trip_id, row.service_date = trip.trip_id, trip.service_date
    row.origin_stop_id, row.origin_seq = entry.stop_id, entry.seq
    row.destination_stop_id, row.destination_seq = exit_stop.stop_id, exit_stop.seq
    if row.origin_lat is None or row.origin_lon is None:
        row.origin_lat, row.origin_lon = entry.lat, entry.lon
    if row.destination_lat is None or row.destination_lon is None:
        row.destination_lat, row.destination_lon = exit_stop.lat, exit_stop.lon
    if row.mode == Mode.OTHER:
        row.mode = trip.mode
    row.operator_name = row.operator_name or trip.agency
    if entry.departure is not None:
        row.time_zone = str(entry.departure.tzinfo)


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


def _write(
    user: User,
    journeys: list[ImportedJourney],
    matches: dict[int, matching.TripMatch],
    visibility: str,
    progress: Progress,
) -> list[int]:
    now = timezone.now()
    rows = [
        _row(user, journey, visibility, now, matches.get(index))
        for index, journey in enumerate(journeys)
    ]
    # A journey found in the timetable whose source had only its ends gets the trip's stops
    # and path (and its distance, when the source had none); built before the rows are saved
    # since the distance is a column.
    from_timetable = {
        index: _timetable_document(rows[index], journeys[index], match)
        for index, match in matches.items()
        if len(journeys[index].stopovers) < 2
    }
    with transaction.atomic():
        for start in range(0, len(rows), BATCH):
            progress(WRITING, start, len(rows))
            CheckIn.objects.bulk_create(rows[start : start + BATCH])
        progress(WRITING, len(rows), len(rows))
        _restore_times(rows, journeys)
        documents = {}
        for index, (row, journey) in enumerate(zip(rows, journeys, strict=True)):
            document = from_timetable.get(index)
            if journey.restore is not None:
                if journey.document is not None:
                    documents[row.id] = dict(journey.document)
            elif document is not None:
                documents[row.id] = {**document, "checkin_id": row.id}
            else:
                stopovers = [_stopover(stop) for stop in journey.stopovers]
                documents[row.id] = imported_document(row, stopovers, provenance=_source(journey))
        transaction.on_commit(lambda: _store_documents(documents, progress))
    FEED.changed()
    STATS.changed(user.pk)
    return [row.id for row in rows]


def _source(journey: ImportedJourney) -> dict[str, Any]:
    return {"source": "import", "format": journey.source_format, "source_id": journey.source_id}


def _timetable_document(
    row: CheckIn, journey: ImportedJourney, match: matching.TripMatch
) -> dict[str, Any] | None:
    document = matched_import_document(row, match.trip, provenance=_source(journey))
    if document is not None and row.distance_method != "source":
        row.distance_m = document["distance"]["meters"]
        row.distance_method = document["distance"]["method"]
    return document


def _restore_times(rows: list[CheckIn], journeys: list[ImportedJourney]) -> None:
    """A Trainy archive's journeys keep when they were made and last changed (saving sets both
    to now)."""
    restored = []
    for row, journey in zip(rows, journeys, strict=True):
        if journey.restore is not None and "created_at" in journey.restore:
            row.created_at = journey.restore["created_at"]
            row.updated_at = journey.restore.get("updated_at", row.created_at)
            restored.append(row)
    if restored:
        CheckIn.objects.bulk_update(restored, ["created_at", "updated_at"], batch_size=BATCH)


def _store_documents(documents: dict[int, dict[str, Any]], progress: Progress) -> None:
    """The imported journeys' documents, once their rows are committed. A store that is down
    costs the details only (stopovers, the path on the map), never the journeys; it is logged."""
    items = list(documents.items())
    try:
        for start in range(0, len(items), BATCH):
            progress(STORING, start, len(items))
            journey_store().put_many(dict(items[start : start + BATCH]))
        progress(STORING, len(items), len(items))
    except DocumentStoreError:
        logger.exception("imported journeys' documents not stored", extra={"count": len(items)})


# --- Imports through the page and the API ---------------------------------------------------------

# Files whose dry run finds more new journeys than this are imported by a Celery task (queue
# ``exports``); smaller ones at once, in the request (about a second).
DIRECT_LIMIT = 2000
# Finished imports a traveller keeps on the page (their summaries; the files are let go).
KEEP_IMPORTS = 20
# Overlaps and refused rows kept in an import's summary, each list; the counts say how many
# there are in all.
SUMMARY_ROWS = 500


def result_summary(result: ImportResult) -> dict[str, Any]:
    """What an import found or did, JSON-ready for JourneyImport.summary and the API."""
    return {
        "format": result.format,
        "format_name": result.format_name,
        "dry_run": result.dry_run,
        # Where a row is in the file: "line" (CSV) or "entry" (JSON).
        "where": result.where(0).split()[0],
        "new": len(result.new),
        "created": len(result.created_ids),
        "duplicates": result.duplicates,
        # New journeys found on a trip of the local timetable, and the others (manual ones).
        "matched": result.matched,
        "manual": len(result.new) - result.matched,
        "overlap_count": len(result.overlaps),
        "overlaps": [
            {"number": overlap.number, "other": overlap.other}
            for overlap in result.overlaps[:SUMMARY_ROWS]
        ],
        "refused_count": len(result.refused),
        "refused": [
            {"number": problem.number, "reason": problem.reason}
            for problem in result.refused[:SUMMARY_ROWS]
        ],
        "warnings": result.warnings,
    }


def journey_import_check(
    *, user: User, filename: str, data: bytes, visibility: str
) -> JourneyImport:
    """Read and check an uploaded export (the dry run) and keep it, waiting for the traveller's
    yes (journey_import_start). Raises ImportRefused for a file that cannot be imported:
    nothing is kept then. A file checked earlier and never started is let go: one waits at a
    time."""
    result = journeys_import(user=user, data=data, visibility=visibility, dry_run=True)
    with transaction.atomic():
        JourneyImport.objects.filter(user=user, status=JourneyImport.Status.CHECKED).delete()
        job = JourneyImport(
            user=user,
            filename=Path(filename).name[:200] or "export",
            format=result.format,
            visibility=visibility,
            upload=data,
            summary=result_summary(result),
            rows_total=len(result.new),
        )
        job.full_clean(exclude=["upload"])
        job.save()
        keep = JourneyImport.objects.filter(user=user).order_by("-created_at", "-id")
        JourneyImport.objects.filter(user=user).exclude(
            id__in=list(keep.values_list("id", flat=True)[:KEEP_IMPORTS])
        ).delete()
    return job


def journey_import_start(*, job: JourneyImport) -> JourneyImport:
    """The traveller's yes to a checked import: run at once for a small file, queued for the
    task otherwise. An import already started or finished is left as it is."""
    updated = JourneyImport.objects.filter(id=job.id, status=JourneyImport.Status.CHECKED).update(
        status=JourneyImport.Status.QUEUED, phase="", rows_done=0
    )
    if not updated:
        return JourneyImport.objects.defer("upload").get(id=job.id)
    if job.summary.get("new", 0) <= DIRECT_LIMIT:
        return journey_import_run(import_id=job.id) or job

    from checkins.tasks import run_journey_import  # the tasks module imports this one

    def refused(import_ids: list[int], error: BrokerUnavailable) -> None:
        # Said on the import's page rather than left queued for ever.
        journey_import_fail(
            import_id=job.id,
            error="The import could not be started; please upload the file again in a few minutes.",
        )

    enqueue_on_commit(run_journey_import, [job.id], on_refused=refused)
    return JourneyImport.objects.defer("upload").get(id=job.id)


def journey_import_run(*, import_id: int) -> JourneyImport | None:
    """Import a started import's file. Idempotent: a finished import is left alone; one cut
    off before its journeys committed starts over (nothing of it was written); one cut off
    after is only marked done (its file was let go in the same transaction as its journeys).

    The journeys and the import's summary commit together; progress is written apart as it
    goes (trainy.progress), so the page polling it sees the bar move."""
    job = JourneyImport.objects.filter(id=import_id).select_related("user").first()
    if job is None or job.status not in (JourneyImport.Status.QUEUED, JourneyImport.Status.RUNNING):
        return job
    if job.upload is not None:
        JourneyImport.objects.filter(id=job.id).update(
            status=JourneyImport.Status.RUNNING, phase="Reading the file", rows_done=0, error=""
        )
        with RowProgress(JourneyImport, job.id) as row:

            def progress(step: str, done: int, total: int) -> None:
                # A step's start and end are written at once; between, about once a second.
                values = {"phase": step, "rows_done": done, "rows_total": total}
                row.write(values | {"updated_at": timezone.now()}, force=done in (0, total))

            try:
                with transaction.atomic():
                    result = journeys_import(
                        user=job.user,
                        data=bytes(job.upload),
                        visibility=job.visibility,
                        progress=progress,
                    )
                    JourneyImport.objects.filter(id=job.id).update(
                        summary=result_summary(result), upload=None
                    )
            except ImportRefused as error:
                journey_import_fail(import_id=job.id, error=str(error))
                return JourneyImport.objects.defer("upload").filter(id=job.id).first()
        logger.info(
            "journey import %s: %s, %d new, %d duplicates, %d refused",
            job.id,
            result.format,
            len(result.created_ids),
            result.duplicates,
            len(result.refused),
        )
    JourneyImport.objects.filter(id=job.id).update(
        status=JourneyImport.Status.DONE, phase="", finished_at=timezone.now()
    )
    return JourneyImport.objects.defer("upload").filter(id=job.id).first()


def journey_import_fail(*, import_id: int, error: str) -> None:
    """Mark the import failed, with a message for its traveller; its file is let go."""
    JourneyImport.objects.filter(id=import_id).exclude(status=JourneyImport.Status.DONE).update(
        status=JourneyImport.Status.FAILED,
        error=error[:1000],
        upload=None,
        phase="",
        finished_at=timezone.now(),
    )


def journey_import_cancel(*, job: JourneyImport) -> bool:
    """Let go of a checked import the traveller does not want (its file with it). False if it
    has started meanwhile."""
    deleted, _ = JourneyImport.objects.filter(
        id=job.id, status=JourneyImport.Status.CHECKED
    ).delete()
    return bool(deleted)
