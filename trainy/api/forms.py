"""Query parameters read by the pages' own forms, so that an operation and its page accept the
same input with the same messages (the history filter, the station search)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.utils import ErrorDict
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings


def form_errors(errors: ErrorDict) -> dict[str, list[str]]:
    """A form's errors by field, its non-field ones under DRF's non-field key."""
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name): [
            str(message) for message in messages
        ]
        for name, messages in errors.items()
    }


def valid_form(form: forms.Form) -> dict[str, Any]:
    """The cleaned data of ``form``; a 400 in the API's format (per field) if it is not valid."""
    if not form.is_valid():
        raise ValidationError(form_errors(form.errors))
    return form.cleaned_data
