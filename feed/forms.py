from __future__ import annotations

from django import forms

from feed.models import WEBHOOK_URL_MAX_LENGTH, WebhookEvent


class MarkReadForm(forms.Form):
    """The notifications page's "Mark all as read"."""

    # The newest notification the page showed: any that came in after it was drawn stays
    # unread. The bounds are those of the ids.
    seen = forms.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        widget=forms.HiddenInput,
        error_messages={
            problem: "Reload the notifications and try again."
            for problem in ("required", "invalid", "min_value", "max_value")
        },
    )


class WebhookEndpointForm(forms.Form):
    """The webhooks page's "Add a webhook" (the service checks the rest: https, a public
    address, how many a traveller may have)."""

    url = forms.CharField(
        label="URL",
        max_length=WEBHOOK_URL_MAX_LENGTH,
        widget=forms.URLInput(attrs={"placeholder": "https://example.org/trainy-hook"}),
        error_messages={
            "required": "Enter the URL to send the events to.",
            "max_length": f"The URL must be at most {WEBHOOK_URL_MAX_LENGTH} characters long.",
        },
    )
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=WebhookEvent.values,
        error_messages={
            "required": "Choose at least one event.",
            "invalid_choice": "Choose events from the list.",
        },
    )
