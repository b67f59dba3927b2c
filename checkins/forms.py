from __future__ import annotations

from typing import Any

from django import forms

from checkins.models import MESSAGE_MAX_LENGTH, Mode, Purpose, Visibility


class ManualCheckInForm(forms.Form):
    """A journey typed in by hand, for trips the timetable does not know."""

    line_name = forms.CharField(max_length=100, label="Line", help_text="e.g. ICE 1601 or S7")
    mode = forms.ChoiceField(choices=Mode.choices, initial=Mode.REGIONAL)
    operator_name = forms.CharField(max_length=200, required=False, label="Operator")
    origin_name = forms.CharField(max_length=200, label="From")
    destination_name = forms.CharField(max_length=200, label="To")
    departure_planned = forms.DateTimeField(
        label="Departure", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    arrival_planned = forms.DateTimeField(
        label="Arrival", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    message = forms.CharField(
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": MESSAGE_MAX_LENGTH}),
        label="Status message",
    )
    visibility = forms.ChoiceField(choices=Visibility.choices, initial=Visibility.PUBLIC)
    purpose = forms.ChoiceField(choices=Purpose.choices, initial=Purpose.PRIVATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        departure, arrival = data.get("departure_planned"), data.get("arrival_planned")
        if departure and arrival and arrival <= departure:
            self.add_error("arrival_planned", "The arrival must be after the departure.")
        return data
