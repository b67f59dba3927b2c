from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from checkins.services.realtime import realtime_apply
from checkins.timetable.realtime import RealtimeError, fetch


class Command(BaseCommand):
    help = (
        "Apply a GTFS-Realtime TripUpdates message (a .pb file or an http(s) URL) to a feed's "
        "trips: their real times show on the journeys checked in to them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("feed", help="the timetable feed's name, as given to import_gtfs")
        parser.add_argument("source", help="a TripUpdates .pb file or an http(s) URL")

    def handle(self, *args: Any, **options: Any) -> None:
        source: str = options["source"]
        try:
            if source.startswith(("http://", "https://")):
                data = fetch(source)
            else:
                try:
                    data = Path(source).read_bytes()
                except OSError as exc:
                    raise RealtimeError(f"{source}: cannot read it ({exc.strerror})") from None
            result = realtime_apply(feed=options["feed"], data=data, source=source)
        except RealtimeError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(result.describe())
