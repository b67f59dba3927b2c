from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from checkins.timetable.selectors import active_versions, departures, version_of_stop


class Command(BaseCommand):
    help = "Print the departure board of a stop or station (all its platforms) at a time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("stop_id", help="a stop_id or parent station id of an active feed")
        parser.add_argument(
            "--at", required=True, help="local time in the feed's time zone, e.g. 2019-06-03T08:00"
        )
        parser.add_argument("--limit", type=int, default=20)
        parser.add_argument("--feed", help="only this feed")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            naive = datetime.fromisoformat(options["at"])
        except ValueError:
            raise CommandError(
                f"--at {options['at']!r} is not a date-time like 2019-06-03T08:00"
            ) from None
        if not 1 <= options["limit"] <= 500:
            raise CommandError("--limit must be between 1 and 500")
        version = version_of_stop(options["stop_id"], options["feed"])
        if version is None:
            feeds = ", ".join(v.feed for v in active_versions(options["feed"])) or "none"
            raise CommandError(
                f"no active feed has a stop {options['stop_id']!r} (active feeds: {feeds})"
            )
        # The time is the feed's local time unless it names its own offset.
        at = naive if naive.tzinfo else naive.replace(tzinfo=version.timezone)
        board = departures(
            stop_id=options["stop_id"], at=at, limit=options["limit"], feed=options["feed"]
        )
        if options["json"]:
            self.stdout.write(json.dumps([departure.as_json() for departure in board], indent=1))
            return
        if not board:
            self.stdout.write(f"No departures from {options['stop_id']} after {at.isoformat()}.")
        for departure in board:
            platform = f"  platform {departure.platform}" if departure.platform else ""
            self.stdout.write(
                f"{departure.departure:%Y-%m-%d %H:%M}  {departure.line:<10} "
                f"→ {departure.headsign:<30} {departure.stop_id}{platform}"
            )
