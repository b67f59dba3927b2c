from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.urls import reverse_lazy
from django.utils.text import format_lazy

from checkins.models import MESSAGE_MAX_LENGTH, Mode, Purpose, Visibility
from checkins.services.checkins import Place
from checkins.services.imports import size_refusal
from stats.forms import StatsFilterForm
from trainy.forms import BoundedDateTimeField

HIDDEN = forms.HiddenInput
ZONE_NAME_MAX_LENGTH = 64


def zone_named(name: str | None) -> ZoneInfo | None:
    """The time zone of that IANA name, or None for an empty, unknown or overlong one (the
    longest IANA names have about 30 characters; the name becomes a file path)."""
    if not name or len(name) > ZONE_NAME_MAX_LENGTH:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def message_field() -> forms.CharField:
    return forms.CharField(
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": MESSAGE_MAX_LENGTH}),
        label="Status message",
    )


def _suggest(field: str) -> dict[str, Any]:
    """htmx attributes: suggest stations (with their coordinates) while a place is typed."""
    return {
        "autocomplete": "off",
        "hx-get": format_lazy("{}?field={}", reverse_lazy("timetable:suggest"), field),
        "hx-trigger": "input changed delay:250ms",
        "hx-target": f"#{field}-suggestions",
        "aria-describedby": f"{field}-suggestions",
    }


class ManualCheckInForm(forms.Form):
    """A journey typed in by hand, for trips the timetable does not know."""

    line_name = forms.CharField(max_length=100, label="Line", help_text="e.g. ICE 1601 or S7")
    mode = forms.ChoiceField(choices=Mode.choices, initial=Mode.REGIONAL)
    operator_name = forms.CharField(max_length=200, required=False, label="Operator")
    origin_name = forms.CharField(
        max_length=200, label="From", widget=forms.TextInput(attrs=_suggest("origin"))
    )
    destination_name = forms.CharField(
        max_length=200, label="To", widget=forms.TextInput(attrs=_suggest("destination"))
    )
    departure_planned = BoundedDateTimeField(label="Departure")
    arrival_planned = BoundedDateTimeField(label="Arrival")
    message = message_field()
    visibility = forms.ChoiceField(choices=Visibility.choices, initial=Visibility.PUBLIC)
    purpose = forms.ChoiceField(choices=Purpose.choices, initial=Purpose.PRIVATE)
    # Filled in when the form comes from a trip page: where the stops are, and the time zone
    # the times are written in (the feed's, not necessarily the site's).
    origin_lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=HIDDEN)
    origin_lon = forms.FloatField(required=False, min_value=-180, max_value=180, widget=HIDDEN)
    destination_lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=HIDDEN)
    destination_lon = forms.FloatField(required=False, min_value=-180, max_value=180, widget=HIDDEN)
    time_zone = forms.CharField(required=False, max_length=ZONE_NAME_MAX_LENGTH, widget=HIDDEN)
    idempotency_key = forms.UUIDField(required=False, widget=HIDDEN)
    check_in_anyway = forms.BooleanField(required=False, widget=HIDDEN)

    def checkin_fields(self) -> dict[str, Any]:
        """The cleaned data as checkin_create's keyword arguments."""
        data = dict(self.cleaned_data)
        data["origin"] = Place(
            data.pop("origin_name"), data.pop("origin_lat"), data.pop("origin_lon")
        )
        data["destination"] = Place(
            data.pop("destination_name"), data.pop("destination_lat"), data.pop("destination_lon")
        )
        data["allow_overlap"] = data.pop("check_in_anyway", False)
        return data

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        departure, arrival = data.get("departure_planned"), data.get("arrival_planned")
        if departure and arrival and arrival <= departure:
            self.add_error("arrival_planned", "The arrival must be after the departure.")
        return data


class TripCheckInForm(forms.Form):
    """Where the traveller gets off a timetable trip, and what to say about it."""

    origin_seq = forms.IntegerField(widget=HIDDEN)
    destination_seq = forms.IntegerField(label="Where do you get off?")
    message = message_field()
    visibility = forms.ChoiceField(choices=Visibility.choices)
    purpose = forms.ChoiceField(choices=Purpose.choices, initial=Purpose.PRIVATE)
    idempotency_key = forms.UUIDField(widget=HIDDEN)
    check_in_anyway = forms.BooleanField(required=False, widget=HIDDEN)


class HistoryFilterForm(StatsFilterForm):
    """The filter of "My journeys": the statistics' own (the same parameters, checks and
    messages), over all time by default, plus the cursor of the page."""

    default_period = "all"
    after = forms.CharField(required=False, widget=HIDDEN)


class CheckInEditForm(forms.Form):
    message = message_field()
    visibility = forms.ChoiceField(choices=Visibility.choices)
    purpose = forms.ChoiceField(choices=Purpose.choices)
    destination_seq = forms.TypedChoiceField(
        coerce=int, required=False, label="Exit stop", empty_value=None
    )
    departure_planned = BoundedDateTimeField(label="Departure")
    arrival_planned = BoundedDateTimeField(label="Arrival")
    ticket_price = forms.DecimalField(
        label="Ticket price",
        required=False,
        min_value=0,
        max_digits=9,
        decimal_places=2,
        help_text="For business-trip reports.",
    )
    cost_centre = forms.CharField(label="Cost centre or project", required=False, max_length=100)

    def __init__(
        self, *args: Any, exits: list[tuple[int, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if exits:
            self.fields["destination_seq"].choices = exits  # type: ignore[attr-defined]
        else:
            del self.fields["destination_seq"]


class JourneyImportForm(forms.Form):
    """An export of another service to import: the file, and the visibility of journeys whose
    file says none."""

    file = forms.FileField(
        label="Export file",
        help_text="Träwelling: the JSON or CSV export. Travelynx: history.json, history.csv or "
        "the account export. Another Trainy: its archive (ZIP). The format is recognised from "
        "the content.",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".json,.csv,.zip,application/json,text/csv,application/zip"}
        ),
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices,
        initial=Visibility.PRIVATE,
        label="Visibility",
        help_text="For journeys whose file has none (the CSV exports). The JSON exports keep "
        "each journey's own, never wider than it was there.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        refusal = size_refusal(upload.size)
        if refusal:
            raise forms.ValidationError(refusal)
        return upload
