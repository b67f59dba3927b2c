from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Travellers: the user model, sign-in (local and through GitLab), the browsers they are
    signed in on, and their settings. Social features import this app; it imports none of
    them (STYLE.md 6a)."""

    name = "trainy.accounts"
    label = "accounts"
