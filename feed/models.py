from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A traveller. Signs in locally or through GitLab."""

    display_name = models.CharField(max_length=150, blank=True)
    # Set from GitLab at sign-in; empty means initials are shown instead.
    avatar_url = models.URLField(max_length=500, blank=True)
    # What a new check-in's visibility starts as (one of checkins.models.Visibility).
    default_visibility = models.CharField(max_length=20, default="public")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def initials(self) -> str:
        words = self.name.replace("_", " ").replace(".", " ").split()
        return "".join(word[0] for word in words[:2]).upper() or "?"
