"""A service's ValidationError shown on the form that asked for the change."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from trainy.forms import add_service_errors


class JourneyForm(forms.Form):
    departure = forms.CharField(required=False)
    arrival = forms.CharField(required=False)


def checked(data: dict[str, str] | None = None) -> JourneyForm:
    form = JourneyForm(data or {"departure": "08:00", "arrival": "07:00"})
    assert form.is_valid()
    return form


def test_an_error_on_a_field_of_the_form_stands_next_to_that_field():
    form = checked()
    add_service_errors(
        form, ValidationError({"arrival": "The arrival must be after the departure."})
    )
    assert form.errors == {"arrival": ["The arrival must be after the departure."]}
    assert "arrival" not in form.cleaned_data


def test_an_error_without_a_field_stands_at_the_top_of_the_form():
    form = checked()
    add_service_errors(form, ValidationError(["The timetable has no times.", "Try another day."]))
    assert form.non_field_errors() == ["The timetable has no times.", "Try another day."]
    assert set(form.errors) == {NON_FIELD_ERRORS}


def test_an_error_on_a_field_the_form_lacks_stands_at_the_top_of_the_form():
    form = checked()
    add_service_errors(
        form,
        ValidationError(
            {
                "source_url": "Only http and https URLs can be fetched.",
                "departure": "Pick a time.",
                NON_FIELD_ERRORS: "Not on that day.",
            }
        ),
    )
    assert sorted(form.non_field_errors()) == [
        "Not on that day.",
        "Only http and https URLs can be fetched.",
    ]
    assert form.errors["departure"] == ["Pick a time."]
