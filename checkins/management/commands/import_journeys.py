from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from checkins.models import Visibility
from checkins.services.imports import ImportRefused, journeys_import, size_refusal
from trainy.accounts.models import User

# Problems and overlaps listed by line; the counts say how many there are in all.
SHOWN = 20


class Command(BaseCommand):
    help = (
        "Import a traveller's journeys from an export of Träwelling (JSON or CSV) or Travelynx "
        "(history.json, history.csv or the account export), or a Trainy archive (the ZIP of "
        '"Download all my data"); the format is recognised from '
        "the content. --dry-run says what would be imported without writing anything."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the export file")
        parser.add_argument("--user", required=True, help="the Trainy username to import for")
        parser.add_argument("--dry-run", action="store_true", help="write nothing; report only")
        parser.add_argument(
            "--visibility",
            choices=Visibility.values,
            default=Visibility.PRIVATE,
            help="for journeys whose file has none (the CSV exports); default: private",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"There is no user {options['user']!r}.")
        try:
            refusal = size_refusal(path.stat().st_size)
            if refusal:
                raise CommandError(f"{path}: {refusal}")
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}.") from None
        try:
            result = journeys_import(
                user=user, data=data, visibility=options["visibility"], dry_run=options["dry_run"]
            )
        except ImportRefused as error:
            raise CommandError(str(error)) from None
        write = self.stdout.write
        write(f"{path.name}: {result.format_name}")
        for warning in result.warnings:
            write(self.style.WARNING(f"Warning: {warning}"))
        verb = "would be imported" if result.dry_run else "imported"
        write(f"  {_count(len(result.new), 'new journey')} {verb}")
        write(f"  {_count(result.duplicates, 'journey')} imported before (skipped)")
        write(f"  {_count(result.matched, 'new journey')} found on a trip of the timetable here")
        write(f"  {_count(len(result.overlaps), 'new journey')} overlapping another of yours")
        write(f"  {_count(len(result.refused), 'row')} refused")
        for overlap in result.overlaps[:SHOWN]:
            write(f"    {result.where(overlap.number)}: overlaps {overlap.other}")
        for problem in result.refused[:SHOWN]:
            write(self.style.ERROR(f"    {result.where(problem.number)}: {problem.reason}"))
        hidden = max(0, len(result.overlaps) - SHOWN) + max(0, len(result.refused) - SHOWN)
        if hidden:
            write(f"    … and {hidden:,} more")
        if result.dry_run:
            write("Nothing was written (dry run).")


def _count(number: int, noun: str) -> str:
    return f"{number:>6,} {noun}{'' if number == 1 else 's'}"
