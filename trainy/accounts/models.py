"""Travellers (the user model) and the browsers they are signed in on.

Both tables keep the names they had when these models lived in the feed app (``feed_user``,
``feed_usersession``): the move changed where the code lives, not the data
(migrations/0001_initial.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

# The domain core's enum (checkins is no social feature, STYLE 6a): a traveller's default is
# one of the visibilities a check-in can have.
from checkins.models import Visibility

# Re-exported: the scopes live apart so that settings.py can read them (see scopes.py).
from trainy.accounts.scopes import Scope as Scope
from trainy.models import TimeStampedModel


class User(AbstractUser):
    """A traveller. Signs in locally or through GitLab."""

    display_name = models.CharField(max_length=150, blank=True)
    # Set from GitLab at sign-in; empty means initials are shown instead.
    avatar_url = models.URLField(max_length=500, blank=True)
    # What a new check-in's visibility starts as.
    default_visibility = models.CharField(
        max_length=20, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    # Only accepted followers see anything of a private profile's journeys; follows become
    # requests to accept.
    private_profile = models.BooleanField(default=False)
    likes_enabled = models.BooleanField(default=True)
    # Journeys older than this many days are made private by a periodic task; None: never.
    private_after_days = models.PositiveSmallIntegerField(null=True, blank=True)
    # Left out of the points leaderboards (their own points still show to them).
    leaderboard_opt_out = models.BooleanField(default=False)
    # The secret in the URL of the traveller's calendar feed (ICS); empty: no feed. Replacing
    # it revokes the old URL.
    calendar_token = models.CharField(max_length=64, blank=True, db_index=True)
    # GitLab sign-in (accounts.gitlab): when GitLab was last asked about this user, at a sign-in or
    # by the periodic re-check, whatever it answered. None for the accounts GitLab does not
    # vouch for (local ones, or ones whose GitLab standing has ended): these are never re-checked.
    gitlab_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When GitLab last answered for this user, confirming their admin rights (or their absence).
    gitlab_confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Whether the traveller has any webhook endpoint (feed.services.webhooks keeps it as its
    # endpoints are made and deleted): False lets every check-in skip asking for endpoints,
    # which most travellers never have. True asks (a paused endpoint's owner asks for nothing).
    has_webhooks = models.BooleanField(default=False, editable=False)
    # The traveller asked for their account to be deleted: it goes, with everything of theirs,
    # at this moment (services.accounts_delete_due) unless they sign in before. None: not asked.
    deletion_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Its verbose names kept (django-stubs does not declare the abstract model's Meta).
    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        # The table the model had in the feed app (see the module's docstring).
        db_table = "feed_user"
        constraints = [
            models.CheckConstraint(
                condition=Q(default_visibility__in=Visibility.values),
                name="user_default_visibility_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def initials(self) -> str:
        words = self.name.replace("_", " ").replace(".", " ").split()
        return "".join(word[0] for word in words[:2]).upper() or "?"


class UserSession(TimeStampedModel):
    """A browser a traveller is signed in on, so that they can see where and sign out there.
    Rows whose Django session has ended are ignored (and cleaned up when listed)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="browser_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    last_seen = models.DateTimeField()

    class Meta:
        db_table = "feed_usersession"

    def __str__(self) -> str:
        return f"{self.user} on {self.user_agent[:40] or 'a browser'}"


class AccessToken(TimeStampedModel):
    """A personal access token for the API (``Authorization: Bearer trainy_pat_…``).

    Only the SHA-256 of the secret is kept: the secret is shown once, when the token is made
    (services.token_create), and a leaked table does not give anyone a way in. The secret has
    32 random bytes, so a plain hash (no salt, no slow hash) cannot be reversed by guessing,
    and a lookup by hash is one indexed query."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(max_length=100)
    # Hex SHA-256 of the whole secret, prefix included.
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The secret's last characters, so that a traveller can tell which token a script holds.
    hint = models.CharField(max_length=8, editable=False)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Set at most once a minute (services.token_used): a busy script costs no write per request.
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="accesstoken_name_not_empty"),
        ]
        indexes = [
            # The settings page lists a traveller's tokens, newest first.
            models.Index(fields=["user", "-created_at"], name="accesstoken_user_created"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (…{self.hint})"
