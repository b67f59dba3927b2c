"""Form helpers shared by every app.

Dates and times within the range Trainy can compute with: Python's dates end at the year 9999
and the time zones' conversions fail near both ends, so a date a user types is held to a range
where adding a day or moving to UTC always works, and a date outside it gets a form error that
says the range instead of a server error.

And the one way a view shows a service's ValidationError on its form (``add_service_errors``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form that asked for the change: each message next
    to its field when the form has that field, the rest (messages without a field, or naming a
    field this form does not show) at the top of the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


def out_of_range() -> ValidationError:
    return ValidationError(
        f"Pick a date between {EARLIEST:%-d %b %Y} and {LATEST:%-d %b %Y}.",
        code="out_of_range",
    )


def _check(day: date) -> None:
    if not EARLIEST <= day <= LATEST:
        raise out_of_range()


def validate_in_range(value: date) -> None:
    """A field validator (a form's, or an API serializer's): the date, or a moment's date, is
    from EARLIEST to LATEST."""
    _check(value.date() if isinstance(value, datetime) else value)


class BoundedDateField(forms.DateField):
    """A DateField for dates from EARLIEST to LATEST (the date picker offers only those)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            forms.DateInput(
                attrs={"type": "date", "min": EARLIEST.isoformat(), "max": LATEST.isoformat()}
            ),
        )
        super().__init__(**kwargs)

    def validate(self, value: date | None) -> None:
        super().validate(value)
        if value is not None:
            _check(value)


class BoundedDateTimeField(forms.DateTimeField):
    """A DateTimeField for moments from EARLIEST to LATEST. The range is checked before the
    value is made aware, where a moment near the ends would overflow."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(
                attrs={
                    "type": "datetime-local",
                    "min": f"{EARLIEST.isoformat()}T00:00",
                    "max": f"{LATEST.isoformat()}T23:59",
                },
                # What <input type="datetime-local"> reads and writes.
                format="%Y-%m-%dT%H:%M",
            ),
        )
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> datetime | None:
        try:
            result = super().to_python(value)
        except ValidationError:
            # Near the ends of the calendar, making the moment aware fails first, with a
            # message about time zones; the range is the real problem.
            year = re.match(r"\s*(\d{1,4})-", value) if isinstance(value, str) else None
            if year and not EARLIEST.year <= int(year.group(1)) <= LATEST.year:
                raise out_of_range() from None
            raise
        if result is not None:
            _check(result.date())
        return result
