from __future__ import annotations

from django import forms


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
