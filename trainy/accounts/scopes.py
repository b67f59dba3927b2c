"""The scopes of the API's tokens, personal access tokens and OAuth2 apps alike.

A module of its own, without models, so that settings.py can build django-oauth-toolkit's
OAUTH2_PROVIDER["SCOPES"] from it while the app registry is not ready yet: the enum is the one
list of scopes for both kinds of token."""

from __future__ import annotations

from django.db import models


class Scope(models.TextChoices):
    """What a token may do (README "API" lists which operation needs which)."""

    READ = "read", "Read journeys, stations and the profile"
    CHECKINS_WRITE = "checkins:write", "Check in, edit and delete journeys"
    SOCIAL = "social", "Follow, like and block"
    # Settings are the traveller's own, not social: a script that only changes settings (a
    # default visibility, a privacy period) needs no right to follow or block anyone.
    SETTINGS = "settings", "Change the profile's settings"
    EXPORTS = "exports", "Start and download exports"
    WEBHOOKS = "webhooks", "Manage webhooks"
