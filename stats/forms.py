"""The filter of the statistics page, of exports and of "My journeys": a date range (a period or
from/to days), purposes and modes, read from a query string into a ``JourneyFilter`` for
``checkins.selectors.journeys_in``, through which all of them read their journeys (so their
totals always agree)."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone

from checkins.models import Mode, Purpose
from checkins.selectors import JourneyFilter
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
    """The range and filters of the statistics page, of exports and of "My journeys", from a
    query string. Without a period or days it is ``default_period``."""

    default_period = "this-year"

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
        period = period or self.default_period
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

    def criteria(self) -> JourneyFilter:
        """The filter of a valid form."""
        data = self.cleaned_data
        return JourneyFilter(
            start=data.get("start"),
            end=data.get("end"),
            purposes=tuple(data.get("purpose") or ()),
            modes=tuple(data.get("mode") or ()),
            zone=timezone.get_current_timezone(),
        )
