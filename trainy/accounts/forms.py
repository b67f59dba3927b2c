"""The sign-in form (allauth's, through ACCOUNT_FORMS) and the settings page's form."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms

from checkins.models import Visibility
from trainy.accounts.models import Scope


class LoginForm(AllauthLoginForm):
    """allauth's sign-in form with a label that says what "login" means."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "Username or email"


class SettingsForm(forms.Form):
    default_visibility = forms.ChoiceField(
        label="New journeys are", choices=Visibility.choices, initial=Visibility.PUBLIC
    )
    private_profile = forms.BooleanField(
        label="Private profile",
        required=False,
        help_text="Only followers you accept see your journeys; following you needs your yes.",
    )
    likes_enabled = forms.BooleanField(
        label="Others may like my journeys", required=False, initial=True
    )
    leaderboard_opt_out = forms.BooleanField(
        label="Leave me out of the leaderboards", required=False
    )
    private_after_days = forms.IntegerField(
        label="Make my journeys private after … days",
        required=False,
        min_value=1,
        max_value=3650,
        help_text="Leave empty to keep them as they are.",
    )


# How long a new personal access token lasts, in days ("" : until revoked).
TOKEN_EXPIRIES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "No expiry")]


class AccessTokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What uses it, e.g. “phone shortcut”.",
    )
    scopes = forms.MultipleChoiceField(
        label="May",
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one scope."},
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires after",
        choices=TOKEN_EXPIRIES,
        coerce=int,
        empty_value=None,
        required=False,
        initial="90",
    )


class OAuthAppForm(forms.Form):
    """Registering an OAuth2 app (services.oauth_app_create checks the URIs themselves)."""

    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="Travellers see it when the app asks for access.",
    )
    redirect_uris = forms.CharField(
        label="Redirect URIs",
        # Ten URIs of a good length; the service counts them.
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line. Trainy sends the traveller back to one of these exactly.",
    )
    client_type = forms.ChoiceField(
        label="Kind",
        choices=[
            ("confidential", "Confidential: a server that can keep a client secret"),
            ("public", "Public: a phone, desktop or browser app, without a secret"),
        ],
        widget=forms.RadioSelect,
        initial="confidential",
    )

    def clean_redirect_uris(self) -> list[str]:
        return self.cleaned_data["redirect_uris"].split()
