from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from checkins.timetable.gtfs import FeedError
from checkins.timetable.importer import feed_import


class TerminalProgress:
    """A progress bar per file (bytes read, with rows per second once a file is done)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: tqdm | None = None

    def file_started(self, name: str, size: int) -> None:
        self._close()
        if self.enabled:
            self.bar = tqdm(
                total=size or None, desc=f"{name:<22}", unit="B", unit_scale=True,
                unit_divisor=1024, file=sys.stderr, leave=False, dynamic_ncols=True,
            )  # fmt: skip

    def bytes_read(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def rows_read(self, count: int) -> None:
        if self.bar is not None:
            elapsed = self.bar.format_dict["elapsed"] or 1e-9
            self.bar.set_postfix_str(f"{count:,} rows, {count / elapsed:,.0f} rows/s")

    def file_finished(self, name: str, rows: int, seconds: float) -> None:
        self._close()
        if self.enabled and rows:
            rate = rows / seconds if seconds > 0 else 0
            print(f"{name:<22} {rows:>10,} rows {seconds:7.1f} s {rate:>11,.0f} rows/s",
                  file=sys.stderr)  # fmt: skip

    def phase(self, text: str) -> None:
        self._close()
        if self.enabled:
            print(f"{text}…", file=sys.stderr)

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Command(BaseCommand):
    help = (
        "Import a GTFS feed (zip, folder or http(s) URL) as the new version of a named feed. "
        "The feed's previous version stays active until the new one is complete and valid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="path to a .zip or a folder, or an http(s) URL")
        parser.add_argument("--name", help="feed name (default: from the file or folder name)")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = TerminalProgress(enabled=options["verbosity"] >= 1)
        try:
            result = feed_import(source=options["source"], name=options["name"], progress=progress)
        except FeedError as error:
            raise CommandError(f"The feed was not imported:\n{error.describe()}") from None
        finally:
            progress._close()
        version = result.version
        if options["verbosity"] < 1:
            return
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        counts = ", ".join(f"{table} {count:,}" for table, count in result.row_counts.items())
        replaced = (
            f"; replaced version {result.replaced_version_id}" if result.replaced_version_id else ""
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported feed {version.feed.name!r} as version {version.id} in "
                f"{result.seconds:.1f} s{replaced}. Service {version.start_date} to "
                f"{version.end_date}, time zone {version.timezone}.\nRows: {counts}."
            )
        )
