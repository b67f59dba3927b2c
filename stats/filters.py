"""What statistics and exports are about: one traveller's journeys in a date range, of some
purposes and modes. The statistics page, every export format and the business-trip report
read their journeys through ``journeys_in``, so their totals always agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from checkins.models import CheckIn, Mode, Purpose
from trainy.accounts.models import User
from trainy.forms import BoundedDateField

# A range longer than this is a typo (or a scan of everything): all time is its own choice.
MAX_RANGE_DAYS = 366 * 20

PERIODS = {
    "this-month": "This month",
    "last-month": "Last month",
    "this-year": "This year",
    "last-year": "Last year",
    "all": "All time",
    "custom": "Custom range",
}


@dataclass(frozen=True)
class StatsFilter:
    """Journeys departing from ``start`` to ``end`` (both days included, in ``zone``; None: no
    bound), of these purposes and modes (empty: all)."""

    start: date | None = None
    end: date | None = None
    purposes: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The range as instants: midnight at the start, midnight after the end."""
        start = datetime.combine(self.start, time(), self.zone) if self.start else None
        end = (
            datetime.combine(self.end + timedelta(days=1), time(), self.zone) if self.end else None
        )
        return start, end

    def describe(self) -> str:
        if self.start and self.end:
            span = f"{self.start:%-d %b %Y} – {self.end:%-d %b %Y}"
        elif self.start:
            span = f"from {self.start:%-d %b %Y}"
        elif self.end:
            span = f"until {self.end:%-d %b %Y}"
        else:
            span = "all time"
        parts = [span]
        if self.purposes:
            labels = dict(Purpose.choices)
            parts.append(", ".join(labels.get(p, p) for p in self.purposes))
        if self.modes:
            labels = dict(Mode.choices)
            parts.append(", ".join(labels.get(m, m) for m in self.modes))
        return " · ".join(parts)


def journeys_in(*, owner: User, criteria: StatsFilter) -> QuerySet[CheckIn]:
    """The owner's journeys that ``criteria`` selects (all of them, private ones included:
    statistics and exports are the owner's own)."""
    journeys = CheckIn.objects.filter(user=owner)
    start, end = criteria.bounds()
    if start is not None:
        journeys = journeys.filter(departure_planned__gte=start)
    if end is not None:
        journeys = journeys.filter(departure_planned__lt=end)
    if criteria.purposes:
        journeys = journeys.filter(purpose__in=criteria.purposes)
    if criteria.modes:
        journeys = journeys.filter(mode__in=criteria.modes)
    return journeys


def period_range(period: str, today: date) -> tuple[date | None, date | None]:
    if period == "this-month":
        return today.replace(day=1), today
    if period == "last-month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if period == "this-year":
        return today.replace(month=1, day=1), today
    if period == "last-year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    return None, None


class StatsFilterForm(forms.Form):
    """The range and filters of the statistics page and of exports, from a query string."""

    period = forms.ChoiceField(choices=PERIODS.items(), required=False, initial="this-year")
    start = BoundedDateField(required=False, label="From")
    end = BoundedDateField(required=False, label="To")
    purpose = forms.MultipleChoiceField(
        choices=Purpose.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    mode = forms.MultipleChoiceField(
        choices=Mode.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        period = data.get("period") or ("custom" if data.get("start") or data.get("end") else "")
        period = period or "this-year"
        data["period"] = period
        if period != "custom":
            today = timezone.localdate()
            data["start"], data["end"] = period_range(period, today)
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(
                    f"The range ends ({end:%-d %b %Y}) before it starts ({start:%-d %b %Y})."
                )
            if (end - start).days > MAX_RANGE_DAYS:
                raise forms.ValidationError(
                    "A range can span 20 years at the most; choose “All time” for everything."
                )
        return data

    def criteria(self) -> StatsFilter:
        """The filter of a valid form."""
        data = self.cleaned_data
        return StatsFilter(
            start=data.get("start"),
            end=data.get("end"),
            purposes=tuple(data.get("purpose") or ()),
            modes=tuple(data.get("mode") or ()),
            zone=timezone.get_current_timezone(),
        )
