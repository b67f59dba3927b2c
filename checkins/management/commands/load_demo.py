"""A small, clearly labelled demo so that a new instance shows something at once."""

from __future__ import annotations

import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from checkins.models import Mode, Purpose, Visibility
from checkins.services.checkins import Place, checkin_create
from checkins.timetable.demo import DEMO_FEED_NAME, DEMO_USERNAME, write_demo_feed
from checkins.timetable.importer import feed_import
from checkins.timetable.models import Feed
from trainy.accounts.models import User

# Shown on the feed page on purpose: the demo account exists to be tried.
DEMO_PASSWORD = "demo"  # noqa: S105

# (line, mode, operator, origin, (lat, lon), destination, (lat, lon), days ago, hour, minutes,
#  purpose, message)
DEMO_JOURNEYS = [
    (
        "ICE 1601",
        Mode.LONG_DISTANCE,
        "DB Fernverkehr",
        "Berlin Hbf",
        (52.5251, 13.3694),
        "Hamburg Hbf",
        (53.5530, 10.0069),
        1,
        8,
        111,
        Purpose.BUSINESS,
        "Demo data: off to a meeting.",
    ),
    (
        "RE 1",
        Mode.REGIONAL,
        "ODEG",
        "Berlin Ostbahnhof",
        (52.5104, 13.4350),
        "Frankfurt (Oder)",
        (52.3367, 14.5466),
        3,
        17,
        75,
        Purpose.PRIVATE,
        "Demo data: weekend trip.",
    ),
    (
        "S7",
        Mode.SUBURBAN,
        "S-Bahn Berlin",
        "Alexanderplatz",
        (52.5215, 13.4113),
        "Potsdam Hbf",
        (52.3917, 13.0670),
        6,
        7,
        52,
        Purpose.COMMUTE,
        "Demo data.",
    ),
    (
        "A",
        Mode.SUBWAY,
        "MTA New York City Transit",
        "Times Sq-42 St",
        (40.7573, -73.9898),
        "Fulton St",
        (40.7102, -74.0076),
        9,
        12,
        16,
        Purpose.PRIVATE,
        "Demo data: downtown.",
    ),
]


class Command(BaseCommand):
    help = (
        "Create the demo timetable (feed 'demo'), the demo traveller (demo / demo) and a few "
        "demo journeys, once."
    )

    def handle(self, *args: object, **options: object) -> None:
        if not Feed.objects.filter(name=DEMO_FEED_NAME, active_version__isnull=False).exists():
            with tempfile.TemporaryDirectory() as folder:
                feed_import(source=str(write_demo_feed(Path(folder))), name=DEMO_FEED_NAME)
            self.stdout.write(self.style.SUCCESS("Demo timetable loaded (feed 'demo')."))
        if User.objects.filter(username=DEMO_USERNAME).exists():
            self.stdout.write("Demo journeys are already loaded (user 'demo').")
            return
        self._load_journeys()

    @transaction.atomic
    def _load_journeys(self) -> None:
        user = User(username=DEMO_USERNAME, display_name="Demo Traveller (demo data)")
        user.set_password(DEMO_PASSWORD)
        user.save()
        today = timezone.localdate()
        for (
            line,
            mode,
            operator,
            origin,
            origin_at,
            destination,
            destination_at,
            days_ago,
            hour,
            minutes,
            purpose,
            message,
        ) in DEMO_JOURNEYS:
            day = today - timedelta(days=days_ago)
            departure = timezone.make_aware(datetime.combine(day, time(hour)))
            checkin_create(
                user=user,
                line_name=line,
                mode=mode,
                operator_name=operator,
                origin=Place(origin, *origin_at),
                destination=Place(destination, *destination_at),
                departure_planned=departure,
                arrival_planned=departure + timedelta(minutes=minutes),
                message=message,
                visibility=Visibility.PUBLIC,
                purpose=purpose,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: user '{DEMO_USERNAME}' (password '{DEMO_PASSWORD}') "
                f"with {len(DEMO_JOURNEYS)} journeys."
            )
        )
