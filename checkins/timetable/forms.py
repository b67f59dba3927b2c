from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings

from checkins.models import Mode
from checkins.timetable.importer import FEED_NAME
from checkins.timetable.selectors import MAX_QUERY_LENGTH, MAX_QUERY_WORDS
from trainy.fetch import size_text
from trainy.forms import BoundedDateTimeField

MIN_QUERY = 2


def station_query_field(**kwargs: Any) -> forms.CharField:
    return forms.CharField(
        max_length=MAX_QUERY_LENGTH,
        required=False,
        error_messages={
            "max_length": f"Type at most {MAX_QUERY_LENGTH} characters of the station's name."
        },
        **kwargs,
    )


def clean_station_query(text: str) -> str:
    text = text.strip()
    if len(text.split()) > MAX_QUERY_WORDS:
        raise forms.ValidationError(
            f"Type at most {MAX_QUERY_WORDS} words of the station's name.", code="too_many_words"
        )
    return text


class StationSearchForm(forms.Form):
    q = station_query_field(label="Station")
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lon = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)

    def clean_q(self) -> str:
        return clean_station_query(self.cleaned_data.get("q") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("lat") is None) != (data.get("lon") is None):
            raise forms.ValidationError("A position needs both a latitude and a longitude.")
        return data


class StationSuggestForm(forms.Form):
    """A place field of the manual check-in form asking for stations as it is typed."""

    field = forms.ChoiceField(choices=[("origin", "origin"), ("destination", "destination")])
    origin_name = station_query_field()
    destination_name = station_query_field()

    def clean_origin_name(self) -> str:
        return clean_station_query(self.cleaned_data.get("origin_name") or "")

    def clean_destination_name(self) -> str:
        return clean_station_query(self.cleaned_data.get("destination_name") or "")

    def query(self) -> str:
        """The typed text of the field asked about (a valid form)."""
        return str(self.cleaned_data[f"{self.cleaned_data['field']}_name"])


class BoardForm(forms.Form):
    """When and what the departure board shows. Times are the feed's local time."""

    at = BoundedDateTimeField(
        required=False,
        label="Date and time",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )
    mode = forms.MultipleChoiceField(
        choices=Mode.choices, required=False, widget=forms.CheckboxSelectMultiple, label="Modes"
    )
    earlier = forms.BooleanField(required=False, widget=forms.HiddenInput)


class FeedImportForm(forms.Form):
    """The admin's "Import a timetable": a feed name, and a zip to upload or a URL to fetch."""

    feed_name = forms.RegexField(
        regex=FEED_NAME,
        max_length=64,
        label="Feed name",
        help_text="Lower-case letters, digits and dashes, e.g. db-fv. An existing feed of this "
        "name gets a new version, switched to once it is complete and valid.",
        error_messages={"invalid": "Use lower-case letters, digits and dashes (e.g. db-fv)."},
    )
    file = forms.FileField(required=False, label="GTFS zip")
    url = forms.URLField(
        required=False,
        label="or its URL",
        max_length=1000,
        assume_scheme="https",
        help_text="An http(s) address the workers can fetch the zip from.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = size_text(settings.TRAINY_IMPORT_MAX_UPLOAD_BYTES)
        self.fields["file"].help_text = f"A GTFS feed as a .zip file, up to {limit}."

    def clean_file(self) -> Any:
        # Larger feeds are imported from a URL: an upload is held in memory and in the database.
        upload = self.cleaned_data.get("file")
        limit = settings.TRAINY_IMPORT_MAX_UPLOAD_BYTES
        if upload is not None and upload.size > limit:
            raise forms.ValidationError(
                "The file is %(size)s, more than the limit of %(limit)s "
                "(TRAINY_IMPORT_MAX_UPLOAD_BYTES): give its URL instead.",
                params={"size": size_text(upload.size), "limit": size_text(limit)},
            )
        return upload

    def clean_url(self) -> str:
        url = self.cleaned_data.get("url") or ""
        if url and urlsplit(url).scheme not in ("http", "https"):
            raise forms.ValidationError("Only http and https URLs can be fetched.")
        return url

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_file, has_url = bool(data.get("file")), bool(data.get("url"))
        if "file" not in data or "url" not in data:
            return data  # one of them was refused already, with its own message
        if has_file and has_url:
            raise forms.ValidationError("Give either a file or a URL, not both.")
        if not has_file and not has_url:
            raise forms.ValidationError("Give a GTFS zip to upload or the URL to fetch it from.")
        return data
