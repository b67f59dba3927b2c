"""The export form: the statistics page's range and filters, plus format, columns and CSV
separator."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from stats.exports.columns import COLUMNS, DEFAULT_COLUMNS
from stats.exports.options import FORMATS, SEPARATORS, ExportOptions
from stats.forms import StatsFilterForm

# The formats whose columns the traveller picks.
TABULAR = {"csv", "xlsx", "pdf"}


class ExportForm(StatsFilterForm):
    format = forms.ChoiceField(
        choices=[(key, kind.label) for key, kind in FORMATS.items()],
        initial="csv",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "There is no export format “%(value)s”."},
    )
    columns = forms.MultipleChoiceField(
        choices=[(column.key, column.label) for column in COLUMNS],
        initial=list(DEFAULT_COLUMNS),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For CSV, XLSX and PDF; JSON has every field, the report its own layout.",
        error_messages={"invalid_choice": "There is no column “%(value)s”."},
    )
    separator = forms.ChoiceField(
        choices=SEPARATORS.items(),
        initial=",",
        label="CSV separator",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "“%(value)s” is not a CSV separator we offer."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["purpose"].error_messages["invalid_choice"] = "There is no purpose “%(value)s”."
        self.fields["mode"].error_messages["invalid_choice"] = "There is no mode “%(value)s”."

    def clean(self) -> dict:
        data = super().clean()
        if data.get("format") in TABULAR and not data.get("columns"):
            self.add_error("columns", "Choose at least one column.")
        return data

    def options(self) -> ExportOptions:
        """What a valid form asks for."""
        data = self.cleaned_data
        return ExportOptions(
            format=data["format"],
            criteria=self.criteria(),
            columns=tuple(data.get("columns") or DEFAULT_COLUMNS),
            separator=data.get("separator") or ",",
            period=data.get("period") or "custom",
        )


def with_defaults(query: QueryDict) -> QueryDict:
    """A query string (a link from the statistics page, the "Show totals" button) completed
    with the form's initial format, columns and separator, so that it validates as a whole."""
    data = query.copy()
    if not data.get("period") and not data.get("start") and not data.get("end"):
        data["period"] = "this-year"
    if not data.get("format"):
        data["format"] = "csv"
    if "columns" not in data:
        data.setlist("columns", list(DEFAULT_COLUMNS))
    if not data.get("separator"):
        data["separator"] = ","
    return data
