from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from checkins.models import CheckIn, Mode
from checkins.services.checkins import Place, checkin_create
from trainy.accounts.models import User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"traveller{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    display_name = factory.LazyAttribute(lambda user: user.username.title())
    password = factory.django.Password(PASSWORD)


class CheckInFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckIn

    user = factory.SubFactory(UserFactory)
    mode = Mode.LONG_DISTANCE
    line_name = factory.Sequence(lambda n: f"ICE {1000 + n}")
    origin_name = "Berlin Hbf"
    origin_lat = 52.5251
    origin_lon = 13.3694
    destination_name = "Hamburg Hbf"
    destination_lat = 53.5530
    destination_lon = 10.0069
    departure_planned = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=3))
    arrival_planned = factory.LazyAttribute(lambda c: c.departure_planned + timedelta(minutes=111))


def manual_checkin(user, **overrides) -> CheckIn:
    """A journey checked in by hand through the service (its rules and its after-commit work
    included), an hour ago, RE 1 from Berlin Ostbahnhof to Frankfurt (Oder)."""
    departure = timezone.now() - timedelta(hours=1)
    values = {
        "user": user,
        "line_name": "RE 1",
        "origin": Place("Berlin Ostbahnhof", 52.5104, 13.4350),
        "destination": Place("Frankfurt (Oder)", 52.3367, 14.5466),
        "departure_planned": departure,
        "arrival_planned": departure + timedelta(minutes=75),
        "time_zone": "Europe/Berlin",
    } | overrides
    return checkin_create(**values)
