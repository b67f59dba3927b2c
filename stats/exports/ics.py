"""The calendar feed (iCalendar, RFC 5545): one event per journey, from departure to arrival,
at the real times when a realtime feed reported them, in the journey's own time zone (with its
VTIMEZONE), so a calendar app shows the train where and when it ran."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, timedelta

from django.conf import settings
from icalendar import Calendar, Event

from checkins.models import CheckIn
from stats.exports.columns import MODES, PURPOSES, delay_min, distance_km, journey_zone


def _description(journey: CheckIn) -> str:
    zone = journey_zone(journey)
    lines = [f"{journey.line_name} ({MODES.get(journey.mode, journey.mode)})"]
    if journey.operator_name:
        lines.append(f"Operator: {journey.operator_name}")
    planned = journey.departure_planned.astimezone(zone)
    arrival = journey.arrival_planned.astimezone(zone)
    lines.append(f"Planned: {planned:%Y-%m-%d %H:%M} – {arrival:%H:%M} ({zone.key})")
    delay = delay_min(journey)
    if delay is not None:
        lines.append("On time" if delay == 0 else f"Arrived {delay:+d} min")
    km = distance_km(journey)
    if km is not None:
        lines.append(f"Distance: {km:.1f} km")
    lines.append(f"Purpose: {PURPOSES.get(journey.purpose, journey.purpose)}")
    if journey.cost_centre:
        lines.append(f"Cost centre: {journey.cost_centre}")
    if journey.message:
        lines.append("")
        lines.append(journey.message)
    return "\n".join(lines)


def calendar_ics(
    journeys: Iterable[CheckIn],
    *,
    name: str,
    domain: str,
    journey_url: Callable[[CheckIn], str],
) -> bytes:
    """The journeys as an iCalendar file. ``domain`` makes the events' UIDs unique and stable
    (a journey edited later updates its event instead of adding one)."""
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.TRAINY_SITE_NAME}//journeys//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    # Calendar apps refresh a subscribed feed this often (a hint; each app decides).
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    first: date | None = None
    last: date | None = None
    for journey in journeys:
        zone = journey_zone(journey)
        start = (journey.departure_real or journey.departure_planned).astimezone(zone)
        end = (journey.arrival_real or journey.arrival_planned).astimezone(zone)
        if end <= start:  # a real departure reported after the planned arrival
            end = start + timedelta(minutes=1)
        event = Event()
        event.add("uid", f"journey-{journey.id}@{domain}")
        event.add("dtstamp", journey.updated_at.astimezone(UTC))
        event.add("last-modified", journey.updated_at.astimezone(UTC))
        event.add("created", journey.created_at.astimezone(UTC))
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add(
            "summary", f"{journey.line_name}: {journey.origin_name} → {journey.destination_name}"
        )
        event.add("location", journey.origin_name)
        if journey.origin_lat is not None and journey.origin_lon is not None:
            event.add("geo", (journey.origin_lat, journey.origin_lon))
        event.add("description", _description(journey))
        event.add("categories", [PURPOSES.get(journey.purpose, journey.purpose)])
        event.add("url", journey_url(journey))
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        event.add("class", "PRIVATE")
        calendar.add_component(event)
        first = min(first or start.date(), start.date())
        last = max(last or end.date(), end.date())
    if first is not None and last is not None:
        # Zone rules for the span of the journeys only: a VTIMEZONE for 1970-2038 is long.
        calendar.add_missing_timezones(
            first_date=first - timedelta(days=366), last_date=last + timedelta(days=366)
        )
    return calendar.to_ical()
