"""Journeys for the export tests: business and private, across midnight, in Berlin and New York,
with and without real times, distances and ticket prices; and their totals summed by hand in
SQL, apart from the code under test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.test import Client

from checkins.models import CheckIn, Mode, Purpose
from stats.exports.columns import DEFAULT_COLUMNS
from tests.factories import CheckInFactory

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
START, END = date(2025, 3, 1), date(2025, 4, 30)
RANGE = {"period": "custom", "start": START.isoformat(), "end": END.isoformat()}
FORMULA = '=HYPERLINK("http://example.org","click")'


def form(kind: str, **extra) -> dict:
    return RANGE | {"format": kind, "columns": list(DEFAULT_COLUMNS), "separator": ","} | extra


@dataclass
class Seed:
    ice: CheckIn  # business, Berlin, a ticket and a cost centre, a real arrival
    night: CheckIn  # business, Berlin, 23:30 to 01:10 the next day, late
    subway: CheckIn  # private, New York, 23:30 to 00:40 (04:30 in Berlin the next day)
    new_york_business: CheckIn  # business, 31 March 20:00 in New York: 1 April in Berlin
    april: CheckIn  # business, Berlin, a message that looks like a formula
    unenriched: CheckIn  # commute, no distance, duration or price yet
    outside: CheckIn  # February: out of the range
    bobs: CheckIn  # another traveller's

    def in_range(self) -> list[CheckIn]:
        return [
            self.ice,
            self.night,
            self.subway,
            self.new_york_business,
            self.april,
            self.unenriched,
        ]


def _journey(user, departure: datetime, minutes: int, **fields) -> CheckIn:
    return CheckInFactory(
        user=user,
        departure_planned=departure,
        arrival_planned=departure + timedelta(minutes=minutes),
        **fields,
    )


def seed(alice, bob) -> Seed:
    ice_departure = datetime(2025, 3, 10, 8, 0, tzinfo=BERLIN)
    night_departure = datetime(2025, 3, 14, 23, 30, tzinfo=BERLIN)
    return Seed(
        ice=_journey(
            alice, ice_departure, 111,
            line_name="ICE 1601", trip_id="1601", operator_name="DB Fernverkehr AG",
            purpose=Purpose.BUSINESS, distance_m=255_123, duration_s=6660,
            ticket_price=Decimal("49.90"), cost_centre="KST-4711", time_zone="Europe/Berlin",
            arrival_real=ice_departure + timedelta(minutes=114),
            departure_real=ice_departure + timedelta(minutes=1),
        ),
        night=_journey(
            alice, night_departure, 100,
            line_name="IC 2027", mode=Mode.LONG_DISTANCE, purpose=Purpose.BUSINESS,
            destination_name="Köln Hbf", destination_lat=50.9430, destination_lon=6.9589,
            distance_m=120_456, duration_s=6000, ticket_price=Decimal("29.99"),
            cost_centre="Projekt Süd", time_zone="Europe/Berlin",
            departure_real=night_departure + timedelta(minutes=2),
            arrival_real=night_departure + timedelta(minutes=107),
        ),
        subway=_journey(
            alice, datetime(2025, 3, 20, 23, 30, tzinfo=NEW_YORK), 70,
            line_name="A", mode=Mode.SUBWAY, purpose=Purpose.PRIVATE,
            origin_name="Inwood-207 St", origin_lat=40.8681, origin_lon=-73.9199,
            destination_name="Far Rockaway-Mott Av", destination_lat=40.6038,
            destination_lon=-73.7554, operator_name="MTA New York City Transit",
            distance_m=50_345, duration_s=4200, time_zone="America/New_York",
            message="Late ride home",
        ),
        new_york_business=_journey(
            alice, datetime(2025, 3, 31, 20, 0, tzinfo=NEW_YORK), 45,
            line_name="Q", mode=Mode.SUBWAY, purpose=Purpose.BUSINESS,
            origin_name="57 St-7 Av", origin_lat=40.7641, origin_lon=-73.9773,
            destination_name="Coney Island-Stillwell Av", destination_lat=40.5772,
            destination_lon=-73.9811, distance_m=21_001, duration_s=2700,
            ticket_price=Decimal("2.90"), cost_centre="KST-4711", time_zone="America/New_York",
        ),
        april=_journey(
            alice, datetime(2025, 4, 2, 17, 15, tzinfo=BERLIN), 95,
            line_name="RE 1", mode=Mode.REGIONAL, purpose=Purpose.BUSINESS,
            distance_m=98_765, duration_s=5700, ticket_price=Decimal("19.00"),
            message=FORMULA, time_zone="Europe/Berlin",
        ),
        unenriched=_journey(
            alice, datetime(2025, 4, 30, 22, 0, tzinfo=BERLIN), 30,
            line_name="S7", mode=Mode.SUBURBAN, purpose=Purpose.COMMUTE,
            time_zone="Europe/Berlin",
        ),
        outside=_journey(
            alice, datetime(2025, 2, 28, 23, 0, tzinfo=BERLIN), 100,
            purpose=Purpose.BUSINESS, distance_m=300_000, duration_s=6000,
            ticket_price=Decimal("99.00"), time_zone="Europe/Berlin",
        ),
        bobs=_journey(
            bob, datetime(2025, 3, 12, 9, 0, tzinfo=BERLIN), 60,
            purpose=Purpose.BUSINESS, distance_m=999_000, duration_s=3600,
            ticket_price=Decimal("500.00"),
        ),
    )  # fmt: skip


@dataclass(frozen=True)
class SqlTotals:
    journeys: int
    meters: int
    seconds: int
    tickets: Decimal

    @property
    def km(self) -> float:
        return round(self.meters / 1000, 1)

    @property
    def hours(self) -> float:
        return round(self.seconds / 3600, 1)


def sql_totals(
    user, start: date = START, end: date = END, purposes: tuple[str, ...] = ()
) -> SqlTotals:
    """The range's totals in plain SQL: departures from midnight on ``start`` to midnight after
    ``end`` in Berlin (the site's zone)."""
    lower = datetime.combine(start, time(), BERLIN)
    upper = datetime.combine(end + timedelta(days=1), time(), BERLIN)
    sql = (
        "SELECT count(*), coalesce(sum(distance_m), 0), coalesce(sum(duration_s), 0),"
        " coalesce(sum(ticket_price), 0) FROM checkins_checkin"
        " WHERE user_id = %s AND departure_planned >= %s AND departure_planned < %s"
    )
    params: list = [user.pk, lower, upper]
    if purposes:
        sql += " AND purpose IN (" + ", ".join(["%s"] * len(purposes)) + ")"
        params += list(purposes)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count, meters, seconds, tickets = cursor.fetchone()
    return SqlTotals(
        count, int(meters), int(seconds), Decimal(str(tickets)).quantize(Decimal("0.01"))
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content
