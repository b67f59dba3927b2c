from __future__ import annotations

from typing import Any

from django import forms

from checkins.models import Mode

MIN_QUERY = 2


class StationSearchForm(forms.Form):
    q = forms.CharField(max_length=100, required=False, label="Station")
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lon = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("lat") is None) != (data.get("lon") is None):
            raise forms.ValidationError("A position needs both a latitude and a longitude.")
        return data


class BoardForm(forms.Form):
    """When and what the departure board shows. Times are the feed's local time."""

    at = forms.DateTimeField(
        required=False,
        label="Date and time",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    mode = forms.MultipleChoiceField(
        choices=Mode.choices, required=False, widget=forms.CheckboxSelectMultiple, label="Modes"
    )
    earlier = forms.BooleanField(required=False, widget=forms.HiddenInput)
